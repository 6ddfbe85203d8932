package router_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/topics"
)

// TestTopicCredentialsHidden: a subscription endpoint's password and query
// values are never answered (every read and every write's answer shows
// them as the rules API shows webhook URLs), and a topic or subscription
// read back and sent again is refused rather than storing the mask over
// the real credentials.
func TestTopicCredentialsHidden(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	const endpoint = "https://u:pw-real@hook.example/x?token=tok-real"
	const shown = "https://u:***@hook.example/x?token=***"
	topic := `{"subscriptions":[{"id":"soc","protocol":"https","endpoint":"` + endpoint + `","confirm":false}]}`
	sub := `{"protocol":"https","endpoint":"` + endpoint + `","confirm":false}`
	answers := map[string]map[string]any{}
	for _, c := range []struct{ name, method, path, body string }{
		{"PUT topic", "PUT", "/v1/topics/sec", topic},
		{"PUT subscription", "PUT", "/v1/topics/sec/subscriptions/two", sub},
		{"GET topics", "GET", "/v1/topics", ""},
		{"GET topic", "GET", "/v1/topics/sec", ""},
		{"GET subscriptions", "GET", "/v1/topics/sec/subscriptions", ""},
	} {
		status, _, out := call(t, s, c.method, c.path, "application/json", []byte(c.body), nil)
		raw, _ := json.Marshal(out)
		if status >= 300 || strings.Contains(string(raw), "-real") || !strings.Contains(string(raw), shown) {
			t.Errorf("%s: %d %s, want %s and no credential", c.name, status, raw, shown)
		}
		answers[c.name] = out
	}
	readBack, _ := json.Marshal(answers["GET topic"])
	subs := answers["GET subscriptions"]["subscriptions"].([]any)
	subBack, _ := json.Marshal(subs[0])
	for _, c := range []struct{ name, path, body string }{
		{"topic read back", "/v1/topics/sec", string(dropFields(t, readBack, "name", "urn", "origin", "revision"))},
		{"subscription read back", "/v1/topics/sec/subscriptions/soc", string(dropFields(t, subBack, "id"))},
	} {
		status, _, out := call(t, s, "PUT", c.path, "application/json", []byte(c.body), nil)
		if status != 400 || out["error_code"] != "AB.1020" || !strings.Contains(out["error_msg"].(string), "real credentials") {
			t.Errorf("%s: PUT %s: %d %v, want 400 AB.1020 asking for the real credentials", c.name, c.body, status, out)
		}
	}
	// What is stored still has the real credentials.
	js, err := jetstream.New(s.NATS())
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(context.Background(), topics.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(context.Background(), "sec")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(e.Value()), endpoint); got != 2 {
		t.Errorf("stored topic %s: want both subscriptions with %s", e.Value(), endpoint)
	}
}

// dropFields is the JSON object raw without keys.
func dropFields(t *testing.T, raw []byte, keys ...string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		delete(m, k)
	}
	out, _ := json.Marshal(m)
	return out
}
