package huaweicloud

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	hss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/hss/v5"
	hssmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/hss/v5/model"

	"github.com/auditbus/auditbus/router/index/indextest"
)

const hssAK, hssSK = "HPUAHSSKEY0000000001", "hss-secret-key-0123456789abcdefghijklmnop"

// startHSSRouter runs auditbus whose access key may list cluster audit
// logs, with Kubernetes events of the three forms stored and indexed.
func startHSSRouter(t *testing.T, k8s []indextest.K8s) string {
	t.Helper()
	evs := make([]event.Event, len(k8s))
	for i := range k8s {
		evs[i] = k8s[i].Event
	}
	return startIndexedRouter(t, hssAK, hssSK, "hss:container:list", evs)
}

// TestSDKListClusterAuditLogs: the SDK's HSS client lists a cluster's
// audit logs with its own request fields, decodes every record into its
// typed model with every field, pages through them by offset and by
// line_num, and decodes a refused parameter's error.
func TestSDKListClusterAuditLogs(t *testing.T) {
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	k8s := indextest.K8sEvents(t, 90, start)
	c := hss.NewHssClient(client{endpoint: startHSSRouter(t, k8s), ak: hssAK, sk: hssSK}.hc(t, hss.HssClientBuilder()))
	var want []indextest.K8s
	for i := len(k8s) - 1; i >= 0; i-- {
		if k8s[i].Fields["cluster_id"] == "cls-a" {
			want = append(want, k8s[i])
		}
	}
	req := hssmodel.ListClusterAuditLogsRequest{ClusterId: "cls-a", StartTime: start.UnixMilli(),
		EndTime: start.Add(90 * time.Second).UnixMilli(), Limit: 7, EnterpriseProjectId: ptr("all_granted_eps")}
	var byOffset, byLine []indextest.K8s
	for req.Offset = 0; req.Offset < 1000; req.Offset += req.Limit {
		page := listLogs(t, c, req, want)
		byOffset = append(byOffset, page.logs...)
		if len(page.logs) < int(req.Limit) {
			break
		}
	}
	// Limit 6, not 7: auditbus accepts a signature once, and the first
	// page would be the offset walk's first request again.
	req.Offset, req.Limit = 0, 6
	for range 100 {
		page := listLogs(t, c, req, want)
		byLine = append(byLine, page.logs...)
		if len(page.logs) < int(req.Limit) {
			break
		}
		req.LineNum = &page.last
	}
	ids := func(evs []indextest.K8s) []string {
		out := make([]string, len(evs))
		for i, e := range evs {
			out[i] = e.Event.ID()
		}
		return out
	}
	if !slices.Equal(ids(byOffset), ids(want)) || !slices.Equal(ids(byLine), ids(want)) {
		t.Errorf("SDK paging:\nby offset   %v\nby line_num %v\nwant        %v", ids(byOffset), ids(byLine), ids(want))
	}

	req = hssmodel.ListClusterAuditLogsRequest{ClusterId: "cls-a", StartTime: start.UnixMilli(), EndTime: start.UnixMilli() + 1}
	_, err := c.ListClusterAuditLogs(&req) // the SDK sends limit=0
	if se, ok := err.(*sdkerr.ServiceResponseError); !ok || se.StatusCode != 400 || se.ErrorCode != "HSS.0001" || se.ErrorMessage == "" {
		t.Errorf("limit 0: %v, want the SDK's error with HSS.0001", err)
	}
}

type logPage struct {
	logs []indextest.K8s
	last string
}

// listLogs calls ListClusterAuditLogs and checks every typed field of
// every record against the event it is of, found by its time.
func listLogs(t *testing.T, c *hss.HssClient, req hssmodel.ListClusterAuditLogsRequest, want []indextest.K8s) logPage {
	t.Helper()
	resp, err := c.ListClusterAuditLogs(&req)
	if err != nil {
		t.Fatalf("ListClusterAuditLogs: %v", err)
	}
	if resp.HttpStatusCode != 200 || resp.TotalNum == nil || int(*resp.TotalNum) != len(want) || resp.DataList == nil {
		t.Fatalf("ListClusterAuditLogs: %v, want total_num %d", resp, len(want))
	}
	var page logPage
	for _, l := range *resp.DataList {
		if l.Time == nil || l.ClusterName == nil || l.ClusterId == nil || l.Content == nil || l.ClusterType == nil ||
			l.HostId == nil || l.HostName == nil || l.HostIp == nil || l.LineNum == nil {
			t.Fatalf("record without its fields: %v", l)
		}
		i := slices.IndexFunc(want, func(e indextest.K8s) bool { return e.Time.UnixMilli() == *l.Time })
		if i < 0 {
			t.Fatalf("record of no expected event: %v", l)
		}
		e := want[i]
		got := map[string]string{"cluster_name": *l.ClusterName, "cluster_id": *l.ClusterId, "cluster_type": *l.ClusterType,
			"host_id": *l.HostId, "host_name": *l.HostName, "host_ip": *l.HostIp}
		for k, g := range got {
			if g != e.Fields[k] {
				t.Errorf("%s: %s %q, want %q", e.Event.ID(), k, g, e.Fields[k])
			}
		}
		if !bytes.Contains([]byte(*l.Content), []byte(`"verb":"`+e.Fields["verb"]+`"`)) {
			t.Errorf("%s: content %s, want the audit event", e.Event.ID(), *l.Content)
		}
		page.logs, page.last = append(page.logs, e), *l.LineNum
	}
	return page
}
