package cts_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/auditbus/auditbus/router/archive"
	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/cts"
)

// trackers returns the tracker face over a real KV store, with buckets
// logs and tracked (their directories exist) and fresh (declared, no
// directory yet).
func trackers(t *testing.T, quota int64) (*cts.Trackers, map[string]string) {
	t.Helper()
	srv := bustest.Start(t, "")
	store, err := archive.OpenTrackers(context.Background(), srv.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	dirs := map[string]string{"logs": filepath.Join(root, "logs"), "tracked": filepath.Join(root, "tracked"),
		"tracked2": filepath.Join(root, "tracked2"), "fresh": filepath.Join(root, "fresh")}
	for _, n := range []string{"logs", "tracked", "tracked2"} {
		if err := os.Mkdir(dirs[n], 0o750); err != nil {
			t.Fatal(err)
		}
	}
	b, err := archive.NewBuckets(dirs)
	if err != nil {
		t.Fatal(err)
	}
	return &cts.Trackers{Store: store, Buckets: b, DataQuota: quota}, dirs
}

// TestTrackerValidation: every field's check answers its CTS code and
// stores nothing.
func TestTrackerValidation(t *testing.T) {
	tr, _ := trackers(t, 0)
	ctx := context.Background()
	if _, err := tr.Create(ctx, "p1", "", []byte(`{"tracker_type":"data","tracker_name":"taken","data_bucket":{"data_bucket_name":"tracked","data_event":["WRITE"]}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Create(ctx, "p1", "", []byte(`{"tracker_type":"system","tracker_name":"system"}`)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, project, body string
		status              int
		code                string
	}{
		{"empty body", "p1", ``, 400, "CTS.0003"},
		{"not JSON", "p1", `{"tracker_type":`, 400, "CTS.0003"},
		{"bad project", "p/1", `{}`, 400, "CTS.0300"},
		{"tracker_type", "p1", `{"tracker_type":"audit","tracker_name":"a"}`, 400, "CTS.0202"},
		{"tracker_name format", "p1", `{"tracker_type":"data","tracker_name":"a b"}`, 400, "CTS.0203"},
		{"tracker_name too long", "p1", `{"tracker_type":"data","tracker_name":"a123456789012345678901234567890123"}`, 400, "CTS.0203"},
		{"system name", "p2", `{"tracker_type":"system","tracker_name":"mine"}`, 400, "CTS.0204"},
		{"status", "p2", `{"tracker_type":"system","tracker_name":"system","status":"paused"}`, 400, "CTS.0205"},
		{"data_bucket on system", "p2", `{"tracker_type":"system","tracker_name":"system","data_bucket":{"data_bucket_name":"tracked"}}`, 400, "CTS.0206"},
		{"data named system", "p1", `{"tracker_type":"data","tracker_name":"system"}`, 400, "CTS.0207"},
		{"second system", "p1", `{"tracker_type":"system","tracker_name":"system"}`, 400, "CTS.0201"},
		{"data exists", "p1", `{"tracker_type":"data","tracker_name":"taken","data_bucket":{"data_bucket_name":"tracked2","data_event":["READ"]}}`, 403, "CTS.0208"},
		{"tracked twice", "p1", `{"tracker_type":"data","tracker_name":"d2","data_bucket":{"data_bucket_name":"tracked","data_event":["READ","WRITE"]}}`, 400, "CTS.0209"},
		{"no data_bucket", "p1", `{"tracker_type":"data","tracker_name":"d2"}`, 400, "CTS.0003"},
		{"tracked bucket not declared", "p1", `{"tracker_type":"data","tracker_name":"d2","data_bucket":{"data_bucket_name":"nowhere","data_event":["READ"]}}`, 400, "CTS.0211"},
		{"transfer bucket not declared", "p2", `{"tracker_type":"system","tracker_name":"system","obs_info":{"bucket_name":"nowhere"}}`, 400, "CTS.0211"},
		{"declared bucket without directory", "p2", `{"tracker_type":"system","tracker_name":"system","obs_info":{"bucket_name":"fresh","is_obs_created":false}}`, 400, "CTS.0211"},
		{"tracked is transfer", "p1", `{"tracker_type":"data","tracker_name":"d2","obs_info":{"bucket_name":"tracked2"},"data_bucket":{"data_bucket_name":"tracked2","data_event":["READ"]}}`, 400, "CTS.0213"},
		{"bucket exists", "p2", `{"tracker_type":"system","tracker_name":"system","obs_info":{"bucket_name":"logs","is_obs_created":true}}`, 400, "CTS.0215"},
		{"create undeclared bucket", "p2", `{"tracker_type":"system","tracker_name":"system","obs_info":{"bucket_name":"nowhere","is_obs_created":true}}`, 400, "CTS.0216"},
		{"lifecycle", "p2", `{"tracker_type":"system","tracker_name":"system","obs_info":{"bucket_name":"logs","bucket_lifecycle":7}}`, 400, "CTS.0217"},
		{"file_prefix_name chars", "p2", `{"tracker_type":"system","tracker_name":"system","obs_info":{"bucket_name":"logs","file_prefix_name":".."}}`, 400, "CTS.0218"},
		{"file_prefix_name length", "p2", `{"tracker_type":"system","tracker_name":"system","obs_info":{"file_prefix_name":"a1234567890123456789012345678901234567890123456789012345678901234"}}`, 400, "CTS.0218"},
		{"no data_event", "p1", `{"tracker_type":"data","tracker_name":"d2","data_bucket":{"data_bucket_name":"tracked2","data_event":[]}}`, 400, "CTS.0219"},
		{"KMS", "p2", `{"tracker_type":"system","tracker_name":"system","is_support_trace_files_encryption":true,"kms_id":"13a4207c"}`, 400, "CTS.0220"},
		{"kms_id alone", "p2", `{"tracker_type":"system","tracker_name":"system","kms_id":"13a4207c"}`, 400, "CTS.0220"},
		{"KMS without id", "p2", `{"tracker_type":"system","tracker_name":"system","is_support_trace_files_encryption":true}`, 400, "CTS.0221"},
		{"data_event", "p1", `{"tracker_type":"data","tracker_name":"d2","data_bucket":{"data_bucket_name":"tracked2","data_event":["DELETE"]}}`, 400, "CTS.0225"},
		{"bucket_name format", "p2", `{"tracker_type":"system","tracker_name":"system","obs_info":{"bucket_name":"Logs"}}`, 400, "CTS.0231"},
		{"bucket_name short", "p2", `{"tracker_type":"system","tracker_name":"system","obs_info":{"bucket_name":"ab"}}`, 400, "CTS.0231"},
		{"data_bucket_name format", "p1", `{"tracker_type":"data","tracker_name":"d2","data_bucket":{"data_bucket_name":"-x","data_event":["READ"]}}`, 400, "CTS.0231"},
		{"LTS", "p2", `{"tracker_type":"system","tracker_name":"system","is_lts_enabled":true}`, 400, "CTS.0003"},
		{"validation", "p2", `{"tracker_type":"system","tracker_name":"system","is_support_validate":true}`, 400, "CTS.0003"},
		{"organization", "p2", `{"tracker_type":"system","tracker_name":"system","is_organization_tracker":true}`, 400, "CTS.0003"},
		{"compress_type", "p2", `{"tracker_type":"system","tracker_name":"system","obs_info":{"compress_type":"zip"}}`, 400, "CTS.0003"},
		{"exclude_service", "p2", `{"tracker_type":"system","tracker_name":"system","management_event_selector":{"exclude_service":["a/b"]}}`, 400, "CTS.0003"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := tr.Create(ctx, c.project, "", []byte(c.body))
			if err == nil || err.Status != c.status || err.Code != c.code || err.Msg == "" {
				t.Fatalf("create %s: %v, want %d %s", c.body, err, c.status, c.code)
			}
		})
	}
	for _, p := range []string{"p1", "p2"} {
		got, err := tr.List(ctx, p, url.Values{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"p1": 2, "p2": 0}[p]
		if len(got.Trackers) != want {
			t.Errorf("project %s holds %d trackers after refused creates, want %d: %+v", p, len(got.Trackers), want, got.Trackers)
		}
	}
}

// TestTrackerLifecycle: create with defaults, update some fields (the
// others stay), list with filters, delete, and the update-only checks.
func TestTrackerLifecycle(t *testing.T) {
	tr, dirs := trackers(t, 0)
	ctx := context.Background()
	sys, err := tr.Create(ctx, "p1", "alice", []byte(`{"tracker_type":"system","tracker_name":"system","obs_info":{"bucket_name":"fresh","is_obs_created":true,"file_prefix_name":"ab-c"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if st, serr := os.Stat(dirs["fresh"]); serr != nil || !st.IsDir() {
		t.Fatalf("is_obs_created did not create the declared bucket's directory: %v", serr)
	}
	want := cts.ObsInfo{BucketName: "fresh", FilePrefixName: "ab-c", IsObsCreated: true, IsAuthorizedBucket: true, CompressType: "gzip", IsSortByService: true}
	if sys.ObsInfo != want || sys.Status != "enabled" || sys.DomainID != "alice" || sys.ProjectID != "p1" || len(sys.ID) != 36 || sys.CreateTime == 0 {
		t.Fatalf("created: %+v", sys)
	}
	if err := tr.Update(ctx, "p1", []byte(`{"tracker_type":"system","tracker_name":"system","status":"disabled","obs_info":{"compress_type":"json","bucket_lifecycle":30},"management_event_selector":{"exclude_service":["KMS"]}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Create(ctx, "p1", "", []byte(`{"tracker_type":"data","tracker_name":"d1","data_bucket":{"data_bucket_name":"tracked","data_event":["WRITE","READ"]}}`)); err != nil {
		t.Fatal(err)
	}
	got, lerr := tr.List(ctx, "p1", url.Values{"tracker_name": {"system"}})
	if lerr != nil || len(got.Trackers) != 1 {
		t.Fatalf("list system: %v %+v", lerr, got)
	}
	s := got.Trackers[0]
	want.CompressType, want.BucketLifecycle = "json", 30
	if s.ObsInfo != want || s.Status != "disabled" || s.ID != sys.ID || s.ManagementEventSelector.ExcludeService[0] != "KMS" {
		t.Errorf("after update: %+v", s)
	}
	if got, _ := tr.List(ctx, "p1", url.Values{"tracker_type": {"data"}}); len(got.Trackers) != 1 || got.Trackers[0].DataBucket.DataEvent[0] != "READ" {
		t.Errorf("list data: %+v", got)
	}
	refused := []struct {
		body, code string
	}{
		{`{"tracker_type":"data","tracker_name":"nope","status":"enabled"}`, "CTS.0214"},
		{`{"tracker_type":"data","tracker_name":"d1","data_bucket":{"data_bucket_name":"tracked2","data_event":["READ"]}}`, "CTS.0212"},
		{`{"tracker_type":"data","tracker_name":"d1","status":"on"}`, "CTS.0205"},
		{`{"tracker_type":"data","tracker_name":"d1","status":"disabled"}`, "CTS.0003"},
	}
	for _, c := range refused {
		if err := tr.Update(ctx, "p1", []byte(c.body)); err == nil || err.Code != c.code {
			t.Errorf("update %s: %v, want %s", c.body, err, c.code)
		}
	}
	if err := tr.Update(ctx, "p1", []byte(`{"tracker_type":"data","tracker_name":"d1","status":"disabled","data_bucket":{"data_bucket_name":"tracked","data_event":["READ"]}}`)); err != nil {
		t.Errorf("disable the data tracker: %v", err)
	}
	if got, _ := tr.List(ctx, "p1", url.Values{"tracker_name": {"d1"}}); len(got.Trackers) != 1 || got.Trackers[0].Status != "disabled" || len(got.Trackers[0].DataBucket.DataEvent) != 1 {
		t.Errorf("disabled data tracker: %+v", got)
	}
	if err := tr.Delete(ctx, "p1", url.Values{"tracker_type": {"system"}}); err == nil || err.Code != "CTS.0202" {
		t.Errorf("delete the management tracker: %v, want CTS.0202", err)
	}
	if err := tr.Delete(ctx, "p1", url.Values{"tracker_name": {"nope"}}); err == nil || err.Code != "CTS.0214" || err.Status != 404 {
		t.Errorf("delete a missing tracker: %v, want 404 CTS.0214", err)
	}
	if err := tr.Delete(ctx, "p1", url.Values{"tracker_name": {"d1"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := tr.List(ctx, "p1", url.Values{}); len(got.Trackers) != 1 || got.Trackers[0].TrackerName != "system" {
		t.Errorf("after delete: %+v", got)
	}
	if _, err := tr.List(ctx, "p1", url.Values{"tracker_type": {"x"}}); err == nil || err.Code != "CTS.0202" {
		t.Errorf("list tracker_type x: %v", err)
	}
}

// TestTrackerQuota: the data trackers' quota is enforced at create with
// CTS.0200 and answered by Quotas, as is the management tracker's.
func TestTrackerQuota(t *testing.T) {
	tr, _ := trackers(t, 2)
	ctx := context.Background()
	body := func(name, bucket string) []byte {
		return []byte(`{"tracker_type":"data","tracker_name":"` + name + `","data_bucket":{"data_bucket_name":"` + bucket + `","data_event":["READ"]}}`)
	}
	for i, b := range []string{"tracked", "tracked2"} {
		if _, err := tr.Create(ctx, "p1", "", body("d"+string(rune('0'+i)), b)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tr.Create(ctx, "p1", "", body("d9", "logs")); err == nil || err.Code != "CTS.0200" {
		t.Fatalf("third data tracker over a quota of 2: %v, want CTS.0200", err)
	}
	if _, err := tr.Create(ctx, "p2", "", body("d9", "logs")); err != nil {
		t.Errorf("the quota is per project: %v", err)
	}
	if _, err := tr.Create(ctx, "p1", "", []byte(`{"tracker_type":"system","tracker_name":"system"}`)); err != nil {
		t.Fatal(err)
	}
	q, err := tr.Quotas(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	want := []cts.Quota{{Type: "data_tracker", Used: 2, Quota: 2}, {Type: "system_tracker", Used: 1, Quota: 1}}
	if len(q.Resources) != 2 || q.Resources[0] != want[0] || q.Resources[1] != want[1] {
		t.Errorf("quotas: %+v, want %+v", q.Resources, want)
	}
}

// TestTrackerNoBucket: a tracker whose bucket directory went away lists
// with status error, detail noBucket.
func TestTrackerNoBucket(t *testing.T) {
	tr, dirs := trackers(t, 0)
	ctx := context.Background()
	if _, err := tr.Create(ctx, "p1", "", []byte(`{"tracker_type":"system","tracker_name":"system","obs_info":{"bucket_name":"logs"}}`)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dirs["logs"]); err != nil {
		t.Fatal(err)
	}
	got, err := tr.List(ctx, "p1", url.Values{})
	if err != nil || len(got.Trackers) != 1 || got.Trackers[0].Status != "error" || got.Trackers[0].Detail != "noBucket" {
		t.Errorf("tracker without its bucket: %+v %v", got, err)
	}
}
