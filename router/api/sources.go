package api

import (
	"fmt"
	"net/http"
	"regexp"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/ingest"
	"github.com/auditbus/auditbus/router/sources"
)

// clusterName is what ?cluster= and ?product= accept: names that stay
// valid as CloudEvents extension values and subject tokens.
var clusterName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// convert turns a request body into events; one per source endpoint.
type convert func(r *http.Request, body []byte) ([]event.Event, error)

func (s *Server) cloudAudit(r *http.Request, body []byte) ([]event.Event, error) {
	return sources.CloudAudit(body, s.opts.redactor)
}

func (s *Server) cts(r *http.Request, body []byte) ([]event.Event, error) {
	return sources.CTS(body, s.opts.redactor)
}

// k8sAudit takes the cluster from the path (/v1/sources/k8s-audit/NAME),
// else ?cluster= (required unless records name their cluster), and
// ?product= (default k8s), as the apiserver's audit webhook config points
// at one URL per cluster. The path form is what a kubeconfig can carry:
// client-go drops a server URL's query string.
func (s *Server) k8sAudit(r *http.Request, body []byte) ([]event.Event, error) {
	q := r.URL.Query()
	cluster, product := q.Get("cluster"), q.Get("product")
	if p := r.PathValue("cluster"); p != "" {
		if cluster != "" && cluster != p {
			return nil, &ingest.Error{Kind: errInvalidParameter, Index: -1,
				Msg: fmt.Sprintf("cluster %s in the path and %s in ?cluster= differ", ingest.Quote(p), ingest.Quote(cluster))}
		}
		cluster = p
	}
	if err := CheckK8sParams(cluster, product); err != nil {
		return nil, err
	}
	return sources.K8sAudit(body, cluster, product, s.opts.redactor)
}

// CheckK8sParams refuses a Kubernetes audit source's cluster or product
// ("" for none) that would not stay valid as an extension value and a
// subject token, with an *ingest.Error naming it.
func CheckK8sParams(cluster, product string) error {
	for _, p := range []struct{ name, value string }{{"cluster", cluster}, {"product", product}} {
		if p.value != "" && !clusterName.MatchString(p.value) {
			return &ingest.Error{Kind: errInvalidParameter, Index: -1,
				Msg: fmt.Sprintf("%s %s: want [A-Za-z0-9][A-Za-z0-9._-]{0,127}", p.name, ingest.Quote(p.value))}
		}
	}
	return nil
}

// postSource serves a source endpoint: read the body within the limit,
// convert every record (all or nothing), store, answer 202 after every ack.
func (s *Server) postSource(conv convert) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		bus, ok := s.busParam(w, r)
		if !ok || !s.admit(w, r) {
			return
		}
		if err := checkRecordsContentType(r); err != nil {
			s.reject(w, http.StatusUnsupportedMediaType, CodeUnsupportedMedia, err.Error())
			return
		}
		body, err := ingest.ReadBody(r, s.opts.maxBody)
		if err != nil {
			s.rejectErr(w, err)
			return
		}
		events, err := conv(r, body)
		if err != nil {
			s.rejectErr(w, err)
			return
		}
		s.store(w, r.Context(), bus, events)
	}
}

// checkRecordsContentType accepts JSON and NDJSON bodies, and none at all
// (curl -d and many shippers send none or form encoding by default).
func checkRecordsContentType(r *http.Request) error {
	switch mt := mediaType(r.Header.Get("Content-Type")); mt {
	case "", "application/json", "application/x-ndjson", "application/jsonl", "application/x-www-form-urlencoded", "text/plain":
		return nil
	default:
		return fmt.Errorf("Content-Type %q: send the records as application/json (object or array) or application/x-ndjson", mt)
	}
}
