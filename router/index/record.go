package index

import "time"

// Record is one indexed event: the fields searches filter on, and the
// event itself as stored on the bus (structured-mode CloudEvents JSON).
// Empty strings mean the event does not say.
type Record struct {
	Seq          uint64    // stream sequence; the key
	Bus          string    // from the subject
	Time         time.Time // the event's time, else when it was stored
	ID           string    // CloudEvents id
	Source       string
	Type         string
	Subject      string
	Kind         string // kind extension
	Product      string // service/product: the first segment of an audit type
	Action       string
	Principal    string
	ResourceType string
	ResourceName string
	ResourceID   string // CTS resource_id, Tencent resourceId, Kubernetes objectRef.uid
	Outcome      string
	Code         string
	SourceIP     string
	Region       string
	Cluster      string
	TraceRating  string // the tracerating extension, else warning for a failure, else normal
	RequestID    string // CTS request_id, Tencent requestID, Kubernetes auditID
	// Kubernetes audit events only (see k8sFields):
	ClusterID string // an HSS record's cluster_id, else Cluster
	HostID    string // an HSS record's host_id (the hostid extension)
	HostName  string // an HSS record's host_name (hostname)
	HostIP    string // an HSS record's host_ip (hostip)
	Scope     string // system for a system: user or none, else user
	Event     []byte // the stored event
}
