package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/index"
)

// TestKubeAuditIndexDownLogsCause: when the index fails, the HSS and ACP
// query faces answer 503 and log the index's error as the line's error
// field, with a message of its own.
func TestKubeAuditIndexDownLogsCause(t *testing.T) {
	ix, err := index.OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ix.Close() // every query now fails with index.ErrClosed
	var logs bustest.LogBuffer
	srv, _ := newAPI(t, true, api.WithAuditIndex(ix, nil), api.WithLogger(zerolog.New(&logs)))
	for _, c := range []struct{ path, msg string }{
		{"/v5/p/container/kubernetes/cluster/audit-logs?cluster_id=c&start_time=1&end_time=2", "HSS audit log query failed"},
		{"/v1/kubernetes-audits?cluster=c&start_time=1&end_time=2&size=10&pageno=1", "ACP audit query failed"},
	} {
		resp, err := http.Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(string(body), "closed") {
			t.Errorf("%s: %d %s, want a 503 that does not show the cause", c.path, resp.StatusCode, body)
		}
		var line struct {
			Level, Message, Error string
		}
		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &line); err != nil {
			t.Fatalf("%s: log %q: %v", c.path, logs.String(), err)
		}
		if line.Level != "error" || line.Message != c.msg || !strings.Contains(line.Error, index.ErrClosed.Error()) {
			t.Errorf("%s: logged %+v, want %q with the error field carrying %q", c.path, line, c.msg, index.ErrClosed)
		}
	}
}
