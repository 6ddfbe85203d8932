package router_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// BenchmarkNotificationCreateList: one POST /v3/{project}/notifications
// and one GET of it by name, through the whole router (the rule stored in
// KV and installed), per iteration.
func BenchmarkNotificationCreateList(b *testing.B) {
	s := start(b, b.TempDir(), nil)
	base := "http://" + s.Addr()
	send := func(method, path string, body []byte, want int) {
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			b.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
	}
	send(http.MethodPut, "/v1/topics/bench", []byte(`{"subscriptions":[]}`), http.StatusCreated)
	i := 0
	for b.Loop() {
		i++
		send(http.MethodPost, "/v3/p1/notifications", jsonBody(b, map[string]any{"notification_name": fmt.Sprint("n", i),
			"operation_type": "complete", "topic_id": "urn:smn:auditbus:default:bench"}), http.StatusCreated)
		send(http.MethodGet, fmt.Sprint("/v3/p1/notifications/smn?notification_name=n", i), nil, http.StatusOK)
	}
}
