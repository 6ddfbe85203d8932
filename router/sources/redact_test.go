package sources

import (
	"strings"
	"testing"
)

func TestRedactor(t *testing.T) {
	r := NewRedactor(DefaultRedactKeys)
	tests := []struct {
		name, in, want string
	}{
		{"nothing to redact keeps bytes", `{"b": 1.50, "a":"<x>"}`, `{"b": 1.50, "a":"<x>"}`},
		{"case-insensitive key", `{"ResponseObject":{"Access_token":"eyJ","Token_type":"bearer"}}`,
			`{"ResponseObject":{"Access_token":"[REDACTED]","Token_type":"bearer"}}`},
		{"spelling variants", `{"accessToken":"a","X-Api-Key":"k","SecurityToken":"s","TmpSecretKey":"t","tokenType":"bearer"}`,
			`{"SecurityToken":"[REDACTED]","TmpSecretKey":"[REDACTED]","X-Api-Key":"[REDACTED]","accessToken":"[REDACTED]","tokenType":"bearer"}`},
		{"nested arrays", `{"items":[{"password":"p"},{"user":"u"}]}`, `{"items":[{"password":"[REDACTED]"},{"user":"u"}]}`},
		{"object value replaced whole", `{"secret":{"k":"v"}}`, `{"secret":"[REDACTED]"}`},
		{"null stays null, and bytes with it", `{"token":null,"n":12345678901234567890}`, `{"token":null,"n":12345678901234567890}`},
		{"json in a string", `{"request":"{\"password\":\"p\",\"name\":\"n\"}"}`, `{"request":"{\"name\":\"n\",\"password\":\"[REDACTED]\"}"}`},
		{"kubernetes secret", `{"requestObject":{"kind":"Secret","data":{"tls.key":"LS0t"},"stringData":{"pw":"x"},"metadata":{"name":"s"}}}`,
			`{"requestObject":{"data":{"tls.key":"[REDACTED]"},"kind":"Secret","metadata":{"name":"s"},"stringData":{"pw":"[REDACTED]"}}}`},
		{"json patch on a secret", `{"objectRef":{"resource":"secrets"},"requestObject":[{"op":"replace","path":"/data/password","value":"aHVudGVy"}]}`,
			`{"objectRef":{"resource":"secrets"},"requestObject":[{"op":"replace","path":"/data/password","value":"[REDACTED]"}]}`},
		{"duplicate keys inside a JSON string", `{"request":"{\"a\":{\"token\":\"t\"},\"a\":null}"}`, `{"request":"[REDACTED]"}`},
		{"secret list items", `{"kind":"SecretList","items":[{"data":{"k":"v"}}]}`, `{"items":[{"data":{"k":"[REDACTED]"}}],"kind":"SecretList"}`},
		{"secret patch in an audit event", `{"objectRef":{"resource":"secrets"},"requestObject":{"data":{"k":"v"}}}`,
			`{"objectRef":{"resource":"secrets"},"requestObject":{"data":{"k":"[REDACTED]"}}}`},
		{"ACP capitalized objectRef", `{"ObjectRef":{"Resource":"secrets"},"ResponseObject":{"items":[{"stringData":{"k":"v"}}]}}`,
			`{"ObjectRef":{"Resource":"secrets"},"ResponseObject":{"items":[{"stringData":{"k":"[REDACTED]"}}]}}`},
		{"configmap data kept", `{"objectRef":{"resource":"configmaps"},"requestObject":{"data":{"k":"v"}}}`,
			`{"objectRef":{"resource":"configmaps"},"requestObject":{"data":{"k":"v"}}}`},
		{"query string credentials", `{"requestURI":"/api/v1/token/callback?code=abc&state=alauda-console&Access_Token=t"}`,
			`{"requestURI":"/api/v1/token/callback?code=[REDACTED]&state=alauda-console&Access_Token=[REDACTED]"}`},
		{"query string without secrets", `{"requestURI":"/api/v1/pods?limit=500"}`, `{"requestURI":"/api/v1/pods?limit=500"}`},
		{"exact numbers kept when re-encoding", `{"token":"t","n":1.0000000000000000001}`, `{"n":1.0000000000000000001,"token":"[REDACTED]"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.JSON([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestRedactorConfigurable(t *testing.T) {
	in := []byte(`{"password":"p","tenant":"t"}`)
	if got, _ := NewRedactor(nil).JSON(in); string(got) != string(in) {
		t.Errorf("no keys: %s", got)
	}
	if got, _ := NewRedactor([]string{"Tenant"}).JSON(in); !strings.Contains(string(got), `"tenant":"[REDACTED]"`) || !strings.Contains(string(got), `"password":"p"`) {
		t.Errorf("custom keys: %s", got)
	}
	for _, bad := range []string{
		`{"a":`,
		`{"password":"x","password":null}`,
		`{"response":{"token":"hunter2"},"response":null}`,
		`{"kind":"Secret","data":{"k":"s"},"data":null}`,
		strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2),
	} {
		if out, err := NewRedactor(DefaultRedactKeys).JSON([]byte(bad)); err == nil {
			t.Errorf("record %.40q accepted as %.60s", bad, out)
		}
	}
}
