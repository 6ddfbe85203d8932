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
	"time"
)

// Sentinel errors of a TrackerStore.
var (
	ErrTrackerExists   = errors.New("tracker exists")
	ErrTrackerNotFound = errors.New("tracker not found")
	ErrTrackerChanged  = errors.New("tracker changed meanwhile")
)

// TrackerStore keeps trackers, per project; archive.Trackers (a NATS KV
// bucket every replica shares) is the real one.
type TrackerStore interface {
	// List returns the project's trackers, by name.
	List(ctx context.Context, project string) ([]Tracker, error)
	// Get returns a tracker and its revision, or ErrTrackerNotFound.
	Get(ctx context.Context, project, name string) (Tracker, uint64, error)
	// Put creates t when rev is 0 (ErrTrackerExists if it exists), else
	// replaces revision rev (ErrTrackerChanged if it is no longer that).
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
	all, lerr := s.Store.List(ctx, project)
	if lerr != nil {
		return Tracker{}, readErr(lerr)
	}
	if e := s.checkQuota(req, all); e != nil {
		return Tracker{}, e
	}
	t := Tracker{
		ID: newID(), CreateTime: s.now().UnixMilli(), TrackerType: req.TrackerType, TrackerName: req.TrackerName,
		ProjectID: project, DomainID: domain, Status: StatusEnabled,
		ObsInfo:                 ObsInfo{CompressType: CompressGzip, IsSortByService: true},
		ManagementEventSelector: ManagementEventSelector{ExcludeService: []string{}},
	}
	return t, s.apply(ctx, &t, req, all, 0)
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
	t, rev, gerr := s.Store.Get(ctx, project, req.TrackerName)
	switch {
	case errors.Is(gerr, ErrTrackerNotFound) || (gerr == nil && t.TrackerType != req.TrackerType):
		return &Error{Status: http.StatusNotFound, Code: CodeNoTracker, Msg: fmt.Sprintf("%s tracker %q does not exist", req.TrackerType, req.TrackerName)}
	case gerr != nil:
		return readErr(gerr)
	}
	if db := req.DataBucket; t.TrackerType == TrackerData && req.Status != nil &&
		(db == nil || db.DataBucketName == nil || *db.DataBucketName == "" || len(db.DataEvent) == 0) {
		return bad(CodeBody, "data_bucket.data_bucket_name and data_bucket.data_event are required to enable or disable a data tracker")
	}
	all, lerr := s.Store.List(ctx, project)
	if lerr != nil {
		return readErr(lerr)
	}
	return s.apply(ctx, &t, req, all, rev)
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

// apply checks the rest of req against t, creates a bucket asked for,
// and stores t.
func (s *Trackers) apply(ctx context.Context, t *Tracker, req TrackerRequest, all []Tracker, rev uint64) *Error {
	create, err := applyObs(&t.ObsInfo, req.ObsInfo, s.Buckets)
	if err != nil {
		return err
	}
	if t.TrackerType == TrackerData {
		if err := applyDataBucket(t, req.DataBucket, all, s.Buckets); err != nil {
			return err
		}
	}
	if req.Status != nil {
		t.Status = *req.Status
	}
	if req.ManagementEventSelector != nil {
		t.ManagementEventSelector.ExcludeService = append([]string{}, req.ManagementEventSelector.ExcludeService...)
	}
	if create != "" {
		if err := s.Buckets.Create(create); err != nil {
			return bad(CodeBucketCreate, "bucket %q could not be created: %v", create, err)
		}
	}
	t.Detail = ""
	if perr := s.Store.Put(ctx, *t, rev); perr != nil {
		if errors.Is(perr, ErrTrackerExists) {
			return &Error{Status: http.StatusForbidden, Code: CodeTrackerExists, Msg: fmt.Sprintf("tracker %q exists: update it with PUT", t.TrackerName)}
		}
		return storeErr("store tracker", perr)
	}
	return nil
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
