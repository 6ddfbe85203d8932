package rulestest

import (
	"fmt"
	"strings"
	"time"
)

// record is a CloudAudit call record (what LookUpEvents returns in
// CloudAuditEvent and EventBridge carries as data), fields in Tencent's
// order so generated files read like real ones.
type record struct {
	EventVersion      int           `json:"eventVersion"`
	UserIdentity      identity      `json:"userIdentity"`
	EventTime         int64         `json:"eventTime"`
	EventSource       string        `json:"eventSource"`
	EventName         string        `json:"eventName"`
	EventRegion       string        `json:"eventRegion"`
	EventType         string        `json:"eventType"`
	EventID           string        `json:"eventId"`
	ErrorCode         int           `json:"errorCode"`
	ErrorMessage      string        `json:"errorMessage"`
	RequestID         string        `json:"requestID"`
	APIVersion        string        `json:"apiVersion"`
	APIErrorCode      string        `json:"apiErrorCode"`
	APIErrorMessage   string        `json:"apiErrorMessage"`
	SourceIPAddress   string        `json:"sourceIPAddress"`
	UserAgent         string        `json:"userAgent"`
	HTTPMethod        string        `json:"httpMethod"`
	ResourceType      string        `json:"resourceType"`
	ResourceName      string        `json:"resourceName"`
	Resources         []resourceRef `json:"resources"`
	RequestParameters string        `json:"requestParameters"`
	ResponseElements  string        `json:"responseElements"`
	ActionType        string        `json:"actionType"`
	SensitiveAction   string        `json:"sensitiveAction"`
	IsSimulated       bool          `json:"isSimulated"`
	APIURIInfo        uriInfo       `json:"apiUriInfo"`
	TLSDetails        tlsDetails    `json:"tlsDetails"`
	Tags              []tag         `json:"tags"`
	AccountAlias      string        `json:"accountAlias"`
	Zone              string        `json:"zone"`
	ProjectID         int           `json:"projectId"`
}

type identity struct {
	PrincipalID    string `json:"principalId"`
	AccountID      string `json:"accountId"`
	Type           string `json:"type"`
	SecretID       string `json:"secretId"`
	SessionContext string `json:"sessionContext"`
	UserName       string `json:"userName"`
	SourceIP       string `json:"sourceIp"`
}

type resourceRef struct {
	ResourceType string `json:"resourceType"`
	ResourceName string `json:"resourceName"`
	ResourceID   string `json:"resourceId"`
}

type uriInfo struct {
	Host  string `json:"host"`
	Path  string `json:"path"`
	Query string `json:"query"`
}

type tlsDetails struct {
	TLSVersion  string `json:"tlsVersion"`
	CipherSuite string `json:"cipherSuite"`
	HostHeader  string `json:"clientProvidedHostHeader"`
}

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

var envs = []string{"prod", "staging", "dev"}

// record fills the fields rules look at from the call, and the rest with
// the plausible bulk that makes a real record about 2 KB.
func (c call) record(r *rng, id string, at time.Time) record {
	host := c.product + ".tencentcloudapi.com"
	requestID := uuid(r)
	vpc := "vpc-" + resourceID(uint64(r.next()), 0)
	rec := record{
		EventVersion: 2,
		UserIdentity: identity{
			PrincipalID: c.principal(), AccountID: c.res.account, Type: c.user.kind,
			SecretID: "AKID" + strings.Repeat("*", 32), UserName: c.user.name, SourceIP: c.sourceIP,
		},
		EventTime: at.Unix(), EventSource: host, EventName: c.op, EventRegion: c.res.region,
		EventType: c.kind, EventID: id, ErrorCode: c.errorCode, RequestID: requestID,
		APIVersion: c.apiVersion, SourceIPAddress: c.sourceIP, UserAgent: pick(r, userAgents),
		HTTPMethod: "POST", ResourceType: c.resType, ResourceName: c.res.id,
		Resources: []resourceRef{
			{c.resType, c.res.id, c.res.subject(&product{code: c.product, resType: c.resType})},
			{"vpc", vpc, "qcs::vpc:" + c.res.region + ":uin/" + c.res.account + ":vpc/" + vpc},
		},
		RequestParameters: c.requestParameters(r),
		ResponseElements:  fmt.Sprintf(`{"RequestId":"%s"}`, requestID),
		ActionType:        "Write", SensitiveAction: "true",
		APIURIInfo: uriInfo{Host: host, Path: "/"},
		TLSDetails: tlsDetails{"TLSv1.3", "TLS_AES_128_GCM_SHA256", host},
		Tags: []tag{
			{"env", pick(r, envs)}, {"team", pick(r, []string{"platform", "data", "payments", "web"})},
			{"cost-center", fmt.Sprintf("cc-%d", 1000+r.intn(64))},
		},
		AccountAlias: "acct-" + c.res.account[len(c.res.account)-4:],
		Zone:         fmt.Sprintf("%s-%d", c.res.region, 1+r.intn(4)),
	}
	if strings.HasPrefix(c.op, "Describe") || strings.HasPrefix(c.op, "Get") || strings.HasPrefix(c.op, "List") {
		rec.ActionType, rec.SensitiveAction = "Read", "false"
	}
	if c.errorCode != 0 {
		for _, f := range failureCodes {
			if f.code == c.errorCode {
				rec.APIErrorCode, rec.APIErrorMessage, rec.ErrorMessage = f.api, f.msg, f.api
			}
		}
	}
	return rec
}

// requestParameters is the call's request as the JSON text CloudAudit
// stores, not as an object: rules cannot look into it without a
// condition, which is why real records are bulky but cheap to skip.
func (c call) requestParameters(r *rng) string {
	return fmt.Sprintf(`{"%s":"%s","Region":"%s","Version":"%s","Action":"%s","ClientToken":"%s",`+
		`"Filters":[{"Name":"tag:env","Values":["%s"]}],"Limit":%d,"Offset":0,"DryRun":false}`,
		c.idParam, c.res.id, c.res.region, c.apiVersion, c.op, uuid(r), pick(r, envs), 20*(1+r.intn(5)))
}
