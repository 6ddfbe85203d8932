package sources

import (
	"fmt"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/sources/redacttest"
)

// TestRedactionCorpus runs every placement of the corpus through every
// source: no planted secret may reach an event's data, and every value a
// rule could need must.
func TestRedactionCorpus(t *testing.T) {
	corpus, err := redacttest.Corpus()
	if err != nil {
		t.Fatal(err)
	}
	if len(corpus) < 25 {
		t.Fatalf("corpus has %d placements, want at least 25", len(corpus))
	}
	r := NewRedactor(DefaultRedactKeys)
	sources := []struct {
		name    string
		convert func(redacttest.Placement, int) ([]event.Event, error)
	}{
		{"cloudaudit", func(p redacttest.Placement, i int) ([]event.Event, error) {
			return CloudAudit([]byte(p.CloudAudit(i)), r)
		}},
		{"cts", func(p redacttest.Placement, i int) ([]event.Event, error) { return CTS([]byte(p.CTS(i)), r) }},
		{"k8s", func(p redacttest.Placement, i int) ([]event.Event, error) {
			return K8sAudit([]byte(p.K8s(i)), "prod", "", r)
		}},
		{"redactor", func(p redacttest.Placement, i int) ([]event.Event, error) {
			data, err := r.JSON([]byte(p.Event(i)))
			e := event.New()
			e.DataEncoded = data
			return []event.Event{e}, err
		}},
	}
	for _, src := range sources {
		for i, p := range corpus {
			t.Run(fmt.Sprintf("%s/%s", src.name, p.Name), func(t *testing.T) {
				events, err := src.convert(p, i)
				if err != nil || len(events) != 1 {
					t.Fatalf("%d events, %v", len(events), err)
				}
				data := events[0].Data()
				if leaks := p.Leaks(data); len(leaks) > 0 {
					t.Errorf("secrets %q stored:\n%s", leaks, data)
				}
				if lost := p.Lost(data); len(lost) > 0 {
					t.Errorf("ordinary values %q lost:\n%s", lost, data)
				}
			})
		}
	}
}
