package bus

import (
	"strings"
	"testing"
	"time"
)

// TestEmbeddedSyncInterval: by default the embedded server fsyncs every
// write (sync_interval: always); an interval is passed on as it is; a
// negative one is refused, naming the setting. The running server reports
// what it was given.
func TestEmbeddedSyncInterval(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		always   bool
		want     time.Duration // the server's SyncInterval; 0: not checked
		err      string
	}{
		{name: "default fsyncs every write", always: true},
		{name: "an interval", interval: 10 * time.Second, want: 10 * time.Second},
		{name: "negative", interval: -time.Second, err: "sync interval -1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := EmbeddedConfig{DataDir: t.TempDir(), Internal: "UAWJFDLAMJP7BGNBJJHAFM25DIPBWUYWLJQS3OUW43BUBACAO3LZEHRV",
				InProcessOnly: true, SyncInterval: tt.interval}
			ns, err := StartEmbedded(cfg)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
			js := ns.JetStreamConfig()
			if js.SyncAlways != tt.always || (tt.want != 0 && js.SyncInterval != tt.want) {
				t.Errorf("server runs with sync_always %v, sync_interval %s; want %v, %s", js.SyncAlways, js.SyncInterval, tt.always, tt.want)
			}
		})
	}
}
