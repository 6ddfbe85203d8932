package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestEditableDocument: a document without secrets is edited as it was
// stored (comments and layout kept); one with secrets comes back with
// every secret masked.
func TestEditableDocument(t *testing.T) {
	plain := "# deletes\nname: r\npattern: {source: [\"a\"]}\ntargets:\n  - id: out\n    log: {}\n"
	tests := []struct {
		name, doc string
		want, not []string
	}{
		{"no secret: as stored", plain, []string{plain}, nil},
		{"header secret masked", "name: r\ntargets:\n  - id: hook\n    webhook:\n      url: https://h.example/x?token=abc\n      headers: {X-Api-Key: s3cret}\n",
			[]string{"X-Api-Key: '" + Masked + "'", "url:"}, []string{"s3cret", "token=abc"}},
		{"not YAML: not shown", "name: [\ntoken: s3cret", nil, []string{"s3cret", "name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EditableDocument([]byte(tt.doc))
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("got %q, want it to hold %q", got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("got %q: it shows %q", got, n)
				}
			}
			if tt.name == "no secret: as stored" && got != tt.doc {
				t.Errorf("got %q, want the stored text %q", got, tt.doc)
			}
		})
	}
}

// TestStatusRecorderFlushes: the console's streaming pages flush through
// the API's status recorder.
func TestStatusRecorderFlushes(t *testing.T) {
	w := httptest.NewRecorder()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	if err := http.NewResponseController(rec).Flush(); err != nil || !w.Flushed {
		t.Errorf("flush through the recorder: %v, flushed %t", err, w.Flushed)
	}
}
