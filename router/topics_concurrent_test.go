package router_test

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus/bustest"
)

// TestConcurrentSubscriptionsAllStored: many subscription PUTs of
// different ids on one topic, at once, through two routers on one NATS,
// each answered 201, are all stored (each is a merge into the topic, so
// none may overwrite another), and deleting half of them at once leaves
// exactly the other half.
func TestConcurrentSubscriptionsAllStored(t *testing.T) {
	external := bustest.Start(t, "")
	useExternal := func(c *router.Config) { c.NATSURL = external.NS.ClientURL() }
	a := start(t, t.TempDir(), useExternal)
	b := start(t, t.TempDir(), useExternal)
	if status, _, out := call(t, a, "PUT", "/v1/topics/busy", "application/json", []byte(`{}`), nil); status != 201 {
		t.Fatalf("create topic: %d %v", status, out)
	}
	const n = 24
	each := func(ids []int, do func(s *router.Server, id int) (int, map[string]any), want int) {
		var wg sync.WaitGroup
		for _, i := range ids {
			wg.Go(func() {
				s := a
				if i%2 == 1 {
					s = b
				}
				if status, out := do(s, i); status != want {
					t.Errorf("subscription s%d: %d %v, want %d", i, status, out, want)
				}
			})
		}
		wg.Wait()
	}
	var all, even []int
	for i := range n {
		all = append(all, i)
		if i%2 == 0 {
			even = append(even, i)
		}
	}
	each(all, func(s *router.Server, i int) (int, map[string]any) {
		body := fmt.Sprintf(`{"protocol":"https","endpoint":"https://hook.example/%d","confirm":false}`, i)
		status, _, out := call(t, s, "PUT", fmt.Sprintf("/v1/topics/busy/subscriptions/s%d", i), "application/json", []byte(body), nil)
		return status, out
	}, http.StatusCreated)
	if got, want := subscriptionIDs(t, a, b), idsOf(all); got != want {
		t.Fatalf("stored subscriptions %s, want %s", got, want)
	}
	each(even, func(s *router.Server, i int) (int, map[string]any) {
		status, _, out := call(t, s, "DELETE", fmt.Sprintf("/v1/topics/busy/subscriptions/s%d", i), "", nil, nil)
		return status, out
	}, http.StatusNoContent)
	var odd []int
	for _, i := range all {
		if i%2 == 1 {
			odd = append(odd, i)
		}
	}
	if got, want := subscriptionIDs(t, a, b), idsOf(odd); got != want {
		t.Fatalf("after deleting the even ones: %s, want %s", got, want)
	}
}

// subscriptionIDs are topic busy's subscription ids as the bucket holds
// them, read through a router after a write through it, sorted. Both
// routers are asked, through their own write, so neither answers from a
// view the watch has not caught up with.
func subscriptionIDs(t *testing.T, servers ...*router.Server) string {
	t.Helper()
	var views []string
	for _, s := range servers {
		// A PUT of the subscription "sync" reads the bucket itself (Modify), so the
		// answer is the stored topic; the DELETE takes it out again.
		status, _, out := call(t, s, "PUT", "/v1/topics/busy/subscriptions/sync", "application/json",
			[]byte(`{"protocol":"https","endpoint":"https://hook.example/sync","confirm":false}`), nil)
		if status != 201 {
			t.Fatalf("sync: %d %v", status, out)
		}
		if status, _, out := call(t, s, "DELETE", "/v1/topics/busy/subscriptions/sync", "", nil, nil); status != 204 {
			t.Fatalf("sync delete: %d %v", status, out)
		}
		var ids []string
		for _, sub := range out["subscriptions"].([]any) {
			if id := sub.(map[string]any)["id"].(string); id != "sync" {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		views = append(views, fmt.Sprint(ids))
	}
	if views[0] != views[1] {
		t.Fatalf("the routers disagree: %s and %s", views[0], views[1])
	}
	return views[0]
}

func idsOf(is []int) string {
	ids := make([]string, len(is))
	for k, i := range is {
		ids[k] = fmt.Sprintf("s%d", i)
	}
	sort.Strings(ids)
	return fmt.Sprint(ids)
}

// TestTopicIfMatch: a whole-topic PUT or DELETE with If-Match changes the
// topic only at that revision (412 AB.4120 otherwise, nothing stored);
// answers carry the revision as ETag.
func TestTopicIfMatch(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	status, h, out := call(t, s, "PUT", "/v1/topics/t", "application/json", []byte(`{}`), nil)
	if status != 201 || h.Get("ETag") != fmt.Sprintf("%q", fmt.Sprint(out["revision"])) {
		t.Fatalf("create: %d ETag %q %v", status, h.Get("ETag"), out)
	}
	first := h.Get("ETag")
	if status, _, out := call(t, s, "PUT", "/v1/topics/t", "application/json", []byte(`{"project":"p2"}`), http.Header{"If-Match": {first}}); status != 200 || out["project"] != "p2" {
		t.Fatalf("replace at its revision: %d %v", status, out)
	}
	for _, c := range []struct{ method, path, ifMatch, body string }{
		{"PUT", "/v1/topics/t", first, `{"project":"p3"}`},
		{"DELETE", "/v1/topics/t", first, ``},
		{"PUT", "/v1/topics/new", "*", `{}`},
		{"PUT", "/v1/topics/t", "x", `{}`},
	} {
		status, _, out := call(t, s, c.method, c.path, "application/json", []byte(c.body), http.Header{"If-Match": {c.ifMatch}})
		if status != 412 || out["error_code"] != "AB.4120" {
			t.Errorf("%s %s If-Match %s: %d %v, want 412 AB.4120", c.method, c.path, c.ifMatch, status, out)
		}
	}
	if _, _, out := call(t, s, "GET", "/v1/topics/t", "", nil, nil); out["project"] != "p2" {
		t.Errorf("after the refusals: %v", out)
	}
	if status, _, _ := call(t, s, "GET", "/v1/topics/new", "", nil, nil); status != 404 {
		t.Errorf("If-Match * created topic new: %d", status)
	}
	_, h, _ = call(t, s, "GET", "/v1/topics/t", "", nil, nil)
	if status, _, out := call(t, s, "DELETE", "/v1/topics/t", "", nil, http.Header{"If-Match": {h.Get("ETag")}}); status != 204 {
		t.Errorf("delete at its revision: %d %v", status, out)
	}
}
