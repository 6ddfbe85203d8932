package api_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/rules"
)

// TestPatternText: a typed pattern compiles as a rule's, and its errors
// are positioned line:col in the text typed.
func TestPatternText(t *testing.T) {
	tests := []struct {
		name, text string
		want       string // "" compiles
	}{
		{"blank", "  \n", ""},
		{"yaml", "type: [\"tke:CloudEvent:ApiCall\"]\ndata:\n  eventName: [DeleteCluster]\n", ""},
		{"json", `{"source": ["cloudaudit.tencentcloudapi.com"]}`, ""},
		{"bad operator", "type: [\"a\"]\ndata:\n  eventName: [{nope: 1}]\n", "pattern:3:"},
		{"not a list", "type: tke\n", "pattern:1:"},
		{"yaml syntax", "type: [\"a\"\n", "pattern:"},
		{"scalar", "just-text", "pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, raw, err := api.PatternText(tt.text)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("want it compiled: %v", err)
				}
				if strings.TrimSpace(tt.text) != "" && raw[0] != '{' {
					t.Errorf("JSON %s", raw)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to start %q", err, tt.want)
			}
			var es rules.Errors
			if errors.As(err, &es) {
				for _, e := range es {
					if e.Pos.Line > lineCount(tt.text) {
						t.Errorf("position %s is past the text", e.Pos)
					}
				}
			}
		})
	}
}

// FuzzPatternText: any text compiles or is refused, never panics, and a
// refusal's positions lie inside the text.
func FuzzPatternText(f *testing.F) {
	for _, s := range []string{"type: [a]", `{"data": {"n": [{"numeric": [">", 1]}]}}`, "a:\n  - b: [", "\t:", "- x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		_, _, err := api.PatternText(text)
		var es rules.Errors
		if errors.As(err, &es) {
			for _, e := range es {
				if e.Pos.Line > lineCount(text) {
					t.Errorf("%q: position %s past the text", text, e.Pos)
				}
			}
		}
	})
}

// lineCount is how many lines text has, a CR, LF or CRLF ending each.
func lineCount(text string) int {
	return strings.Count(strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(text), "\n") + 1
}
