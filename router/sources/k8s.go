package sources

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/ingest"
)

// Kubernetes audit event -> CloudEvent. Accepted bodies: what kube-apiserver's
// audit webhook posts (an audit.k8s.io/v1 EventList or Event), ACP audits
// (capitalized keys, {"Items": [...]}), Huawei HSS cluster audit log records
// (content = the event as a JSON string, {"data_list": [...]}); each as one
// object, an array, or NDJSON. Lists are flattened: a *BatchError's index
// counts audit events across the whole body.
//
//	id            <auditID>-<stage>-<digest> (the digest: 8 bytes of SHA-256
//	              over the cluster and the compacted event), so the stages
//	              of one request are distinct events, a re-posted batch
//	              dedups, and a client's Audit-ID header cannot collide with
//	              another event's; auditID is required
//	source        <product>.k8s, or k8s for the default product
//	type          <product>:K8sAudit:<verb> (tke:K8sAudit:delete); unknown for
//	              a record without a verb (an HSS log line)
//	product       ?product=, else DefaultK8sProduct; an HSS record's own
//	              cluster_type wins when it names a managed service (cce ->
//	              cce, tencent -> tke, ali -> ack, aws -> eks, azure -> aks),
//	              since one HSS export spans clusters of several clouds
//	subject       the object's REST path, /api/v1/namespaces/<ns>/<resource>/<name>
//	              or /apis/<group>/<version>/...[/<subresource>]; without an
//	              objectRef, requestURI minus its query string (which may
//	              carry secrets)
//	time          stageTimestamp, else requestReceivedTimestamp (RFC 3339),
//	              else HSS's time (epoch ms)
//	cluster       the record's own cluster (ACP Cluster, HSS cluster_name, else
//	              cluster_id), else the ?cluster= parameter: a batch queried
//	              from ACP or HSS may span clusters, and the record knows
//	              where it happened; an event with neither is rejected
//	data          the record as posted, secrets redacted; for HSS the whole
//	              record, content still a string (redacted inside)
//	principal     user.username: the authenticated, accountable user
//	stage         the audit stage (RequestReceived, ResponseStarted,
//	              ResponseComplete, Panic): one request is up to four events,
//	              and a rule that alerts once per request names its stage
//	impersonateduser  impersonatedUser.username, when the request impersonated
//	action        verb
//	resourcetype  objectRef.resource, + "/" + subresource when there is one
//	resourcename  objectRef.name
//	outcome       responseStatus.code 100-399 success, >= 400 failure; status
//	              Success/Failure without a code; none without a status
//	              (RequestReceived)
//	sourceip      sourceIPs[0], the client as kube-apiserver saw it
//	kind          K8sAudit: every audit event is a request to kube-apiserver
//	apiversion    objectRef apiGroup/apiVersion (apps/v1, v1 for the core group)
//	code          responseStatus.code, the HTTP status (none for RequestReceived)
//	clustertype, hostid, hostname, hostip
//	              an HSS record's cluster_type, host_id, host_name, host_ip
//
// An HSS record whose content is not a JSON object (HSS also returns plain
// log lines) is kept rather than rejected: id hss-<hash of the record>, time
// from the record, no subject or audit extensions but cluster.

// DefaultK8sProduct is the product when the request names none.
const DefaultK8sProduct = "k8s"

// The type's parts: <product>:K8sAudit:<verb>.
const (
	K8sKind          = "K8sAudit"
	k8sTypeSeparator = ":" + K8sKind + ":"
	k8sUnknownVerb   = "unknown"
)

// hssProducts names the managed Kubernetes service of each HSS
// cluster_type; self-built clusters (self_built_hw, self_built_idc) are
// plain Kubernetes and keep the request's product.
var hssProducts = map[string]string{"cce": "cce", "tencent": "tke", "ali": "ack", "aws": "eks", "azure": "aks"}

// K8sAudit converts Kubernetes audit events posted for cluster (the
// ?cluster= parameter, "" if none) by product (?product=, "" for
// DefaultK8sProduct, e.g. "tke", "cce"). It returns every event or a
// *BatchError.
func K8sAudit(body []byte, cluster, product string, r *Redactor) ([]event.Event, error) {
	product, err := k8sProduct(product)
	if err != nil {
		return nil, err
	}
	recs, err := k8sRecords(body)
	if err != nil {
		return nil, err
	}
	return Convert(recs, r, func(rec json.RawMessage) ([]Envelope, error) {
		env, err := parseK8s(rec, cluster, product)
		if err != nil {
			return nil, err
		}
		return []Envelope{env}, nil
	})
}

// k8sProduct checks product, which becomes part of type, source and NATS
// subjects, so it is held to DNS-label rules.
func k8sProduct(product string) (string, error) {
	p := strings.ToLower(strings.TrimSpace(product))
	if p == "" {
		return DefaultK8sProduct, nil
	}
	ok := len(p) <= 63 && p[0] != '-'
	for i := 0; ok && i < len(p); i++ {
		c := p[i]
		ok = c == '-' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
	}
	if !ok {
		return "", &ingest.Error{Kind: ingest.ErrInvalidAttribute, Index: -1,
			Msg: fmt.Sprintf("product %q must be 1-63 letters, digits or '-', e.g. tke or cce", product)}
	}
	return p, nil
}

// k8sRecords splits a body into audit records, flattening lists.
func k8sRecords(body []byte) ([]json.RawMessage, error) {
	top, err := Records(body, "")
	if err != nil {
		return nil, err
	}
	var recs []json.RawMessage
	for i, rec := range top {
		items, err := k8sListItems(rec)
		if err != nil {
			return nil, indexed(i, err)
		}
		if items == nil {
			items = []json.RawMessage{rec}
		}
		recs = append(recs, items...)
	}
	return recs, nil
}

// k8sListItems returns a list's items, or nil when rec is not a list
// (including when it is not even an object: Convert reports that).
func k8sListItems(rec json.RawMessage) ([]json.RawMessage, error) {
	if len(rec) == 0 || rec[0] != '{' {
		return nil, nil
	}
	var l k8sList
	err := json.Unmarshal(rec, &l)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return nil, &ingest.Error{Kind: ingest.ErrMalformed, Index: -1,
			Msg: fmt.Sprintf("%s must be an array of audit events", te.Field)}
	}
	if err != nil {
		return nil, nil // not JSON: Convert reports it
	}
	if l.Items != nil {
		return l.Items, nil
	}
	return l.DataList, nil
}

func parseK8s(rec json.RawMessage, cluster, product string) (Envelope, error) {
	var ev k8sEvent
	if err := unmarshalRecord(rec, &ev, "audit event"); err != nil {
		return Envelope{}, err
	}
	if ev.Content != nil && ev.AuditID == "" {
		return parseHSS(rec, ev, cluster, product)
	}
	return k8sEnvelope(ev, rec, firstOf(ev.Cluster, cluster), product)
}

// parseHSS maps the audit event inside content, keeping the HSS record
// as data and lifting its cluster and host fields into extensions.
func parseHSS(rec json.RawMessage, h k8sEvent, cluster, product string) (Envelope, error) {
	at, err := epochMillis(h.Time, "time")
	if err != nil {
		return Envelope{}, err
	}
	cluster = firstOf(h.ClusterName, h.ClusterID, cluster)
	if p, ok := hssProducts[h.ClusterType]; ok {
		product = p
	}
	var env Envelope
	content := strings.TrimSpace(*h.Content)
	if !strings.HasPrefix(content, "{") || !json.Valid([]byte(content)) {
		env, err = hssOpaque(rec, at, cluster, product)
	} else {
		env, err = hssEvent(rec, content, at, cluster, product)
	}
	if err != nil {
		return Envelope{}, err
	}
	for k, v := range map[string]string{
		"clustertype": h.ClusterType, "hostid": jsonScalarText(h.HostID),
		"hostname": jsonScalarText(h.HostName), "hostip": jsonScalarText(h.HostIP),
	} {
		if v != "" {
			env.Extra[k] = v
		}
	}
	return env, nil
}

func hssEvent(rec json.RawMessage, content string, at time.Time, cluster, product string) (Envelope, error) {
	var ev k8sEvent
	if err := unmarshalRecord(json.RawMessage(content), &ev, "content"); err != nil {
		return Envelope{}, err
	}
	env, err := k8sEnvelope(ev, rec, cluster, product)
	if err == nil && env.Time.IsZero() {
		env.Time = at
	}
	return env, err
}

func hssOpaque(rec json.RawMessage, at time.Time, cluster, product string) (Envelope, error) {
	if cluster == "" {
		return Envelope{}, k8sNoCluster()
	}
	return Envelope{
		ID: hssOpaqueID(rec), Source: k8sSource(product), Type: k8sType(product, ""),
		Time: at, Extra: map[string]string{"cluster": cluster}, Record: rec,
		Audit: Audit{Kind: K8sKind},
	}, nil
}

// k8sType is <product>:K8sAudit:<verb>.
func k8sType(product, verb string) string {
	return product + k8sTypeSeparator + cmp.Or(verb, k8sUnknownVerb)
}

func k8sEnvelope(ev k8sEvent, rec json.RawMessage, cluster, product string) (Envelope, error) {
	if ev.AuditID == "" {
		return Envelope{}, &ingest.Error{Kind: ingest.ErrMissingAttribute, Index: -1,
			Msg: "audit event has no auditID, which kube-apiserver sets on every event"}
	}
	if cluster == "" {
		return Envelope{}, k8sNoCluster()
	}
	at, err := k8sTime(ev)
	if err != nil {
		return Envelope{}, err
	}
	id, err := k8sID(ev, rec, cluster)
	if err != nil {
		return Envelope{}, err
	}
	extra := map[string]string{"cluster": cluster}
	if ev.Stage != "" {
		extra["stage"] = ev.Stage
	}
	if ev.ImpersonatedUser != nil {
		extra["impersonateduser"] = ev.ImpersonatedUser.Username
	}
	var sourceIP string
	if len(ev.SourceIPs) > 0 {
		sourceIP = ev.SourceIPs[0]
	}
	return Envelope{
		ID: id, Source: k8sSource(product), Type: k8sType(product, ev.Verb),
		Subject: ev.objectPath(), Time: at, Extra: extra, Record: rec,
		Audit: Audit{
			Principal: ev.User.Username, Action: ev.Verb,
			ResourceType: ev.resourceType(), ResourceName: ev.ref().Name,
			Outcome: ev.outcome(), SourceIP: sourceIP,
			Kind: K8sKind, APIVersion: ev.apiVersion(), Code: ev.code(),
		},
	}, nil
}

func k8sNoCluster() error {
	return &ingest.Error{Kind: ingest.ErrMissingAttribute, Index: -1,
		Msg: "cluster unknown: pass ?cluster=NAME, or send records that name their cluster"}
}

// k8sID is <auditID>-<stage>-<digest>. AuditID and stage keep the stages
// of one request apart; the digest of cluster and record is there because
// kube-apiserver takes auditID from a client's Audit-ID header, so any user
// could otherwise choose the id of a later event (or another cluster's)
// and have it dropped as a duplicate. An apiserver retry posts the same
// bytes, so a re-posted batch still dedups.
func k8sID(ev k8sEvent, rec json.RawMessage, cluster string) (string, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, rec); err != nil {
		return "", &ingest.Error{Kind: ingest.ErrMalformed, Index: -1, Msg: fmt.Sprintf("audit event is not JSON: %v", err)}
	}
	h := sha256.New()
	h.Write([]byte(cluster))
	h.Write([]byte{0})
	h.Write(compact.Bytes())
	id := ev.AuditID
	if ev.Stage != "" {
		id += "-" + ev.Stage
	}
	return id + "-" + hex.EncodeToString(h.Sum(nil)[:8]), nil
}

// k8sSource keeps plain Kubernetes at "k8s" rather than "k8s.k8s".
func k8sSource(product string) string {
	if product == DefaultK8sProduct {
		return DefaultK8sProduct
	}
	return product + ".k8s"
}

func k8sTime(ev k8sEvent) (time.Time, error) {
	for _, f := range []struct{ name, value string }{
		{"stageTimestamp", ev.StageTimestamp}, {"requestReceivedTimestamp", ev.RequestReceivedTimestamp},
	} {
		if f.value == "" {
			continue
		}
		// An offset can push a valid local time outside the years RFC 3339
		// can write in UTC, which is how time is stored.
		t, err := time.Parse(time.RFC3339Nano, f.value)
		if y := t.UTC().Year(); err != nil || y < 1 || y > 9999 {
			return time.Time{}, &ingest.Error{Kind: ingest.ErrInvalidAttribute, Index: -1, Attribute: "time",
				Msg: fmt.Sprintf("%s %.40q is not an RFC 3339 time in years 0001-9999", f.name, f.value)}
		}
		return t, nil
	}
	return time.Time{}, nil
}
