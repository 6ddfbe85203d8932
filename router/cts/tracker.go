package cts

// Tracker types, statuses and the values of their enumerated fields (CTS
// API reference, 4.3.1, tables 4-66 to 4-72).
const (
	TrackerSystem   = "system"
	TrackerData     = "data"
	StatusError     = "error"
	CompressGzip    = "gzip"
	CompressJSON    = "json"
	DataEventRead   = "READ"
	DataEventWrite  = "WRITE"
	DetailNoBucket  = "noBucket" // the tracker's bucket is no longer declared
	quotaTypeSystem = "system_tracker"
	quotaTypeData   = "data_tracker"
)

// Lifecycles are the bucket_lifecycle values a tracker may set, in days.
var Lifecycles = []int64{30, 60, 90, 180, 1095}

// Tracker is a stored tracker: what GET /v3/{project_id}/trackers answers
// for it (TrackerResponseBody) and what the archive writer follows. Every
// field is always present, as CTS answers them; the LTS, KMS and
// validation fields are always off (auditbus refuses them).
type Tracker struct {
	ID                            string                  `json:"id"`
	CreateTime                    int64                   `json:"create_time"`
	KmsID                         string                  `json:"kms_id"`
	IsSupportValidate             bool                    `json:"is_support_validate"`
	IsOrganizationTracker         bool                    `json:"is_organization_tracker"`
	ManagementEventSelector       ManagementEventSelector `json:"management_event_selector"`
	Lts                           Lts                     `json:"lts"`
	TrackerType                   string                  `json:"tracker_type"`
	DomainID                      string                  `json:"domain_id"`
	ProjectID                     string                  `json:"project_id"`
	TrackerName                   string                  `json:"tracker_name"`
	Status                        string                  `json:"status"`
	Detail                        string                  `json:"detail,omitempty"`
	IsSupportTraceFilesEncryption bool                    `json:"is_support_trace_files_encryption"`
	GroupID                       string                  `json:"group_id"`
	StreamID                      string                  `json:"stream_id"`
	ObsInfo                       ObsInfo                 `json:"obs_info"`
	DataBucket                    *DataBucketQuery        `json:"data_bucket,omitempty"`
}

// ManagementEventSelector names the services whose traces a management
// tracker does not transfer.
type ManagementEventSelector struct {
	ExcludeService []string `json:"exclude_service"`
}

// Lts is the event analysis (LTS) state: never enabled here.
type Lts struct {
	IsLtsEnabled bool   `json:"is_lts_enabled"`
	LogGroupName string `json:"log_group_name"`
	LogTopicName string `json:"log_topic_name"`
}

// ObsInfo is where a tracker transfers its traces (table 4-71). An empty
// BucketName means nowhere: the tracker is kept but writes no files.
type ObsInfo struct {
	BucketName         string `json:"bucket_name"`
	FilePrefixName     string `json:"file_prefix_name"`
	IsObsCreated       bool   `json:"is_obs_created"`
	IsAuthorizedBucket bool   `json:"is_authorized_bucket"`
	BucketLifecycle    int64  `json:"bucket_lifecycle"`
	CompressType       string `json:"compress_type"`
	IsSortByService    bool   `json:"is_sort_by_service"`
}

// DataBucketQuery is a data tracker's tracked bucket (table 4-72).
type DataBucketQuery struct {
	DataBucketName string   `json:"data_bucket_name"`
	SearchEnabled  bool     `json:"search_enabled"`
	DataEvent      []string `json:"data_event"`
}

// TrackerRequest is the body of POST and PUT /v3/{project_id}/tracker
// (tables 4-66 and 4-80). Pointers tell an absent field (kept by an
// update) from a zero one.
type TrackerRequest struct {
	TrackerType                   string                   `json:"tracker_type"`
	TrackerName                   string                   `json:"tracker_name"`
	Status                        *string                  `json:"status"`
	IsOrganizationTracker         *bool                    `json:"is_organization_tracker"`
	ManagementEventSelector       *ManagementEventSelector `json:"management_event_selector"`
	IsLtsEnabled                  *bool                    `json:"is_lts_enabled"`
	ObsInfo                       *TrackerObsInfo          `json:"obs_info"`
	IsSupportTraceFilesEncryption *bool                    `json:"is_support_trace_files_encryption"`
	KmsID                         *string                  `json:"kms_id"`
	IsSupportValidate             *bool                    `json:"is_support_validate"`
	DataBucket                    *DataBucket              `json:"data_bucket"`
}

// TrackerObsInfo is the transfer bucket of a request (table 4-67).
type TrackerObsInfo struct {
	BucketName      *string `json:"bucket_name"`
	FilePrefixName  *string `json:"file_prefix_name"`
	IsObsCreated    *bool   `json:"is_obs_created"`
	BucketLifecycle *int64  `json:"bucket_lifecycle"`
	CompressType    *string `json:"compress_type"`
	IsSortByService *bool   `json:"is_sort_by_service"`
}

// DataBucket is the tracked bucket of a data tracker's request (table 4-68).
type DataBucket struct {
	DataBucketName *string  `json:"data_bucket_name"`
	DataEvent      []string `json:"data_event"`
}

// TrackersResponse is GET /v3/{project_id}/trackers's answer.
type TrackersResponse struct {
	Trackers []Tracker `json:"trackers"`
}

// Quota is one resource of GET /v3/{project_id}/quotas (table 4-111).
type Quota struct {
	Type  string `json:"type"`
	Used  int64  `json:"used"`
	Quota int64  `json:"quota"`
}

// QuotasResponse is GET /v3/{project_id}/quotas's answer.
type QuotasResponse struct {
	Resources []Quota `json:"resources"`
}
