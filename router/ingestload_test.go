package router_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// ingestAnswer is what one POST /v1/events of the load got.
type ingestAnswer struct {
	id         string
	replica    int
	start, end time.Time
	status     int    // 0: no HTTP answer (connection refused or reset, timeout)
	retryAfter string // the answer's Retry-After header
	code       string // the answer's error_code
	err        error
}

func (a ingestAnswer) refused() bool { return a.status != http.StatusAccepted }

// ingestLoad posts single events, each with a new id, from several
// senders to every replica in turn until its context ends, recording
// every answer.
type ingestLoad struct {
	addrs  []string
	token  string
	client *http.Client
	// event is the body sent, an event whose id is idPlaceholder.
	event   []byte
	mu      sync.Mutex
	answers []ingestAnswer
}

const idPlaceholder = "ID-PLACEHOLDER"

func newIngestLoad(t *testing.T, token string, client *http.Client, addrs ...string) *ingestLoad {
	body, err := json.Marshal(auditEvent(t, idPlaceholder, "DeleteCluster", 0))
	if err != nil {
		t.Fatal(err)
	}
	return &ingestLoad{addrs: addrs, token: token, client: client, event: body}
}

// run sends with senders goroutines, pausing pause between a sender's
// requests, until ctx ends; it returns when every sender has stopped.
func (l *ingestLoad) run(ctx context.Context, senders int, pause time.Duration) {
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				l.send(fmt.Sprintf("kill-%d-%d", s, n), (s+n)%len(l.addrs))
				select {
				case <-ctx.Done():
				case <-time.After(pause):
				}
			}
		})
	}
	wg.Wait()
}

func (l *ingestLoad) send(id string, replica int) {
	body := bytes.Replace(l.event, []byte(idPlaceholder), []byte(id), 1)
	a := ingestAnswer{id: id, replica: replica, start: time.Now()}
	req, _ := http.NewRequest(http.MethodPost, "http://"+l.addrs[replica]+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/cloudevents+json")
	req.Header.Set("Authorization", "Bearer "+l.token)
	resp, err := l.client.Do(req)
	if err != nil {
		a.err = err
	} else {
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		a.status, a.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
		var out struct {
			Code string `json:"error_code"`
		}
		if json.Unmarshal(raw, &out) == nil {
			a.code = out.Code
		}
	}
	a.end = time.Now()
	l.mu.Lock()
	l.answers = append(l.answers, a)
	l.mu.Unlock()
}

func (l *ingestLoad) results() []ingestAnswer {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]ingestAnswer(nil), l.answers...)
	sort.Slice(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out
}

// fault is a kill the test made: when, and which replicas' refusals it
// explains (all of them for a NATS node).
type fault struct {
	name     string
	at       time.Time
	replicas []int
}

// refusalWindow is how long after a fault ingest was refused: from the
// fault to the end of the last refused request that started after it
// (and before the next fault), per replica; 0 when nothing was refused.
type refusalWindow struct {
	fault      fault
	perReplica map[int]time.Duration
	refused    int
}

// refusalWindows assigns every refused answer to the last fault before it
// began and measures the windows; refusals that no fault explains (before
// the first, or on a replica the fault did not touch) are returned apart.
func refusalWindows(answers []ingestAnswer, faults []fault) ([]refusalWindow, []ingestAnswer) {
	windows := make([]refusalWindow, len(faults))
	for i, f := range faults {
		windows[i] = refusalWindow{fault: f, perReplica: map[int]time.Duration{}}
	}
	var unexplained []ingestAnswer
	for _, a := range answers {
		if !a.refused() {
			continue
		}
		i := sort.Search(len(faults), func(i int) bool { return faults[i].at.After(a.start) }) - 1
		// A request in flight when a fault struck its replica belongs to
		// that fault.
		if i+1 < len(faults) && a.end.After(faults[i+1].at) && slices.Contains(faults[i+1].replicas, a.replica) {
			i++
		}
		if i < 0 || !slices.Contains(faults[i].replicas, a.replica) {
			unexplained = append(unexplained, a)
			continue
		}
		w := &windows[i]
		w.refused++
		w.perReplica[a.replica] = max(w.perReplica[a.replica], a.end.Sub(w.fault.at))
	}
	return windows, unexplained
}

func (w refusalWindow) longest() time.Duration {
	var d time.Duration
	for _, v := range w.perReplica {
		d = max(d, v)
	}
	return d
}

// answerKinds counts the answers by status (and error code), for the log
// and for checking that refusals are the clear ones.
func answerKinds(answers []ingestAnswer) string {
	kinds := map[string]int{}
	for _, a := range answers {
		k := fmt.Sprint(a.status)
		switch {
		case a.err != nil:
			k = "no answer"
		case a.code != "":
			k += " " + a.code
		}
		kinds[k]++
	}
	var parts []string
	for k, n := range kinds {
		parts = append(parts, fmt.Sprintf("%s: %d", k, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
