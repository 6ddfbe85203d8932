package cts

import (
	"regexp"
	"slices"
)

var (
	// dataTrackerName: letters, digits, '-' and '_', starting with a
	// letter or digit, as the CTS console accepts.
	dataTrackerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`)
	// bucketName is CTS.0231's rule.
	bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{2,62}$`)
	// filePrefix is table 4-67's rule; '.' stays out (the query table
	// lists it) so that a prefix can never be "." or "..", a path step.
	filePrefix  = regexp.MustCompile(`^[0-9A-Za-z!_-]{0,64}$`)
	serviceName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// Buckets is what tracker validation asks of the declared buckets.
type Buckets interface {
	// Bucket reports whether name is declared and whether its location
	// exists.
	Bucket(name string) (declared, exists bool)
}

// checkIdentity checks tracker_type and tracker_name (CTS.0202, 0203,
// 0204, 0207) and returns the name, system for a management tracker that
// gave none.
func checkIdentity(typ, name string) (string, *Error) {
	switch typ {
	case TrackerSystem:
		if name != "" && name != TrackerSystem {
			return "", bad(CodeManagementName, "tracker_name of the management tracker can only be system, got %q", name)
		}
		return TrackerSystem, nil
	case TrackerData:
		switch {
		case name == TrackerSystem:
			return "", bad(CodeDataNameSystem, "tracker_name of a data tracker cannot be system")
		case !dataTrackerName.MatchString(name):
			return "", bad(CodeTrackerName, "tracker_name %q: 1 to 32 letters, digits, '-' or '_', starting with a letter or digit", name)
		}
		return name, nil
	}
	return "", bad(CodeTrackerType, "tracker_type %q: must be system or data", typ)
}

// checkRefused refuses what auditbus cannot do rather than accept it
// silently: LTS, KMS encryption, trace file validation, organization
// trackers.
func checkRefused(req TrackerRequest) *Error {
	on := func(b *bool) bool { return b != nil && *b }
	switch {
	case on(req.IsLtsEnabled):
		return bad(CodeBody, "is_lts_enabled: auditbus has no LTS (event analysis); set it false")
	case on(req.IsSupportTraceFilesEncryption) && (req.KmsID == nil || *req.KmsID == ""):
		return bad(CodeNoKMSID, "is_support_trace_files_encryption needs kms_id")
	case on(req.IsSupportTraceFilesEncryption) || (req.KmsID != nil && *req.KmsID != ""):
		return bad(CodeKMS, "KMS encryption of trace files is not supported: auditbus has no KMS; leave is_support_trace_files_encryption false and kms_id empty")
	case on(req.IsSupportValidate):
		return bad(CodeBody, "is_support_validate: trace file validation (digest files) is not supported; set it false")
	case on(req.IsOrganizationTracker):
		return bad(CodeBody, "is_organization_tracker: auditbus has no organizations; set it false")
	}
	if req.Status != nil && *req.Status != StatusEnabled && *req.Status != StatusDisabled {
		return bad(CodeStatus, "status %q: must be enabled or disabled", *req.Status)
	}
	if s := req.ManagementEventSelector; s != nil {
		for i, svc := range s.ExcludeService {
			if !serviceName.MatchString(svc) {
				return bad(CodeBody, "management_event_selector.exclude_service[%d] %q: 1 to 64 letters, digits, '-' or '_'", i, svc)
			}
		}
	}
	return nil
}

// applyObs checks obs_info and applies it to o (the stored one on an
// update). It returns the bucket to create, if is_obs_created asks for
// one that is declared but not there yet.
func applyObs(o *ObsInfo, in *TrackerObsInfo, bs Buckets) (create string, _ *Error) {
	if in == nil {
		return "", nil
	}
	if in.FilePrefixName != nil {
		if !filePrefix.MatchString(*in.FilePrefixName) {
			return "", bad(CodeFilePrefix, "file_prefix_name %q: 0 to 64 of 0-9, a-z, A-Z, '-', '!', '_'", *in.FilePrefixName)
		}
		o.FilePrefixName = *in.FilePrefixName
	}
	if in.BucketLifecycle != nil {
		if !slices.Contains(Lifecycles, *in.BucketLifecycle) {
			return "", bad(CodeLifecycle, "bucket_lifecycle %d: must be one of %v (days)", *in.BucketLifecycle, Lifecycles)
		}
		o.BucketLifecycle = *in.BucketLifecycle
	}
	if in.CompressType != nil {
		if *in.CompressType != CompressGzip && *in.CompressType != CompressJSON {
			return "", bad(CodeBody, "obs_info.compress_type %q: must be gzip or json", *in.CompressType)
		}
		o.CompressType = *in.CompressType
	}
	if in.IsSortByService != nil {
		o.IsSortByService = *in.IsSortByService
	}
	if in.BucketName == nil || *in.BucketName == "" {
		return "", nil // none given: the stored one (or none) stays
	}
	name, created := *in.BucketName, in.IsObsCreated != nil && *in.IsObsCreated
	if !bucketName.MatchString(name) {
		return "", bad(CodeBucketName, "bucket_name %q: 3 to 63 lowercase letters, digits, '-' or '.', starting with a letter or digit", name)
	}
	declared, exists := bs.Bucket(name)
	switch {
	case !declared && created:
		return "", bad(CodeBucketCreate, "bucket %q cannot be created: auditbus writes only to buckets its operator declared (--bucket)", name)
	case !declared:
		return "", bad(CodeNoBucket, "bucket %q does not exist: it is not one the operator declared (--bucket)", name)
	case exists && created && name != o.BucketName:
		return "", bad(CodeBucketExists, "bucket %q already exists: set is_obs_created false to use it", name)
	case !exists && !created:
		return "", bad(CodeNoBucket, "bucket %q is declared but its directory does not exist: set is_obs_created true to create it", name)
	case !exists:
		create = name
	}
	o.BucketName, o.IsObsCreated, o.IsAuthorizedBucket = name, created, true
	return create, nil
}

// applyDataBucket checks a data tracker's data_bucket against the stored
// one (nil on a create) and the project's other data trackers.
func applyDataBucket(t *Tracker, in *DataBucket, others []Tracker, bs Buckets) *Error {
	if in == nil {
		if t.DataBucket == nil {
			return bad(CodeBody, "data_bucket is required for a data tracker")
		}
		return nil
	}
	db := DataBucketQuery{DataEvent: in.DataEvent}
	if t.DataBucket != nil {
		db = *t.DataBucket
		if in.DataEvent != nil {
			db.DataEvent = in.DataEvent
		}
	}
	if in.DataBucketName != nil && *in.DataBucketName != "" {
		switch name := *in.DataBucketName; {
		case t.DataBucket != nil && name != t.DataBucket.DataBucketName:
			return bad(CodeTrackedBucketSet, "data_bucket_name cannot change once the tracker is created (it is %q)", t.DataBucket.DataBucketName)
		case !bucketName.MatchString(name):
			return bad(CodeBucketName, "data_bucket_name %q: 3 to 63 lowercase letters, digits, '-' or '.', starting with a letter or digit", name)
		default:
			if declared, _ := bs.Bucket(name); !declared {
				return bad(CodeNoBucket, "tracked bucket %q does not exist: it is not one the operator declared (--bucket)", name)
			}
			db.DataBucketName = name
		}
	}
	if db.DataBucketName == "" {
		return bad(CodeBody, "data_bucket.data_bucket_name is required for a data tracker")
	}
	if db.DataBucketName == t.ObsInfo.BucketName {
		return bad(CodeTrackedIsTransfer, "the transfer bucket %q cannot be the tracked bucket", db.DataBucketName)
	}
	if err := checkDataEvents(db.DataEvent); err != nil {
		return err
	}
	for _, o := range others {
		if o.TrackerName == t.TrackerName || o.DataBucket == nil || o.DataBucket.DataBucketName != db.DataBucketName {
			continue
		}
		for _, ev := range db.DataEvent {
			if slices.Contains(o.DataBucket.DataEvent, ev) {
				return bad(CodeTrackedTwice, "%s operations on bucket %q are already tracked by tracker %q", ev, db.DataBucketName, o.TrackerName)
			}
		}
	}
	db.DataEvent = slices.Compact(slices.Sorted(slices.Values(db.DataEvent)))
	t.DataBucket = &db
	return nil
}

func checkDataEvents(evs []string) *Error {
	if len(evs) == 0 {
		return bad(CodeNoDataEvent, "data_bucket.data_event is empty: track READ, WRITE or both")
	}
	for i, ev := range evs {
		if ev != DataEventRead && ev != DataEventWrite {
			return bad(CodeDataEvent, "data_bucket.data_event[%d] %q: only WRITE and READ can be tracked", i, ev)
		}
	}
	return nil
}
