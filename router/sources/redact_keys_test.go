package sources

import (
	"regexp"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/internal/doccheck"
)

func TestDefaultKeyPatterns(t *testing.T) {
	m := newKeyMatcher(DefaultRedactKeys)
	secret := []string{
		"adminPass", "user_password", "db_password", "DB-PASSWORD", "accessKeySecret", "aws_secret_access_key",
		"SecretAccessKey", "clientSecret", "privateKey", "private_key", "X-Forwarded-Authorization", "Proxy-Authorization",
		"credentials.pass", "Credentials", "access_token", "X-Subject-Token", "x-api-key", "Set-Cookie", "TmpSecretKey",
		"SecretString", "X-Amz-Signature", "sk", "user_data", "kubeconfig", "passphrase", "pwd", "ConnectionString",
	}
	keep := []string{
		"secretName", "secretRef", "secretId", "TmpSecretId", "accessKeyId", "tokenType", "token_type", "code", "errorCode",
		"eventName", "resourceId", "passwordLastUsed", "minimumPasswordLength", "passwordResetRequired", "bypass",
		"compass", "publicKey", "keyName", "expires_in", "sessionContext", "signatureVersion",
	}
	for _, k := range secret {
		if !m.secret(k) {
			t.Errorf("%s is not redacted", k)
		}
	}
	for _, k := range keep {
		if m.secret(k) {
			t.Errorf("%s is redacted; rules need it", k)
		}
	}
}

func TestKeyPatternSyntax(t *testing.T) {
	m := newKeyMatcher([]string{"Tenant", "*_pin", "x-?-key", "!admin_pin", "@default"})
	for k, want := range map[string]bool{
		"tenant": true, "card_pin": true, "CardPin": true, "x-a-key": true, "x-ab-key": false,
		"admin_pin": false, "adminPass": true, "pinned": false,
	} {
		if got := m.secret(k); got != want {
			t.Errorf("%s: redacted %v, want %v", k, got, want)
		}
	}
	// The README's example, read from its block.
	example := regexp.MustCompile(`--redact-keys='([^']*)'`).FindStringSubmatch(doccheck.Read(t, "../README.md", "TestKeyPatternSyntax"))
	if example == nil {
		t.Fatal("router/README.md's --redact-keys block has no --redact-keys='...': update this test to the block")
	}
	readme := newKeyMatcher(strings.Split(example[1], ","))
	if !readme.secret("card_pin") || !readme.secret("X-Internal-Sig") || readme.secret("session_token") || !readme.secret("access_token") {
		t.Error("the README's --redact-keys example does not do what it says")
	}
	if !newKeyMatcher(nil).empty() || !newKeyMatcher([]string{" ", "!x"}).empty() {
		t.Error("no redacting patterns must redact nothing")
	}
}
