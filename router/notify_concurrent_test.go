package router_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/auditbus/auditbus/router"
)

// notificationNames lists project p1's smn notifications through s.
func notificationNames(t *testing.T, s *router.Server) (names, ids []string) {
	t.Helper()
	status, _, out := call(t, s, "GET", "/v3/p1/notifications/smn", "", nil, nil)
	if status != 200 {
		t.Fatalf("list notifications: %d %v", status, out)
	}
	for _, n := range out["notifications"].([]any) {
		m := n.(map[string]any)
		names, ids = append(names, m["notification_name"].(string)), append(ids, m["notification_id"].(string))
	}
	return names, ids
}

// TestNotificationNamesConcurrentReplicas: a notification name sent at once
// through two replicas, from a goroutine per request, is created once
// (the others answer CTS.0260); notifications renamed at once to one name
// leave exactly one with it; a deleted notification's name is free again.
func TestNotificationNamesConcurrentReplicas(t *testing.T) {
	const n = 24
	file := filepath.Join(t.TempDir(), "topics.yaml")
	if err := os.WriteFile(file, []byte("topics:\n  - {name: ops}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, b := twoRouters(t, func(c *router.Config) { c.TopicsFile = file })
	servers := [2]*router.Server{a, b}
	body := func(name, id string) string {
		idField := ""
		if id != "" { // an update's
			idField = fmt.Sprintf(`"notification_id":%q,"status":"enabled",`, id)
		}
		return fmt.Sprintf(`{%s"notification_name":%q,"operation_type":"complete","topic_id":"urn:smn:auditbus:default:ops"}`, idField, name)
	}

	same := slices.Repeat([]string{body("same", "")}, n)
	got := count(atOnce(t, servers, "POST", "/v3/p1/notifications", same))
	if want := map[string]int{"": 1, "CTS.0260": n - 1}; !maps.Equal(got, want) {
		t.Errorf("creates of one name: answers %v, want %v", got, want)
	}
	waitFor(t, "b lists the notification", func() (bool, string) {
		names, _ := notificationNames(t, b)
		return len(names) > 0, fmt.Sprint(names)
	})
	if names, _ := notificationNames(t, b); !slices.Equal(names, []string{"same"}) {
		t.Errorf("stored %v, want [same]", names)
	}

	const renamed = 6
	for i := range renamed {
		if status, _, out := call(t, a, "POST", "/v3/p1/notifications", "application/json", []byte(body(fmt.Sprint("r", i), "")), nil); status != 201 {
			t.Fatalf("create r%d: %d %v", i, status, out)
		}
	}
	// An update finds its notification in the replica's own view, which
	// follows the rules bucket: both must have the creates first.
	seesAll := func(want int) func() (bool, string) {
		return func() (bool, string) {
			na, _ := notificationNames(t, a)
			nb, _ := notificationNames(t, b)
			return len(na) == want && len(nb) == want, fmt.Sprintf("a lists %v, b lists %v", na, nb)
		}
	}
	waitFor(t, "both replicas list every notification", seesAll(1+renamed))
	_, ids := notificationNames(t, a)
	var renames []string
	for _, id := range ids[1:] {
		renames = append(renames, body("target", id))
	}
	got = count(atOnce(t, servers, "PUT", "/v3/p1/notifications", renames))
	if want := map[string]int{"": 1, "CTS.0260": renamed - 1}; !maps.Equal(got, want) {
		t.Errorf("renames to one name: answers %v, want %v", got, want)
	}
	waitFor(t, "both replicas list one target", func() (bool, string) {
		na, _ := notificationNames(t, a)
		nb, _ := notificationNames(t, b)
		return slices.Contains(na, "target") && slices.Contains(nb, "target"), fmt.Sprintf("a lists %v, b lists %v", na, nb)
	})
	names, ids := notificationNames(t, a)
	i := slices.Index(names, "target")
	if i < 0 || slices.Index(names[i+1:], "target") >= 0 {
		t.Fatalf("stored %v, want target once", names)
	}

	if status, _, out := call(t, b, "DELETE", "/v3/p1/notifications?notification_id="+ids[i], "", nil, nil); status != 204 {
		t.Fatalf("delete target: %d %v", status, out)
	}
	// A replica refuses a name its own view still lists, so the create
	// waits until replica a has seen the delete made on b.
	waitFor(t, "replica a sees the delete", func() (bool, string) {
		na, _ := notificationNames(t, a)
		return !slices.Contains(na, "target"), fmt.Sprintf("a lists %v", na)
	})
	if status, _, out := call(t, a, "POST", "/v3/p1/notifications", "application/json", []byte(body("target", "")), nil); status != 201 {
		t.Errorf("create target after its delete: %d %v", status, out)
	}
}
