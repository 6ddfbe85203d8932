package huaweicloud

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	cts "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cts/v3"
	ctsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cts/v3/model"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
)

const (
	trackerAK, trackerSK             = "HPUATRACKERKEY000001", "tracker-secret-key-0123456789abcdefghijkl"
	trackerReaderAK, trackerReaderSK = "HPUATRACKERREADER001", "tracker-reader-key-0123456789abcdefghijkl"
)

// startTrackerRouter runs auditbus with buckets logs and tracked and a
// quota of 3 data trackers; the access key may manage trackers.
func startTrackerRouter(t *testing.T) (admin, reader *cts.CtsClient) {
	t.Helper()
	doc := fmt.Sprintf(`identities:
  - name: tracker-admin
    access_keys: [{id: %s, secret: %s}]
    actions: ["cts:tracker:*", "cts:quota:get"]
  - name: tracker-reader
    access_keys: [{id: %s, secret: %s}]
    actions: ["cts:tracker:list"]
`, trackerAK, trackerSK, trackerReaderAK, trackerReaderSK)
	root := t.TempDir()
	buckets := map[string]string{"logs": filepath.Join(root, "logs"), "tracked": filepath.Join(root, "tracked")}
	for _, d := range buckets {
		if err := os.Mkdir(d, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	cfg := router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "-", Log: zerolog.Nop(), Stdout: io.Discard,
		AuthFailureRate: -1, AuthFile: filepath.Join(root, "auth.yaml"), Buckets: buckets, DataTrackerQuota: 3}
	if err := os.WriteFile(cfg.AuthFile, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := router.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	return cts.NewCtsClient(client{endpoint: "http://" + s.Addr(), ak: trackerAK, sk: trackerSK}.hc(t, cts.CtsClientBuilder())),
		cts.NewCtsClient(client{endpoint: "http://" + s.Addr(), ak: trackerReaderAK, sk: trackerReaderSK}.hc(t, cts.CtsClientBuilder()))
}

// TestSDKTrackers: the SDK creates, updates, lists and deletes trackers
// and reads the quotas, decoding every field into its typed models, and
// reads refusals as its own errors with CTS's codes.
func TestSDKTrackers(t *testing.T) {
	c, reader := startTrackerRouter(t)
	created, err := c.CreateTracker(&ctsmodel.CreateTrackerRequest{Body: &ctsmodel.CreateTrackerRequestBody{
		TrackerType: ctsmodel.GetCreateTrackerRequestBodyTrackerTypeEnum().SYSTEM, TrackerName: "system",
		ObsInfo: &ctsmodel.TrackerObsInfo{BucketName: ptr("logs"), FilePrefixName: ptr("sdk"), IsObsCreated: ptr(false),
			CompressType: ptr(ctsmodel.GetTrackerObsInfoCompressTypeEnum().GZIP), IsSortByService: ptr(true)},
		ManagementEventSelector: &ctsmodel.ManagementEventSelector{ExcludeService: &[]string{"KMS"}},
		IsLtsEnabled:            ptr(false), IsSupportValidate: ptr(false), IsSupportTraceFilesEncryption: ptr(false),
	}})
	if err != nil {
		t.Fatalf("CreateTracker: %v", err)
	}
	if created.HttpStatusCode != 201 || created.Id == nil || len(*created.Id) != 36 || created.CreateTime == nil || *created.CreateTime == 0 ||
		created.TrackerType.Value() != "system" || *created.TrackerName != "system" || created.Status.Value() != "enabled" ||
		*created.DomainId != "tracker-admin" || *created.ProjectId != testProjectID || *created.KmsId != "" ||
		*created.IsSupportValidate || *created.IsSupportTraceFilesEncryption || created.Lts == nil || *created.Lts.IsLtsEnabled ||
		created.Lts.LogGroupName == nil || created.Lts.LogTopicName == nil || (*created.ManagementEventSelector.ExcludeService)[0] != "KMS" {
		t.Errorf("created: %v", created)
	}
	o := created.ObsInfo
	if o == nil || *o.BucketName != "logs" || *o.FilePrefixName != "sdk" || *o.IsObsCreated || !*o.IsAuthorizedBucket ||
		*o.BucketLifecycle != 0 || o.CompressType.Value() != "gzip" || !*o.IsSortByService {
		t.Errorf("created obs_info: %v", o)
	}

	if _, err := c.CreateTracker(&ctsmodel.CreateTrackerRequest{Body: &ctsmodel.CreateTrackerRequestBody{
		TrackerType: ctsmodel.GetCreateTrackerRequestBodyTrackerTypeEnum().DATA, TrackerName: "data-1",
		ObsInfo:    &ctsmodel.TrackerObsInfo{BucketName: ptr("logs"), BucketLifecycle: ptr(int32(60))},
		DataBucket: &ctsmodel.DataBucket{DataBucketName: ptr("tracked"), DataEvent: &[]ctsmodel.DataBucketDataEvent{ctsmodel.GetDataBucketDataEventEnum().READ}},
	}}); err != nil {
		t.Fatalf("CreateTracker data: %v", err)
	}
	updated, err := c.UpdateTracker(&ctsmodel.UpdateTrackerRequest{Body: &ctsmodel.UpdateTrackerRequestBody{
		TrackerType: ctsmodel.GetUpdateTrackerRequestBodyTrackerTypeEnum().SYSTEM, TrackerName: "system",
		Status:  ptr(ctsmodel.GetUpdateTrackerRequestBodyStatusEnum().DISABLED),
		ObsInfo: &ctsmodel.TrackerObsInfo{BucketLifecycle: ptr(int32(30)), CompressType: ptr(ctsmodel.GetTrackerObsInfoCompressTypeEnum().JSON)},
	}})
	if err != nil || updated.HttpStatusCode != 200 {
		t.Fatalf("UpdateTracker: %v %v", updated, err)
	}

	list, err := c.ListTrackers(&ctsmodel.ListTrackersRequest{})
	if err != nil || list.Trackers == nil || len(*list.Trackers) != 2 {
		t.Fatalf("ListTrackers: %v %v", list, err)
	}
	for _, tr := range *list.Trackers {
		if tr.Id == nil || tr.CreateTime == nil || tr.GroupId == nil || tr.StreamId == nil || tr.Lts == nil || tr.ObsInfo == nil ||
			tr.DomainId == nil || tr.ProjectId == nil || tr.KmsId == nil || tr.IsSupportValidate == nil || tr.IsSupportTraceFilesEncryption == nil {
			t.Errorf("tracker without its fields: %v", tr)
		}
		switch *tr.TrackerName {
		case "system":
			if tr.Status.Value() != "disabled" || *tr.ObsInfo.BucketLifecycle != 30 || tr.ObsInfo.CompressType.Value() != "json" ||
				*tr.ObsInfo.FilePrefixName != "sdk" || tr.DataBucket != nil || *tr.Id != *created.Id {
				t.Errorf("system after update: %v", tr)
			}
		case "data-1":
			db := tr.DataBucket
			if tr.TrackerType.Value() != "data" || db == nil || *db.DataBucketName != "tracked" || *db.SearchEnabled ||
				len(*db.DataEvent) != 1 || (*db.DataEvent)[0].Value() != "READ" || *tr.ObsInfo.BucketLifecycle != 60 {
				t.Errorf("data tracker: %v", tr)
			}
		default:
			t.Errorf("unexpected tracker %v", tr)
		}
	}

	quotas, err := c.ListQuotas(&ctsmodel.ListQuotasRequest{})
	if err != nil || quotas.Resources == nil {
		t.Fatalf("ListQuotas: %v %v", quotas, err)
	}
	got := map[string][2]int64{}
	for _, q := range *quotas.Resources {
		got[*q.Type] = [2]int64{*q.Used, *q.Quota}
	}
	if got["data_tracker"] != [2]int64{1, 3} || got["system_tracker"] != [2]int64{1, 1} {
		t.Errorf("quotas: %v", got)
	}

	refused := []struct {
		body *ctsmodel.CreateTrackerRequestBody
		code string
	}{
		{&ctsmodel.CreateTrackerRequestBody{TrackerType: ctsmodel.GetCreateTrackerRequestBodyTrackerTypeEnum().SYSTEM, TrackerName: "system"}, "CTS.0201"},
		{&ctsmodel.CreateTrackerRequestBody{TrackerType: ctsmodel.GetCreateTrackerRequestBodyTrackerTypeEnum().DATA, TrackerName: "d2", IsLtsEnabled: ptr(true)}, "CTS.0003"},
		{&ctsmodel.CreateTrackerRequestBody{TrackerType: ctsmodel.GetCreateTrackerRequestBodyTrackerTypeEnum().DATA, TrackerName: "d2",
			IsSupportTraceFilesEncryption: ptr(true), KmsId: ptr("13a4207c-7abe-4b68-8510-16b84c3b5504")}, "CTS.0220"},
		{&ctsmodel.CreateTrackerRequestBody{TrackerType: ctsmodel.GetCreateTrackerRequestBodyTrackerTypeEnum().DATA, TrackerName: "d2",
			ObsInfo: &ctsmodel.TrackerObsInfo{BucketName: ptr("not-declared")}}, "CTS.0211"},
	}
	for _, r := range refused {
		_, err := c.CreateTracker(&ctsmodel.CreateTrackerRequest{Body: r.body})
		if se, ok := err.(*sdkerr.ServiceResponseError); !ok || se.StatusCode != 400 || se.ErrorCode != r.code || se.ErrorMessage == "" {
			t.Errorf("create %v: %v, want the SDK's error with %s", r.body, err, r.code)
		}
	}

	_, err = reader.DeleteTracker(&ctsmodel.DeleteTrackerRequest{TrackerName: ptr("data-1")})
	if se, ok := err.(*sdkerr.ServiceResponseError); !ok || se.StatusCode != 403 || se.ErrorCode != "CTS.0002" {
		t.Errorf("delete without cts:tracker:delete: %v, want 403 CTS.0002", err)
	}
	if list, err := reader.ListTrackers(&ctsmodel.ListTrackersRequest{}); err != nil || len(*list.Trackers) != 2 {
		t.Errorf("list with cts:tracker:list: %v %v", list, err)
	}
	del, err := c.DeleteTracker(&ctsmodel.DeleteTrackerRequest{TrackerName: ptr("data-1"), TrackerType: ptr(ctsmodel.GetDeleteTrackerRequestTrackerTypeEnum().DATA)})
	if err != nil || del.HttpStatusCode != 204 {
		t.Fatalf("DeleteTracker: %v %v", del, err)
	}
	_, err = c.DeleteTracker(&ctsmodel.DeleteTrackerRequest{TrackerName: ptr("data-1")})
	if se, ok := err.(*sdkerr.ServiceResponseError); !ok || se.StatusCode != 404 || se.ErrorCode != "CTS.0214" {
		t.Errorf("delete again: %v, want 404 CTS.0214", err)
	}
	data := ctsmodel.GetListTrackersRequestTrackerTypeEnum().DATA
	if list, err := c.ListTrackers(&ctsmodel.ListTrackersRequest{TrackerType: &data}); err != nil || len(*list.Trackers) != 0 {
		t.Errorf("data trackers after delete: %v %v", list, err)
	}
}
