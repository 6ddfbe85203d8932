package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// validateTranscript runs `auditbus rules validate` and renders exit code,
// stdout and stderr for a golden file.
func validateTranscript(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := cli(t, context.Background(), append([]string{"rules", "validate"}, args...)...)
	return fmt.Sprintf("$ auditbus rules validate %s\nexit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(args, " "), code, out, errOut)
}

// TestRulesValidateLint pins the lint and catalog warnings of rules that
// load, sorted by position, and shows that only --strict turns warnings
// into a failure while info lines never fail.
func TestRulesValidateLint(t *testing.T) {
	var b strings.Builder
	for _, args := range [][]string{
		{"testdata/validate-lint.yaml"},
		{"--strict", "testdata/validate-lint.yaml"},
		{"--strict", "testdata/validate-info.yaml"},
	} {
		b.WriteString(validateTranscript(t, args...) + "\n")
	}
	golden(t, "validate-lint.golden", b.String())
}

// TestRulesValidateErrors pins the errors of rules that do not load:
// unknown operators, wrong value types, invalid targets (checked by the
// sinks themselves), unknown fields and duplicate names.
func TestRulesValidateErrors(t *testing.T) {
	golden(t, "validate-errors.golden", validateTranscript(t, "--strict", "testdata/validate-errors.yaml"))
}

func TestRulesValidateStrictExamples(t *testing.T) {
	code, out, errOut := cli(t, context.Background(), "rules", "validate", "--strict", "../../examples/rules")
	if code != 0 || !strings.HasPrefix(out, "8 rules OK") || errOut != "" {
		t.Fatalf("examples must have no findings: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
}

func TestRulesValidateUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "usage: auditbus rules validate [--strict] PATH..."},
		{[]string{"--strict"}, "usage: auditbus rules validate [--strict] PATH..."},
		{[]string{"--stirct", "x.yaml"}, "flag provided but not defined: -stirct\nRun `auditbus rules validate -h` for its flags."},
	} {
		code, _, errOut := cli(t, context.Background(), append([]string{"rules", "validate"}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("validate %v: exit %d, stderr %s", tc.args, code, errOut)
		}
	}
}
