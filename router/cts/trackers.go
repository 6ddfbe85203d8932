package cts

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"
)

// Sentinel errors of a TrackerStore.
var (
	ErrTrackerNotFound = errors.New("tracker not found")
	ErrTrackerChanged  = errors.New("the project's trackers changed meanwhile")
)

// TrackerStore keeps trackers, per project; archive.Trackers (a NATS KV
// bucket every replica shares) is the real one.
type TrackerStore interface {
	// List returns the project's trackers, by name.
	List(ctx context.Context, project string) ([]Tracker, error)
	// Get returns a tracker and its revision, or ErrTrackerNotFound.
	Get(ctx context.Context, project, name string) (Tracker, uint64, error)
	// Snapshot returns the project's trackers, by name, and the project's
	// revision, which every create, update or delete of one of them
	// moves on.
	Snapshot(ctx context.Context, project string) ([]Tracker, uint64, error)
	// Put creates or replaces t if its project is still at revision rev
	// (Snapshot's), ErrTrackerChanged otherwise: a create or update
	// checked against a snapshot holds under concurrent writers.
	Put(ctx context.Context, t Tracker, rev uint64) error
	// Delete removes a tracker; ErrTrackerNotFound if there is none.
	Delete(ctx context.Context, project, name string) error
}

// BucketMaker is the declared buckets, which can create the location of
// one that does not exist yet (is_obs_created).
type BucketMaker interface {
	Buckets
	Create(name string) error
}

// DefaultDataTrackerQuota is how many data trackers a project may have
// (the quota CTS answers); the management tracker's quota is always 1.
const DefaultDataTrackerQuota = 100

// Trackers answers the tracker and quota endpoints.
type Trackers struct {
	Store   TrackerStore
	Buckets BucketMaker
	// DataQuota bounds a project's data trackers; 0 means
	// DefaultDataTrackerQuota.
	DataQuota int64
	Now       func() time.Time // default time.Now
}

var projectID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func checkProject(p string) *Error {
	if !projectID.MatchString(p) {
		return bad(CodeQuery, "project_id %q: 1 to 64 letters, digits, '-' or '_'", p)
	}
	return nil
}

func decode(body []byte) (TrackerRequest, *Error) {
	var req TrackerRequest
	if len(bytes.TrimSpace(body)) == 0 {
		return req, bad(CodeBody, "the body is empty: send a tracker as JSON")
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return req, bad(CodeBody, "the body is not a tracker: %v", err)
	}
	return req, nil
}

func storeErr(op string, err error) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeWrite, Msg: fmt.Sprintf("%s: the tracker store did not answer (%v); retrying is safe", op, err)}
}

func readErr(err error) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeRead, Msg: fmt.Sprintf("the tracker store did not answer (%v); retrying is safe", err)}
}

// Create answers POST /v3/{project_id}/tracker: a new tracker, enabled
// unless status says otherwise, or the *Error of the first field that is
// wrong (nothing is stored then). domain is the creator's account, shown
// as domain_id.
func (s *Trackers) Create(ctx context.Context, project, domain string, body []byte) (Tracker, *Error) {
	req, err := s.parse(project, body)
	if err != nil {
		return Tracker{}, err
	}
	var t Tracker
	cerr := s.retry(ctx, project, func(all []Tracker, bs Buckets) (*Tracker, string, *Error) {
		if e := s.checkQuota(req, all); e != nil {
			return nil, "", e
		}
		t = Tracker{
			ID: newID(), CreateTime: s.now().UnixMilli(), TrackerType: req.TrackerType, TrackerName: req.TrackerName,
			ProjectID: project, DomainID: domain, Status: StatusEnabled,
			ObsInfo:                 ObsInfo{CompressType: CompressGzip, IsSortByService: true},
			ManagementEventSelector: ManagementEventSelector{ExcludeService: []string{}},
		}
		bucket, err := apply(&t, req, all, bs)
		return &t, bucket, err
	})
	if cerr != nil {
		return Tracker{}, cerr
	}
	return t, nil
}

// maxAttempts bounds how often a create or update is checked again after
// another replica changed the project's trackers in between: each lost
// attempt means some other write succeeded, so only a project under a
// storm of writes runs out (CodeWrite, retrying is safe).
const maxAttempts = 64

// retry runs check against a snapshot of the project's trackers and stores
// the tracker it returns at that snapshot's revision, again from a new
// snapshot while another write got in between. A check's *Error ends it.
// The bucket a check asks for (is_obs_created) is created before the
// store; a later attempt's check sees it as not there yet, as the first
// did, so that it is not refused as one that exists (CodeBucketExists).
func (s *Trackers) retry(ctx context.Context, project string, check func(all []Tracker, bs Buckets) (*Tracker, string, *Error)) *Error {
	var made string
	for range maxAttempts {
		all, rev, err := s.Store.Snapshot(ctx, project)
		if err != nil {
			return readErr(err)
		}
		t, bucket, cerr := check(all, notYet{s.Buckets, made})
		if cerr != nil {
			return cerr
		}
		if bucket != "" {
			if err := s.Buckets.Create(bucket); err != nil {
				return bad(CodeBucketCreate, "bucket %q could not be created: %v", bucket, err)
			}
			made = bucket
		}
		t.Detail = ""
		perr := s.Store.Put(ctx, *t, rev)
		if perr == nil {
			return nil
		}
		if !errors.Is(perr, ErrTrackerChanged) {
			return storeErr("store tracker", perr)
		}
	}
	return storeErr("store tracker", fmt.Errorf("project %s: %d attempts lost to concurrent writes: %w", project, maxAttempts, ErrTrackerChanged))
}

// Update answers PUT /v3/{project_id}/tracker: the fields given replace
// the stored ones, the others stay. A tracker that does not exist is
// CTS.0214; a data tracker's status changes only with its data_bucket
// (name and events) given, as CTS requires.
func (s *Trackers) Update(ctx context.Context, project string, body []byte) *Error {
	req, err := s.parse(project, body)
	if err != nil {
		return err
	}
	return s.retry(ctx, project, func(all []Tracker, bs Buckets) (*Tracker, string, *Error) {
		i := slices.IndexFunc(all, func(t Tracker) bool { return t.TrackerName == req.TrackerName })
		if i < 0 || all[i].TrackerType != req.TrackerType {
			return nil, "", &Error{Status: http.StatusNotFound, Code: CodeNoTracker, Msg: fmt.Sprintf("%s tracker %q does not exist", req.TrackerType, req.TrackerName)}
		}
		t := all[i]
		if db := req.DataBucket; t.TrackerType == TrackerData && req.Status != nil &&
			(db == nil || db.DataBucketName == nil || *db.DataBucketName == "" || len(db.DataEvent) == 0) {
			return nil, "", bad(CodeBody, "data_bucket.data_bucket_name and data_bucket.data_event are required to enable or disable a data tracker")
		}
		bucket, err := apply(&t, req, all, bs)
		return &t, bucket, err
	})
}

func (s *Trackers) parse(project string, body []byte) (TrackerRequest, *Error) {
	if err := checkProject(project); err != nil {
		return TrackerRequest{}, err
	}
	req, err := decode(body)
	if err != nil {
		return req, err
	}
	if req.TrackerName, err = checkIdentity(req.TrackerType, req.TrackerName); err != nil {
		return req, err
	}
	if req.TrackerType == TrackerSystem && req.DataBucket != nil {
		return req, bad(CodeManagementData, "data_bucket cannot be set on the management tracker")
	}
	return req, checkRefused(req)
}

func (s *Trackers) checkQuota(req TrackerRequest, all []Tracker) *Error {
	var data int64
	for _, t := range all {
		switch {
		case t.TrackerType == TrackerSystem && req.TrackerType == TrackerSystem:
			return bad(CodeManagementExists, "the management tracker exists: update it with PUT")
		case t.TrackerName == req.TrackerName:
			return &Error{Status: http.StatusForbidden, Code: CodeTrackerExists, Msg: fmt.Sprintf("data tracker %q exists: update it with PUT", req.TrackerName)}
		case t.TrackerType == TrackerData:
			data++
		}
	}
	if req.TrackerType == TrackerData && data >= s.dataQuota() {
		return bad(CodeTrackerQuota, "the project has %d data trackers, its quota: delete or reuse one", data)
	}
	return nil
}

// notYet is the declared buckets as they were before this request
// created bucket made.
type notYet struct {
	Buckets
	made string
}

func (b notYet) Bucket(name string) (declared, exists bool) {
	declared, exists = b.Buckets.Bucket(name)
	return declared, exists && name != b.made
}

// apply checks the rest of req against t (all are the project's
// trackers) and applies it to t; create is a bucket to create first
// (is_obs_created).
func apply(t *Tracker, req TrackerRequest, all []Tracker, bs Buckets) (create string, _ *Error) {
	create, err := applyObs(&t.ObsInfo, req.ObsInfo, bs)
	if err != nil {
		return "", err
	}
	if t.TrackerType == TrackerData {
		if err := applyDataBucket(t, req.DataBucket, all, bs); err != nil {
			return "", err
		}
	}
	if req.Status != nil {
		t.Status = *req.Status
	}
	if req.ManagementEventSelector != nil {
		t.ManagementEventSelector.ExcludeService = append([]string{}, req.ManagementEventSelector.ExcludeService...)
	}
	return create, nil
}

// List answers GET /v3/{project_id}/trackers: the project's trackers,
// those of tracker_name and tracker_type when given. A tracker whose
// bucket is no longer declared shows status error, detail noBucket.
func (s *Trackers) List(ctx context.Context, project string, q url.Values) (TrackersResponse, *Error) {
	out := TrackersResponse{Trackers: []Tracker{}}
	if err := checkProject(project); err != nil {
		return out, err
	}
	name, typ := q.Get("tracker_name"), q.Get("tracker_type")
	if typ != "" && typ != TrackerSystem && typ != TrackerData {
		return out, bad(CodeTrackerType, "tracker_type %q: must be system or data", typ)
	}
	all, err := s.Store.List(ctx, project)
	if err != nil {
		return out, readErr(err)
	}
	for _, t := range all {
		if (name == "" || t.TrackerName == name) && (typ == "" || t.TrackerType == typ) {
			out.Trackers = append(out.Trackers, s.withHealth(t))
		}
	}
	return out, nil
}

func (s *Trackers) withHealth(t Tracker) Tracker {
	if t.ObsInfo.BucketName == "" {
		return t
	}
	if declared, exists := s.Buckets.Bucket(t.ObsInfo.BucketName); !declared || !exists {
		t.Status, t.Detail = StatusError, DetailNoBucket
	}
	return t
}

// Delete answers DELETE /v3/{project_id}/trackers: the data tracker
// tracker_name, or every data tracker of the project without one. Only
// data trackers can be deleted (tracker_type data, its default).
func (s *Trackers) Delete(ctx context.Context, project string, q url.Values) *Error {
	if err := checkProject(project); err != nil {
		return err
	}
	if typ := q.Get("tracker_type"); typ != "" && typ != TrackerData {
		return bad(CodeTrackerType, "tracker_type %q: only data trackers can be deleted", typ)
	}
	name := q.Get("tracker_name")
	if name != "" {
		t, _, err := s.Store.Get(ctx, project, name)
		switch {
		case errors.Is(err, ErrTrackerNotFound) || (err == nil && t.TrackerType != TrackerData):
			return &Error{Status: http.StatusNotFound, Code: CodeNoTracker, Msg: fmt.Sprintf("data tracker %q does not exist", name)}
		case err != nil:
			return readErr(err)
		}
		if err := s.Store.Delete(ctx, project, name); err != nil && !errors.Is(err, ErrTrackerNotFound) {
			return storeErr("delete tracker", err)
		}
		return nil
	}
	all, err := s.Store.List(ctx, project)
	if err != nil {
		return readErr(err)
	}
	for _, t := range all {
		if t.TrackerType != TrackerData {
			continue
		}
		if err := s.Store.Delete(ctx, project, t.TrackerName); err != nil && !errors.Is(err, ErrTrackerNotFound) {
			return &Error{Status: http.StatusInternalServerError, Code: CodeWrite, Msg: fmt.Sprintf("some data trackers were not deleted: %q: %v", t.TrackerName, err)}
		}
	}
	return nil
}

// Quotas answers GET /v3/{project_id}/quotas: the data and management
// trackers used and allowed.
func (s *Trackers) Quotas(ctx context.Context, project string) (QuotasResponse, *Error) {
	if err := checkProject(project); err != nil {
		return QuotasResponse{}, err
	}
	all, err := s.Store.List(ctx, project)
	if err != nil {
		return QuotasResponse{}, readErr(err)
	}
	var sys, data int64
	for _, t := range all {
		if t.TrackerType == TrackerSystem {
			sys++
		} else {
			data++
		}
	}
	return QuotasResponse{Resources: []Quota{
		{Type: quotaTypeData, Used: data, Quota: s.dataQuota()},
		{Type: quotaTypeSystem, Used: sys, Quota: 1},
	}}, nil
}

func (s *Trackers) dataQuota() int64 {
	if s.DataQuota > 0 {
		return s.DataQuota
	}
	return DefaultDataTrackerQuota
}

func (s *Trackers) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// newID is a random (version 4) UUID, as CTS's tracker ids are.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
