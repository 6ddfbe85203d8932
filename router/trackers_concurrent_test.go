package router_test

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus/bustest"
)

// twoRouters starts two routers on one NATS server, as two replicas.
func twoRouters(t *testing.T, mutate func(*router.Config)) (a, b *router.Server) {
	t.Helper()
	external := bustest.Start(t, "")
	cfg := func(c *router.Config) {
		c.NATSURL = external.NS.ClientURL()
		if mutate != nil {
			mutate(c)
		}
	}
	return start(t, t.TempDir(), cfg), start(t, t.TempDir(), cfg)
}

// atOnce sends every request from a goroutine of its own, request i to
// router servers[i%2], and returns each one's answer code ("" for a
// success).
func atOnce(t *testing.T, servers [2]*router.Server, method, path string, bodies []string) []string {
	t.Helper()
	codes := make([]string, len(bodies))
	var wg sync.WaitGroup
	for i, body := range bodies {
		wg.Go(func() {
			status, _, out := call(t, servers[i%2], method, path, "application/json", []byte(body), nil)
			switch code, _ := out["error_code"].(string); {
			case status < 300:
			case code != "":
				codes[i] = code
			default:
				codes[i] = fmt.Sprintf("status %d: %v", status, out)
			}
		})
	}
	wg.Wait()
	return codes
}

// count tallies answer codes ("" is a success).
func count(codes []string) map[string]int {
	n := map[string]int{}
	for _, c := range codes {
		n[c]++
	}
	return n
}

// trackerNames lists a project's trackers through s.
func trackerNames(t *testing.T, s *router.Server, project string) []string {
	t.Helper()
	status, _, out := call(t, s, "GET", "/v3/"+project+"/trackers", "", nil, nil)
	if status != 200 {
		t.Fatalf("list trackers: %d %v", status, out)
	}
	var names []string
	for _, tk := range out["trackers"].([]any) {
		names = append(names, tk.(map[string]any)["tracker_name"].(string))
	}
	slices.Sort(names)
	return names
}

// TestTrackersConcurrentReplicas: data trackers created at once through
// two replicas, each request from a goroutine of its own, keep every
// rule a single router keeps: exactly the quota succeed and the others
// answer the quota code CTS.0200; a name sent many times is created once
// (the others answer CTS.0208); a bucket's READ operations sent to many
// names are tracked by one (the others answer CTS.0209, tracked twice);
// the quotas endpoint counts what is stored.
func TestTrackersConcurrentReplicas(t *testing.T) {
	const quota, n = 5, 24
	root := t.TempDir()
	buckets := map[string]string{}
	for i := range n {
		buckets[fmt.Sprintf("tracked%02d", i)] = filepath.Join(root, fmt.Sprint(i))
	}
	a, b := twoRouters(t, func(c *router.Config) {
		c.Buckets = maps.Clone(buckets)
		c.DataTrackerQuota = quota
	})
	servers := [2]*router.Server{a, b}
	body := func(name, bucket string) string {
		return fmt.Sprintf(`{"tracker_type":"data","tracker_name":%q,"data_bucket":{"data_bucket_name":%q,"data_event":["READ"]}}`, name, bucket)
	}

	t.Run("quota", func(t *testing.T) {
		var bodies []string
		for i := range n {
			bodies = append(bodies, body(fmt.Sprintf("q%02d", i), fmt.Sprintf("tracked%02d", i)))
		}
		got := count(atOnce(t, servers, "POST", "/v3/pq/tracker", bodies))
		if want := map[string]int{"": quota, "CTS.0200": n - quota}; !maps.Equal(got, want) {
			t.Errorf("answers %v, want %v", got, want)
		}
		if names := trackerNames(t, b, "pq"); len(names) != quota {
			t.Errorf("stored %v: %d trackers, want the quota, %d", names, len(names), quota)
		}
		status, _, out := call(t, a, "GET", "/v3/pq/quotas", "", nil, nil)
		if used := out["resources"].([]any)[0].(map[string]any)["used"]; status != 200 || used != float64(quota) {
			t.Errorf("quotas: %d %v, want data_tracker used %d", status, out, quota)
		}
	})

	t.Run("one name", func(t *testing.T) {
		var bodies []string
		for i := range n {
			bodies = append(bodies, body("same", fmt.Sprintf("tracked%02d", i)))
		}
		got := count(atOnce(t, servers, "POST", "/v3/pn/tracker", bodies))
		if want := map[string]int{"": 1, "CTS.0208": n - 1}; !maps.Equal(got, want) {
			t.Errorf("answers %v, want %v", got, want)
		}
		if names := trackerNames(t, a, "pn"); !slices.Equal(names, []string{"same"}) {
			t.Errorf("stored %v, want [same]", names)
		}
	})

	t.Run("one tracked bucket", func(t *testing.T) {
		var bodies []string
		for i := range quota {
			bodies = append(bodies, body(fmt.Sprintf("b%d", i), "tracked00"))
		}
		got := count(atOnce(t, servers, "POST", "/v3/pb/tracker", bodies))
		if want := map[string]int{"": 1, "CTS.0209": quota - 1}; !maps.Equal(got, want) {
			t.Errorf("answers %v, want %v", got, want)
		}
		if names := trackerNames(t, b, "pb"); len(names) != 1 {
			t.Errorf("stored %v, want one tracker", names)
		}
	})
}
