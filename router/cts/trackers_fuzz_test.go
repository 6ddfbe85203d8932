package cts

import (
	"net/http"
	"testing"
)

// declared is a fixed set of declared buckets: name to whether its
// directory exists.
type declared map[string]bool

func (d declared) Bucket(name string) (bool, bool) { e, ok := d[name]; return ok, e }

// FuzzTrackerRequest: any body either passes every check or is refused
// with a 400 or 403 CTS error with a message; a body that passes yields a
// tracker whose fields satisfy the checks.
func FuzzTrackerRequest(f *testing.F) {
	for _, s := range []string{
		`{"tracker_type":"system","tracker_name":"system","obs_info":{"bucket_name":"logs","file_prefix_name":"a!_-","bucket_lifecycle":30,"compress_type":"json"}}`,
		`{"tracker_type":"data","tracker_name":"d-1","data_bucket":{"data_bucket_name":"tracked","data_event":["READ","WRITE"]}}`,
		`{"tracker_type":"system","is_lts_enabled":true}`, `{"tracker_type":"data","tracker_name":"","status":"x"}`, ``, `null`, `[]`,
	} {
		f.Add([]byte(s))
	}
	bs := declared{"logs": true, "tracked": true, "fresh": false}
	s := &Trackers{}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := s.parse("p1", body)
		tr := Tracker{TrackerType: req.TrackerType, TrackerName: req.TrackerName, ObsInfo: ObsInfo{CompressType: CompressGzip}}
		if err == nil {
			_, err = applyObs(&tr.ObsInfo, req.ObsInfo, bs)
		}
		if err == nil && tr.TrackerType == TrackerData {
			err = applyDataBucket(&tr, req.DataBucket, nil, bs)
		}
		if err != nil {
			if (err.Status != http.StatusBadRequest && err.Status != http.StatusForbidden) || err.Code == "" || err.Msg == "" {
				t.Fatalf("refusal without status, code or message: %+v", err)
			}
			return
		}
		if !filePrefix.MatchString(tr.ObsInfo.FilePrefixName) || (tr.ObsInfo.BucketName != "" && !bucketName.MatchString(tr.ObsInfo.BucketName)) {
			t.Fatalf("accepted obs_info %+v", tr.ObsInfo)
		}
		if tr.TrackerType == TrackerData && (tr.DataBucket == nil || len(tr.DataBucket.DataEvent) == 0) {
			t.Fatalf("accepted data tracker without data_bucket: %+v", tr)
		}
	})
}
