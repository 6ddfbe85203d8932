package hss

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/auditbus/auditbus/router/index"
)

// Index is what the audit log query reads; an index.Store is the real one.
type Index interface {
	Search(ctx context.Context, q index.Query) ([]index.Record, error)
	Count(ctx context.Context, q index.Query) (int64, error)
}

// Response is the query's answer (HSS table 4).
type Response struct {
	TotalNum int64 `json:"total_num"`
	DataList []Log `json:"data_list"`
}

// Log is one record (HSS ClusterAuditLogResponseInfo). Every field is
// always present.
type Log struct {
	ClusterName string `json:"cluster_name"`
	ClusterID   string `json:"cluster_id"`
	Time        int64  `json:"time"`
	Content     string `json:"content"`
	ClusterType string `json:"cluster_type"`
	HostID      string `json:"host_id"`
	HostName    string `json:"host_name"`
	HostIP      string `json:"host_ip"`
	LineNum     string `json:"line_num"`
}

// ListClusterAuditLogs answers an audit log query over the given buses
// (nil: every bus): the Kubernetes audit events of cluster_id between
// start_time and end_time (both inclusive), newest first (event time,
// then stream sequence), limit of them (default 10, at most 200) after
// offset; with line_num, only those after the record that line_num
// names. total_num counts every match of the filters and time window,
// whatever the page. Bad parameters are a 400 *Error with code
// HSS.0001; an index failure is a 503 HSS.5030.
func ListClusterAuditLogs(ctx context.Context, ix Index, buses []string, v url.Values) (Response, *Error) {
	empty := Response{DataList: []Log{}}
	q, err := parse(v)
	if err != nil {
		return empty, err
	}
	q.Buses = buses
	total, ierr := ix.Count(ctx, q)
	if ierr != nil {
		return empty, unavailable(fmt.Errorf("index count: %w", ierr))
	}
	recs, ierr := ix.Search(ctx, q)
	if ierr != nil {
		return empty, unavailable(fmt.Errorf("index search: %w", ierr))
	}
	out := Response{TotalNum: total, DataList: make([]Log, 0, len(recs))}
	for _, rec := range recs {
		out.DataList = append(out.DataList, ToLog(rec))
	}
	return out, nil
}

// unavailable is the answer to an index failure, cause, which the
// client is not shown.
func unavailable(cause error) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeRead, Msg: "the audit index did not answer; retrying is safe",
		Err: fmt.Errorf("HSS audit log query: %w", cause)}
}

// clusterTypes are the HSS cluster_type of each managed Kubernetes
// product (the inverse of the k8s-audit source's mapping).
var clusterTypes = map[string]string{"cce": "cce", "tke": "tencent", "ack": "ali", "eks": "aws", "aks": "azure"}

// SelfBuilt is the cluster_type of a cluster no HSS record or managed
// product names: a cluster the customer runs itself.
const SelfBuilt = "self_built_idc"

// ToLog answers an indexed Kubernetes audit event as an HSS record; see
// router/README.md, "Kubernetes audit queries".
func ToLog(rec index.Record) Log {
	var env struct {
		Data        json.RawMessage `json:"data"`
		ClusterType string          `json:"clustertype"`
	}
	_ = json.Unmarshal(rec.Event, &env)
	l := Log{ClusterName: rec.Cluster, ClusterID: rec.ClusterID, Time: rec.Time.UnixMilli(),
		Content: content(env.Data), ClusterType: env.ClusterType, HostID: rec.HostID, HostName: rec.HostName,
		HostIP: rec.HostIP, LineNum: LineNum(rec)}
	if l.ClusterType == "" {
		l.ClusterType = clusterTypes[rec.Product]
	}
	if l.ClusterType == "" {
		l.ClusterType = SelfBuilt
	}
	return l
}

// content is the audit log as HSS gives it, a string: an HSS record's
// own content, else the stored audit event as compact JSON.
func content(data json.RawMessage) string {
	var hss struct {
		Content *string `json:"content"`
		AuditID string  `json:"auditID"`
	}
	if json.Unmarshal(data, &hss) == nil && hss.Content != nil && hss.AuditID == "" {
		return *hss.Content
	}
	var s string
	if json.Unmarshal(data, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, data) != nil {
		return string(data)
	}
	return b.String()
}
