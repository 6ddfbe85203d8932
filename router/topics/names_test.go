package topics

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/bus/bustest"
)

// TestNamesClaim: a name is held by the first id to claim it; another id
// is refused while the holder has the name or the claim is young, and
// takes it over once the claim is stale and the holder no longer has it;
// a release by an id that does not hold the name changes nothing.
func TestNamesClaim(t *testing.T) {
	srv := bustest.Start(t, "")
	ctx := context.Background()
	n, err := OpenNames(ctx, srv.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	has := map[string]bool{"id-1": true}
	held := func(id string) bool { return has[id] }
	later := time.Now().Add(StaleClaimAfter + time.Second)
	holder := func(want string) {
		t.Helper()
		if got, err := n.Holder(ctx, "p1", "a name/with.dots"); err != nil || got != want {
			t.Fatalf("holder %q, %v; want %q", got, err, want)
		}
	}
	steps := []struct {
		name  string
		do    func() error
		taken bool
		want  string // the holder after
	}{
		{"first claim", func() error { return n.Claim(ctx, "p1", "a name/with.dots", "id-1", held) }, false, "id-1"},
		{"claimed again by its holder", func() error { return n.Claim(ctx, "p1", "a name/with.dots", "id-1", held) }, false, "id-1"},
		{"another id, young claim", func() error { return n.Claim(ctx, "p1", "a name/with.dots", "id-2", held) }, true, "id-1"},
		{"another id, stale claim, the holder has the name", func() error {
			n.now = func() time.Time { return later }
			return n.Claim(ctx, "p1", "a name/with.dots", "id-2", held)
		}, true, "id-1"},
		{"release by another id", func() error { return n.Release(ctx, "p1", "a name/with.dots", "id-2") }, false, "id-1"},
		{"another id, stale claim, the holder lost the name", func() error {
			has["id-1"] = false
			return n.Claim(ctx, "p1", "a name/with.dots", "id-2", held)
		}, false, "id-2"},
		{"release by the holder", func() error { return n.Release(ctx, "p1", "a name/with.dots", "id-2") }, false, ""},
		{"claim after the release", func() error { return n.Claim(ctx, "p1", "a name/with.dots", "id-3", held) }, false, "id-3"},
	}
	for _, s := range steps {
		err := s.do()
		if got := errors.Is(err, ErrNameTaken); got != s.taken || (!s.taken && err != nil) {
			t.Fatalf("%s: %v, want taken %v", s.name, err, s.taken)
		}
		holder(s.want)
	}
	if err := n.Claim(ctx, "p2", "a name/with.dots", "id-9", held); err != nil {
		t.Errorf("the same name in another project: %v", err)
	}
}
