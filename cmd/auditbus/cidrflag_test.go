package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestAllowTargetFlags(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "auditbus.yaml")
	if err := os.WriteFile(cfgFile, []byte("allow_target_cidrs: [10.0.0.0/8, 192.168.1.5]\nallow_private_targets: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args    []string
		env     string
		private bool
		cidrs   string // as printed, "" for none
		err     bool
	}{
		{nil, "", false, "", false},
		{[]string{"--allow-private-targets"}, "", true, "", false},
		{[]string{"--allow-target-cidrs", "10.0.0.0/8,::1", "--allow-target-cidrs", "169.254.169.254"}, "", false,
			"[10.0.0.0/8 ::1/128 169.254.169.254/32]", false},
		{nil, "100.64.0.0/10", false, "[100.64.0.0/10]", false},
		{[]string{"--allow-target-cidrs", "fd00::/8"}, "100.64.0.0/10", false, "[fd00::/8]", false}, // the flag replaces the env list
		{[]string{"--config", cfgFile}, "", true, "[10.0.0.0/8 192.168.1.5/32]", false},
		{[]string{"--allow-target-cidrs", "10.1.2.3/8"}, "", false, "", true},
		{[]string{"--allow-target-cidrs", "intranet"}, "", false, "", true},
	}
	for _, tt := range tests {
		t.Setenv("AUDITBUS_ALLOW_TARGET_CIDRS", tt.env) // restored when the test ends
		if tt.env == "" {
			os.Unsetenv("AUDITBUS_ALLOW_TARGET_CIDRS")
		}
		c := defaultServeConfig()
		err := parseLayered(c.flags, tt.args, io.Discard)
		if (err != nil) != tt.err {
			t.Errorf("%v (env %q): err %v", tt.args, tt.env, err)
			continue
		}
		got := ""
		if len(c.AllowTargetCIDRs) > 0 {
			got = fmt.Sprint(c.AllowTargetCIDRs)
		}
		if !tt.err && (c.AllowPrivateTargets != tt.private || got != tt.cidrs) {
			t.Errorf("%v (env %q): private %v cidrs %s, want %v %s", tt.args, tt.env, c.AllowPrivateTargets, got, tt.private, tt.cidrs)
		}
	}
}
