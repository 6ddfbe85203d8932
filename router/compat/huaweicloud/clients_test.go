package huaweicloud

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core"
	cts "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cts/v3"
	ctsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cts/v3/model"
	hss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/hss/v5"
	hssmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/hss/v5/model"
)

// client is how a test reaches the server: the SDK's own client pieces.
type client struct {
	endpoint string
	ak, sk   string
	rt       http.RoundTripper
	headers  map[string]string // client-level extra headers, signed like the rest
}

func (c client) hc(t *testing.T, builder *core.HcHttpClientBuilder) *core.HcHttpClient {
	t.Helper()
	ak, sk := c.ak, c.sk
	if ak == "" {
		ak, sk = testAK, testSK
	}
	hc, err := builder.WithEndpoint(c.endpoint).WithCredential(credentials(ak, sk)).WithHttpConfig(httpConfig(c.rt)).SafeBuild()
	if err != nil {
		t.Fatalf("building the SDK client: %v", err)
	}
	if c.headers != nil {
		hc.WithExtraHeaders(c.headers)
	}
	return hc
}

// call is one real SDK client call; want is the body it sends, if any.
type call struct {
	name, method, path, query string
	body                      string
	do                        func(t *testing.T, c client) error
}

func ptr[T any](v T) *T { return &v }

var calls = []call{
	{
		name: "cts ListTraces", method: http.MethodGet, path: "/v3/" + testProjectID + "/traces",
		query: "trace_type=system&limit=10&service_type=ECS&user=alice%20smith",
		do: func(t *testing.T, c client) error {
			_, err := cts.NewCtsClient(c.hc(t, cts.CtsClientBuilder())).ListTraces(&ctsmodel.ListTracesRequest{
				TraceType:   ctsmodel.GetListTracesRequestTraceTypeEnum().SYSTEM,
				Limit:       ptr(int32(10)),
				ServiceType: ptr("ECS"),
				User:        ptr("alice smith"),
			})
			return err
		},
	},
	{
		name: "cts CreateTracker", method: http.MethodPost, path: "/v3/" + testProjectID + "/tracker",
		body: `{"tracker_type":"system","tracker_name":"system"}`,
		do: func(t *testing.T, c client) error {
			_, err := cts.NewCtsClient(c.hc(t, cts.CtsClientBuilder())).CreateTracker(&ctsmodel.CreateTrackerRequest{
				Body: &ctsmodel.CreateTrackerRequestBody{
					TrackerType: ctsmodel.GetCreateTrackerRequestBodyTrackerTypeEnum().SYSTEM,
					TrackerName: "system",
				},
			})
			return err
		},
	},
	{
		name: "hss ListHostStatus", method: http.MethodGet, path: "/v5/" + testProjectID + "/host-management/hosts",
		query: "enterprise_project_id=all_granted_eps&host_name=web-01",
		do: func(t *testing.T, c client) error {
			_, err := hss.NewHssClient(c.hc(t, hss.HssClientBuilder())).ListHostStatus(&hssmodel.ListHostStatusRequest{
				EnterpriseProjectId: ptr("all_granted_eps"),
				HostName:            ptr("web-01"),
			})
			return err
		},
	},
	{
		name: "hss AddHostsGroup", method: http.MethodPost, path: "/v5/" + testProjectID + "/host-management/groups",
		query: "enterprise_project_id=0",
		body:  `{"group_name":"web","host_id_list":["h-1","h-2"]}`,
		do: func(t *testing.T, c client) error {
			_, err := hss.NewHssClient(c.hc(t, hss.HssClientBuilder())).AddHostsGroup(&hssmodel.AddHostsGroupRequest{
				EnterpriseProjectId: ptr("0"),
				Body:                &hssmodel.AddHostsGroupRequestInfo{GroupName: "web", HostIdList: []string{"h-1", "h-2"}},
			})
			return err
		},
	},
}

// TestSDKClientsVerify: what real CTS and HSS clients build and sign
// verifies, names the access key, and leaves the body readable.
func TestSDKClientsVerify(t *testing.T) {
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			srv := startVerifyingServer(t)
			if err := c.do(t, client{endpoint: srv.URL}); err != nil {
				t.Fatalf("SDK call: %v", err)
			}
			v := srv.only(t)
			if v.err != nil || v.accessKey != testAK {
				t.Fatalf("Verify = %q, %v; want %q, nil", v.accessKey, v.err, testAK)
			}
			if v.method != c.method || v.path != c.path || !sameQuery(v.query, c.query) {
				t.Errorf("request %s %s?%s, want %s %s?%s", v.method, v.path, v.query, c.method, c.path, c.query)
			}
			if got := strings.TrimSpace(string(v.body)); got != c.body {
				t.Errorf("handler read body %q after Verify, want %q", got, c.body)
			}
		})
	}
}

// sameQuery compares raw queries as sets of pairs (the SDK's order is a
// map's).
func sameQuery(a, b string) bool {
	split := func(s string) map[string]bool {
		m := map[string]bool{}
		for p := range strings.SplitSeq(s, "&") {
			m[p] = true
		}
		return m
	}
	x, y := split(a), split(b)
	if len(x) != len(y) {
		return false
	}
	for k := range x {
		if !y[k] {
			return false
		}
	}
	return true
}

// TestSDKClientsRefused: a request the SDK signed is refused, with the
// reason, when a byte of it changes on the way, when signed with a wrong or
// unknown key, when dated outside the skew, or when sent a second time.
func TestSDKClientsRefused(t *testing.T) {
	listTraces, createTracker := calls[0], calls[1]
	sdkDate := func(d time.Duration) map[string]string {
		return map[string]string{auth.SignatureDateHeader: time.Now().Add(d).UTC().Format(auth.SignatureDateFormat)}
	}
	tests := []struct {
		name   string
		call   call
		client client
		want   error
	}{
		{"changed byte in the body", createTracker, client{rt: tamper(func(r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			replaceBody(r, bytes.Replace(b, []byte(`"system"`), []byte(`"systen"`), 1))
		})}, auth.ErrSignatureMismatch},
		{"changed byte in the path", listTraces, client{rt: tamper(func(r *http.Request) {
			r.URL.Path = strings.Replace(r.URL.Path, "traces", "tracez", 1)
		})}, auth.ErrSignatureMismatch},
		{"changed byte in the query", listTraces, client{rt: tamper(func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "limit=10", "limit=11", 1)
		})}, auth.ErrSignatureMismatch},
		{"added query parameter", listTraces, client{rt: tamper(func(r *http.Request) {
			r.URL.RawQuery += "&tracker_name=other"
		})}, auth.ErrSignatureMismatch},
		{"changed signed header", listTraces, client{rt: tamper(func(r *http.Request) {
			r.Header.Set("X-Project-Id", strings.Replace(testProjectID, "0", "1", 1))
		})}, auth.ErrSignatureMismatch},
		{"wrong secret key", listTraces, client{ak: testAK, sk: testSK + "x"}, auth.ErrSignatureMismatch},
		{"unknown access key", listTraces, client{ak: "HPUAUNKNOWNAK0000001", sk: testSK}, auth.ErrSignatureUnknownKey},
		{"old timestamp", listTraces, client{headers: sdkDate(-16 * time.Minute)}, auth.ErrSignatureSkew},
		{"future timestamp", createTracker, client{headers: sdkDate(16 * time.Minute)}, auth.ErrSignatureSkew},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startVerifyingServer(t)
			tc.client.endpoint = srv.URL
			if err := tc.call.do(t, tc.client); err == nil {
				t.Fatal("SDK call succeeded; want a 401")
			}
			v := srv.only(t)
			if !errors.Is(v.err, tc.want) {
				t.Fatalf("Verify error %v, want %v", v.err, tc.want)
			}
		})
	}
}

// TestSDKClientReplayRefused: the same signed request sent twice (as a
// recording would be replayed) is accepted once.
func TestSDKClientReplayRefused(t *testing.T) {
	srv := startVerifyingServer(t)
	twice := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		body, _ := io.ReadAll(r.Body)
		first := r.Clone(r.Context())
		replaceBody(first, body)
		resp, err := http.DefaultTransport.RoundTrip(first)
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		replaceBody(r, body)
		return http.DefaultTransport.RoundTrip(r)
	})
	if err := calls[1].do(t, client{endpoint: srv.URL, rt: twice}); err == nil {
		t.Fatal("replayed call succeeded; want a 401")
	}
	got := srv.all()
	if len(got) != 2 || got[0].err != nil || !errors.Is(got[1].err, auth.ErrReplayed) {
		t.Fatalf("verdicts %+v; want the first accepted and the second refused as replayed", got)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
