package sources

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
)

// The audit.k8s.io/v1 Event fields the mapping reads, defined here rather
// than imported so the router does not depend on k8s.io. encoding/json
// matches keys case-insensitively, so the same structs read ACP's
// capitalized variant (AuditID, ObjectRef.APIGroup, SourceIPs, ...).
type k8sEvent struct {
	AuditID                  string        `json:"auditID"`
	Stage                    string        `json:"stage"`
	Verb                     string        `json:"verb"`
	RequestURI               string        `json:"requestURI"`
	User                     k8sUser       `json:"user"`
	ImpersonatedUser         *k8sUser      `json:"impersonatedUser"`
	SourceIPs                []string      `json:"sourceIPs"`
	ObjectRef                *k8sObjectRef `json:"objectRef"`
	ResponseStatus           *k8sStatus    `json:"responseStatus"`
	RequestReceivedTimestamp string        `json:"requestReceivedTimestamp"`
	StageTimestamp           string        `json:"stageTimestamp"`
	// Cluster is ACP's: audits queried from ACP name their cluster.
	Cluster string `json:"cluster"`

	// The fields of a Huawei HSS cluster audit log record: cluster
	// metadata around content, a string that normally holds the audit
	// event as JSON. Read with the event's own, one decode serves every
	// shape; a record with content and no auditID is an HSS record.
	ClusterID   string          `json:"cluster_id"`
	ClusterName string          `json:"cluster_name"`
	ClusterType string          `json:"cluster_type"`
	Time        json.RawMessage `json:"time"`
	Content     *string         `json:"content"`
	// HSS documents the host fields as strings, yet its own sample
	// writes host_name as a number: both are read.
	HostID   json.RawMessage `json:"host_id"`
	HostName json.RawMessage `json:"host_name"`
	HostIP   json.RawMessage `json:"host_ip"`
}

type k8sUser struct {
	Username string `json:"username"`
}

type k8sObjectRef struct {
	Resource    string `json:"resource"`
	Subresource string `json:"subresource"`
	Namespace   string `json:"namespace"`
	Name        string `json:"name"`
	APIGroup    string `json:"apiGroup"`
	APIVersion  string `json:"apiVersion"`
}

type k8sStatus struct {
	Code   int    `json:"code"`
	Status string `json:"status"`
}

// k8sList reads the list wrappers: an EventList's items (ACP: Items) and
// HSS's data_list.
type k8sList struct {
	Items    []json.RawMessage `json:"items"`
	DataList []json.RawMessage `json:"data_list"`
}

// objectPath is the REST path of the object the request addressed, as
// kube-apiserver serves it: stable per object, unlike requestURI, whose
// query string varies and may carry secrets (OAuth codes, watch tokens).
func (ev k8sEvent) objectPath() string {
	ref := ev.ref()
	if ref.Resource == "" {
		path, _, _ := strings.Cut(ev.RequestURI, "?")
		return path
	}
	var b strings.Builder
	if ref.APIGroup == "" {
		b.WriteString("/api")
	} else {
		b.WriteString("/apis/" + ref.APIGroup)
	}
	namespace := ref.Namespace
	if ref.Resource == "namespaces" {
		namespace = "" // the apiserver sets a Namespace's own name as its namespace
	}
	for _, seg := range []struct{ prefix, value string }{
		{"", ref.APIVersion}, {"namespaces/", namespace}, {"", ref.Resource},
		{"", ref.Name}, {"", ref.Subresource},
	} {
		if seg.value != "" {
			b.WriteString("/" + seg.prefix + seg.value)
		}
	}
	return b.String()
}

// ref is the object reference, empty for non-resource requests (/healthz).
func (ev k8sEvent) ref() k8sObjectRef {
	if ev.ObjectRef == nil {
		return k8sObjectRef{}
	}
	return *ev.ObjectRef
}

// resourceType names subresources the way RBAC does: pods/exec.
func (ev k8sEvent) resourceType() string {
	r := ev.ref()
	if r.Resource == "" || r.Subresource == "" {
		return r.Resource
	}
	return r.Resource + "/" + r.Subresource
}

// apiVersion is the API the request called, as a manifest's apiVersion
// writes it: apps/v1, or v1 for the core group; "" for non-resource requests.
func (ev k8sEvent) apiVersion() string {
	r := ev.ref()
	if r.APIGroup == "" || r.APIVersion == "" {
		return r.APIVersion
	}
	return r.APIGroup + "/" + r.APIVersion
}

// code is the HTTP status of the answer, "" when there is none.
func (ev k8sEvent) code() string {
	if ev.ResponseStatus == nil || ev.ResponseStatus.Code == 0 {
		return ""
	}
	return strconv.Itoa(ev.ResponseStatus.Code)
}

// outcome follows the HTTP code; a status without a code (some proxies
// drop it) still says Success or Failure. RequestReceived events have
// no status and so no outcome.
func (ev k8sEvent) outcome() string {
	s := ev.ResponseStatus
	switch {
	case s == nil:
		return ""
	case s.Code != 0:
		return statusCodeOutcome(s.Code)
	case s.Status == "Success":
		return OutcomeSuccess
	case s.Status == "Failure":
		return OutcomeFailure
	}
	return ""
}

// hssOpaqueID identifies an HSS record whose content is not an audit
// event, deterministically so that a re-posted record dedups.
func hssOpaqueID(rec json.RawMessage) string {
	var compact bytes.Buffer
	if json.Compact(&compact, rec) != nil {
		compact.Write(rec)
	}
	sum := sha256.Sum256(compact.Bytes())
	return "hss-" + hex.EncodeToString(sum[:16])
}
