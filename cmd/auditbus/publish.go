package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/sources"
)

// formats maps --format to its endpoint path.
var formats = map[string]string{
	"cloudevents": "/v1/events",
	"cloudaudit":  "/v1/sources/cloudaudit",
	"cts":         "/v1/sources/cts",
	"k8s-audit":   "/v1/sources/k8s-audit",
}

type publishFlags struct {
	file, base, bus, format, cluster, product string
	batch                                     int
	timeout                                   time.Duration
	client                                    clientFlags
	// natsURL, when set, publishes straight to NATS (publishNATS).
	natsURL    string
	nats       bus.ClientAuth
	redactKeys []string
}

func runPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("publish", stderr)
	var f publishFlags
	fs.StringVar(&f.file, "file", "", `events or records: a JSON object, array or NDJSON; "-" for stdin (required)`)
	fs.StringVar(&f.base, "url", envOr("AUDITBUS_URL", "http://127.0.0.1:8080"), "auditbus HTTP API (env AUDITBUS_URL)")
	fs.StringVar(&f.bus, "bus", "default", "event bus")
	fs.StringVar(&f.format, "format", "cloudevents", "what the file holds: cloudevents, cloudaudit (Tencent), cts (Huawei) or k8s-audit")
	fs.StringVar(&f.cluster, "cluster", "", "k8s-audit: the cluster the records come from")
	fs.StringVar(&f.product, "product", "", "k8s-audit: the product (k8s, tke, cce, ...)")
	fs.IntVar(&f.batch, "batch", 100, "events or records per request")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "timeout per request")
	asJSON := jsonFlag(fs, "the counts")
	f.client.register(fs)
	fs.StringVar(&f.natsURL, "nats-url", "", "publish straight to this NATS server's events stream instead of --url (see the --nats-* flags)")
	natsAuthFlags(fs, &f.nats)
	f.redactKeys = sources.DefaultRedactKeys
	fs.Var(redactFlag{&f.redactKeys}, "redact-keys", `with --nats-url: key patterns redacted from records and JSON event data, as serve's flag ("-" for none)`)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	path, known := formats[f.format]
	if f.file == "" || fs.NArg() > 0 || f.batch < 1 || !known {
		fmt.Fprintln(stderr, "publish needs --file F (and no other arguments); --batch >= 1; --format one of cloudevents, cloudaudit, cts, k8s-audit")
		fs.Usage()
		return errUsage
	}
	if f.natsURL != "" {
		return publishNATS(ctx, f, *asJSON, stdout, stderr)
	}
	bodies, count, err := publishBodies(f, os.Stdin)
	if err != nil {
		return err
	}
	endpoint, err := endpointURL(f, path)
	if err != nil {
		return err
	}
	client, err := f.client.httpClient(f.timeout)
	if err != nil {
		return err
	}
	res, err := sendAll(ctx, client, endpoint, bodies, count, stderr)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "published %d events to %s (%d new, %d duplicates)\n", res.Published, endpoint, res.New, res.Duplicates)
	return nil
}

// publishSummary is what publish prints, and its --json form.
type publishSummary struct {
	Published  int    `json:"published"`
	New        int    `json:"new"`
	Duplicates int    `json:"duplicates"`
	Endpoint   string `json:"endpoint"`
	Bus        string `json:"bus,omitempty"` // with --nats-url: the bus published to
}

// sendAll posts each body in turn, reporting progress on a terminal; an
// error says which requests were stored before it.
func sendAll(ctx context.Context, client *http.Client, endpoint string, bodies []request, count int, stderr io.Writer) (publishSummary, error) {
	sum := publishSummary{Endpoint: endpoint}
	prog := newProgress(stderr)
	defer prog.end()
	sent := 0
	for i, b := range bodies {
		res, err := post(ctx, client, endpoint, b)
		if err != nil {
			return sum, fmt.Errorf("request %d of %d: %w (the %d requests before it were stored)", i+1, len(bodies), placeError(err, b), i)
		}
		sum.New += res.Accepted - len(res.Duplicates)
		sum.Duplicates += len(res.Duplicates)
		sent += b.items
		prog.show(i == len(bodies)-1, "sent %d/%d", sent, count)
	}
	sum.Published = sum.New + sum.Duplicates
	return sum, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func endpointURL(f publishFlags, path string) (string, error) {
	u, err := url.Parse(strings.TrimSuffix(f.base, "/") + path)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("--url %q: want an absolute URL like http://127.0.0.1:8080", f.base)
	}
	q := url.Values{"bus": {f.bus}}
	if f.format == "k8s-audit" {
		if f.cluster != "" {
			q.Set("cluster", f.cluster)
		}
		if f.product != "" {
			q.Set("product", f.product)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

type publishResult struct {
	Accepted   int      `json:"accepted"`
	Duplicates []string `json:"duplicates"`
}

// post sends one request body and decodes the answer; an error answer is
// returned with its code and message.
func post(ctx context.Context, client *http.Client, endpoint string, b request) (*publishResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(b.body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", b.contentType)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusAccepted {
		return nil, apiError(resp.Status, raw)
	}
	var res publishResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("unreadable answer %.200q: %w", raw, err)
	}
	return &res, nil
}
