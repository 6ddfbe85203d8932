package sources

import (
	"strings"
	"testing"
)

// TestValueDetectors covers each detector on free text, with the text
// around a secret kept and look-alikes left alone.
func TestValueDetectors(t *testing.T) {
	r := NewRedactor(DefaultRedactKeys)
	tests := []struct{ name, in, want string }{
		{"pem block", "key:\n-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\nbye",
			"key:\n-----BEGIN EC PRIVATE KEY-----[REDACTED]-----END EC PRIVATE KEY-----\nbye"},
		{"pem without end", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl", "-----BEGIN OPENSSH PRIVATE KEY-----[REDACTED]"},
		{"certificate kept", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"},
		{"jwt", "sent eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl ok", "sent [REDACTED] ok"},
		{"bearer", "Authorization=Bearer abcdefgh12345678", "Authorization=[REDACTED]"},
		{"bearer in prose", "upstream Bearer 0123456789abcdef refused", "upstream Bearer [REDACTED] refused"},
		{"short bearer is prose", "Bearer realm=api", "Bearer realm=api"},
		{"basic", "got Basic YWxpY2U6c2VjcmV0", "got Basic [REDACTED]"},
		{"basic prose", "Basic authentication is disabled", "Basic authentication is disabled"},
		{"userinfo", "clone https://bob:s3cret@git.example/x.git", "clone https://bob:[REDACTED]@git.example/x.git"},
		{"userinfo without password kept", "ssh://git@git.example/x.git", "ssh://git@git.example/x.git"},
		{"query", "/cb?code=abc&state=s&Access_Token=t", "/cb?code=[REDACTED]&state=s&Access_Token=[REDACTED]"},
		{"fragment", "https://h/cb#id_token=t&expires_in=60", "https://h/cb#id_token=[REDACTED]&expires_in=60"},
		{"code outside a query kept", "error code: 403", "error code: 403"},
		{"form body", "username=a&password=p%40ss&x=1", "username=a&password=[REDACTED]&x=1"},
		{"properties", "db.url=jdbc:pg://h/db\ndb.password = hunter2\n", "db.url=jdbc:pg://h/db\ndb.password = [REDACTED]\n"},
		{"quoted", `DB_PASS="two words"`, `DB_PASS="[REDACTED]"`},
		{"broken json", `{"token": "abc", "user": "u"`, `{"token": "[REDACTED]", "user": "u"`},
		{"escaped json", `{\"password\":\"x1\"`, `{\"password\":\"[REDACTED]\"`},
		{"long flag", "run --db-password hunter2 --verbose", "run --db-password [REDACTED] --verbose"},
		{"github token", "use ghp_abcdefghijklmnopqrstuvwxyz0123456789 now", "use [REDACTED] now"},
		{"aws pair", "AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AKIAIOSFODNN7EXAMPLE [REDACTED]"},
		{"tencent pair", "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA:Gu5t9xGARNpq86cd98joQYCN3Cozk1qA", "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA:[REDACTED]"},
		{"access key id alone kept", "key AKIAIOSFODNN7EXAMPLE rotated", "key AKIAIOSFODNN7EXAMPLE rotated"},
		{"times and arns kept", "2021-03-11T02:42:39Z qcs::cvm:ap-guangzhou:uin/1:instance/ins-1", "2021-03-11T02:42:39Z qcs::cvm:ap-guangzhou:uin/1:instance/ins-1"},
		{"already redacted", "password=[REDACTED]&t=Bearer [REDACTED]", "password=[REDACTED]&t=Bearer [REDACTED]"},
		// Found in review: a line's value runs to the end of the line.
		{"properties value with &", "db.user=app\ndb.password=Tr0ub4dor&3xKq\n", "db.user=app\ndb.password=[REDACTED]\n"},
		{"properties value with ;", "spring.datasource.password=Pl4nt;X9zz", "spring.datasource.password=[REDACTED]"},
		{"value with spaces", "password = correct horse battery staple", "password = [REDACTED]"},
		{"env export", "export DB_PASSWORD=a b&c\nHOME=/root", "export DB_PASSWORD=[REDACTED]\nHOME=/root"},
		{"yaml block scalar", "image: x\npassword: |\n  Pl4ntBlock33\n  more\nnext: y\n", "image: x\npassword: [REDACTED]\nnext: y\n"},
		{"query inside a line keeps its neighbours", "GET /cb?code=abc&state=xyz", "GET /cb?code=[REDACTED]&state=xyz"},
		{"url password with @", "mysql://root:Pl4nt@9Zq@db.internal:3306/app", "mysql://root:[REDACTED]@db.internal:3306/app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := r.text(tt.in)
			if got != tt.want || changed != (tt.in != tt.want) {
				t.Errorf("got  %q (changed %v)\nwant %q", got, changed, tt.want)
			}
		})
	}
}

// TestStructureDetectors covers what needs the record's structure:
// name/value pairs, flag arguments, YAML in strings, depth.
func TestStructureDetectors(t *testing.T) {
	r := NewRedactor(DefaultRedactKeys)
	tests := []struct{ name, in, want string }{
		{"env pair", `{"env":[{"name":"DB_PASSWORD","value":"p"},{"name":"MODE","value":"m"}]}`,
			`{"env":[{"name":"DB_PASSWORD","value":"[REDACTED]"},{"name":"MODE","value":"m"}]}`},
		{"env valueFrom kept", `{"env":[{"name":"DB_PASSWORD","valueFrom":{"secretKeyRef":{"name":"db","key":"pw"}}}]}`,
			`{"env":[{"name":"DB_PASSWORD","valueFrom":{"secretKeyRef":{"name":"db","key":"pw"}}}]}`},
		{"tag pair", `{"Tags":[{"Key":"api_key","Value":"k"},{"Key":"team","Value":"ops"}]}`,
			`{"Tags":[{"Key":"api_key","Value":"[REDACTED]"},{"Key":"team","Value":"ops"}]}`},
		{"parameter pair", `[{"ParameterKey":"DbPassword","ParameterValue":"p"}]`, `[{"ParameterKey":"DbPassword","ParameterValue":"[REDACTED]"}]`},
		{"flag argument", `{"args":["--token","t","--port","80"]}`, `{"args":["--token","[REDACTED]","--port","80"]}`},
		{"booleans and null kept", `{"password":true,"token":null,"secret":false}`, `{"password":true,"token":null,"secret":false}`},
		{"number redacted", `{"pin_password":123456}`, `{"pin_password":"[REDACTED]"}`},
		{"yaml in a string", `{"m":"kind: Secret\ndata:\n  k: djE=\n"}`, `{"m":"data:\n  k: '[REDACTED]'\nkind: Secret\n"}`},
		{"yaml env", `{"m":"env:\n  - name: API_TOKEN\n    value: t\n"}`, `{"m":"env:\n  - name: API_TOKEN\n    value: '[REDACTED]'\n"}`},
		{"prose with colons kept", `{"msg":"Error: denied\nat line 2"}`, `{"msg":"Error: denied\nat line 2"}`},
		{"last-applied", `{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"kind\":\"Secret\",\"data\":{\"k\":\"djE=\"}}"}}}`,
			`{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"k\":\"[REDACTED]\"},\"kind\":\"Secret\"}"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.JSON([]byte(tt.in))
			if err != nil || string(got) != tt.want {
				t.Errorf("got  %s (%v)\nwant %s", got, err, tt.want)
			}
		})
	}
}

// TestEmbedDepthBound: documents nested past maxEmbedDepth are not
// decoded, and their secrets still meet the value detectors.
func TestEmbedDepthBound(t *testing.T) {
	doc := `{"password":"p1","note":"Bearer abcdefgh12345678"}`
	for range maxEmbedDepth + 2 {
		b, _ := encode(map[string]any{"d": doc})
		doc = string(b)
	}
	got, err := NewRedactor(DefaultRedactKeys).JSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"p1", "abcdefgh12345678"} {
		if strings.Contains(string(got), s) {
			t.Errorf("%s survived %d levels deep: %s", s, maxEmbedDepth+2, got)
		}
	}
}

// TestContainsFold: containsFold agrees with strings.EqualFold over every
// window, non-ASCII look-alikes (ſ, the Kelvin sign) included.
func TestContainsFold(t *testing.T) {
	ref := func(s, sub string) bool {
		for i := 0; i+len(sub) <= len(s); i++ {
			if strings.EqualFold(s[i:i+len(sub)], sub) {
				return true
			}
		}
		return false
	}
	for _, s := range []string{"Authorization: BeArEr x", "baſic", "BASIC", "bas", "", "xbasicx", "\xffbasic", "ba\u212Asic"} {
		for _, sub := range []string{"bearer", "basic", "k"} {
			if got, want := containsFold(s, sub), ref(s, sub); got != want {
				t.Errorf("containsFold(%q, %q) = %v, want %v", s, sub, got, want)
			}
		}
	}
}
