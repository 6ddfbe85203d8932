package router_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/auditbus/auditbus/router"
)

// TestAcceptedEventsAlwaysEndSomewhere is the property behind "nothing
// accepted and then dropped": of random events, hostile ones included, each
// one /v1/events answers 202 for ends at every target of a catch-all rule
// or in the DLQ for that target; never only in a log line. Every other
// answer is a 4xx.
func TestAcceptedEventsAlwaysEndSomewhere(t *testing.T) {
	binary, structured := newIDSink(t, false), newIDSink(t, true)
	s := start(t, t.TempDir(), nil, writeRules(t, fmt.Sprintf(`name: everything
pattern: {specversion: ["1.0"]}
targets:
  - id: binary
    webhook: {url: %q}
  - id: structured
    webhook: {url: %q, format: cloudevents-structured}
`, binary.URL, structured.URL)))
	rng := rand.New(rand.NewPCG(10, 6))
	accepted := map[string]bool{}
	refused := 0
	for i := 0; i < 200; i++ {
		contentType, body, header := randomRequest(rng, i)
		status, _, answer := call(t, s, http.MethodPost, "/v1/events", contentType, []byte(body), header)
		switch {
		case status == http.StatusAccepted:
			ids, _ := answer["ids"].([]any)
			for _, id := range ids {
				accepted[tag(id.(string))] = true
			}
		case status >= 400 && status < 500:
			refused++
		default:
			t.Fatalf("request %d: answer %d %v, want 202 or a 4xx (body %.200q)", i, status, answer, body)
		}
	}
	if len(accepted) == 0 || refused == 0 {
		t.Fatalf("%d accepted, %d refused: the generator must produce both", len(accepted), refused)
	}
	waitFor(t, "every accepted event at each target or in its DLQ", func() (bool, string) {
		dead := dlqTags(t, s)
		for _, sink := range []*idSink{binary, structured} {
			got := sink.tags()
			for tg := range accepted {
				if !got[tg] && !dead[sink.target+"/"+tg] {
					return false, fmt.Sprintf("event %s neither at target %s nor in its DLQ", tg, sink.target)
				}
			}
		}
		return true, ""
	})
}

// tag is the unique prefix every generated id starts with ("p17-...").
func tag(id string) string {
	before, _, _ := strings.Cut(strings.TrimSpace(id), "-")
	return before
}

// idSink records the tags of the events it receives.
type idSink struct {
	*httptest.Server
	target string
	mu     sync.Mutex
	seen   map[string]bool
}

func newIDSink(t *testing.T, structured bool) *idSink {
	k := &idSink{target: "binary", seen: map[string]bool{}}
	if structured {
		k.target = "structured"
	}
	k.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := ceHeader(r.Header, "Ce-Id")
		if structured {
			var e struct{ ID string }
			b, _ := io.ReadAll(r.Body)
			_ = json.Unmarshal(b, &e)
			id = e.ID
		}
		k.mu.Lock()
		k.seen[tag(id)] = true
		k.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(k.Close)
	return k
}

func (k *idSink) tags() map[string]bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[string]bool, len(k.seen))
	for tg := range k.seen {
		out[tg] = true
	}
	return out
}

// dlqTags lists the dead letters as "target/tag".
func dlqTags(t *testing.T, s *router.Server) map[string]bool {
	out := map[string]bool{}
	next := ""
	for {
		path := "/v1/dlq?limit=200" + next
		status, _, answer := call(t, s, http.MethodGet, path, "", nil, nil)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, status, answer)
		}
		entries, _ := answer["entries"].([]any)
		for _, e := range entries {
			m := e.(map[string]any)
			ev, _ := m["event"].(map[string]any)
			id, _ := ev["id"].(string)
			out[fmt.Sprint(m["target"])+"/"+tag(id)] = true
		}
		n, ok := answer["next"].(float64)
		if !ok || len(entries) == 0 {
			return out
		}
		next = fmt.Sprintf("&next=%d", int64(n))
	}
}

// ordinary and hostile runes: one in eight is a rune a producer should
// not send in an attribute, or one that is easy to mishandle.
var (
	ordinary = []rune{'a', 'Z', '0', ' ', '%', '"', '\\', '/', ':', '.', 'é', '中', 0x2028, 0xfeff, '😀'}
	hostile  = []rune{'\t', '\n', '\r', 0, 0x1b, 0x7f, 0x85, 0x9f}
)

func randomText(rng *rand.Rand, max int) string {
	var b strings.Builder
	for n := rng.IntN(max + 1); n > 0; n-- {
		if rng.IntN(8) == 0 {
			b.WriteRune(hostile[rng.IntN(len(hostile))])
		} else {
			b.WriteRune(ordinary[rng.IntN(len(ordinary))])
		}
	}
	return b.String()
}

// randomData is JSON text: nesting up to 120 levels (over the limit of
// 100 sometimes) or 10,000, numbers up to and past float64's range, hostile strings.
func randomData(rng *rand.Rand) string {
	depth := rng.IntN(8)
	switch rng.IntN(20) {
	case 0, 1, 2:
		depth = 90 + rng.IntN(30)
	case 3:
		depth = 10000 // what the router's own decoding cannot read
	}
	leaves := []string{`0`, `-1.5e3`, `1e308`, `1e400`, `-2e-400`, `123456789012345678901234567890`, `true`, `null`, `"x"`}
	text, _ := json.Marshal(randomText(rng, 6))
	leaves = append(leaves, string(text))
	v := leaves[rng.IntN(len(leaves))]
	for i := 0; i < depth; i++ {
		if rng.IntN(2) == 0 {
			v = "[" + v + "]"
		} else {
			v = `{"k":` + v + `}`
		}
	}
	return v
}

// randomAttrs are the string attributes of event i, hostile ones included.
func randomAttrs(rng *rand.Rand, i int) map[string]string {
	attrs := map[string]string{
		"id":     fmt.Sprintf("p%d-%s", i, randomText(rng, 4)),
		"source": []string{"/s", "urn:x:y", "https://x.example/a?b", "tke.cloud.tencent", "/s", "a b", "/s%zz", "/s"}[rng.IntN(8)],
		"type":   "t" + randomText(rng, 3),
	}
	if rng.IntN(2) == 0 {
		attrs["subject"] = randomText(rng, 5)
	}
	if rng.IntN(2) == 0 {
		attrs["principal"] = randomText(rng, 5)
	}
	return attrs
}

func structuredJSON(rng *rand.Rand, i int) string {
	members := []string{`"specversion":"1.0"`}
	for k, v := range randomAttrs(rng, i) {
		b, _ := json.Marshal(v)
		members = append(members, fmt.Sprintf("%q:%s", k, b))
	}
	switch rng.IntN(3) {
	case 0:
		members = append(members, `"data":`+randomData(rng))
	case 1:
		b, _ := json.Marshal(randomText(rng, 8))
		members = append(members, `"datacontenttype":"text/plain","data":`+string(b))
	}
	return "{" + strings.Join(members, ",") + "}"
}

func randomRequest(rng *rand.Rand, i int) (contentType, body string, header http.Header) {
	switch rng.IntN(3) {
	case 0:
		return "application/cloudevents+json", structuredJSON(rng, i), nil
	case 1:
		n := 1 + rng.IntN(3)
		parts := make([]string, n)
		for j := range parts {
			parts[j] = structuredJSON(rng, i*10+j+1000)
		}
		return "application/cloudevents-batch+json", "[" + strings.Join(parts, ",") + "]", nil
	}
	header = http.Header{"Ce-Specversion": {"1.0"}}
	for k, v := range randomAttrs(rng, i) {
		header.Set("Ce-"+k, percentEncodeHeader(v))
	}
	return []string{"application/json", "text/plain", "application/vnd.x+json", ""}[rng.IntN(4)], randomData(rng), header
}

// percentEncodeHeader encodes what the HTTP binding says must be encoded.
func percentEncodeHeader(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '%' || c == '"' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
