package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

func runPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("file", "", `CloudEvents file: a JSON object, array or NDJSON; "-" for stdin (required)`)
	base := fs.String("url", envOr("AUDITBUS_URL", "http://127.0.0.1:8080"), "auditbus HTTP API (env AUDITBUS_URL)")
	busName := fs.String("bus", "default", "event bus")
	batch := fs.Int("batch", 100, "events per request (batched mode)")
	timeout := fs.Duration("timeout", 30*time.Second, "timeout per request")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *file == "" || fs.NArg() > 0 || *batch < 1 {
		fmt.Fprintln(stderr, "publish needs --file F (and no other arguments); --batch must be >= 1")
		fs.Usage()
		return errUsage
	}
	events, err := readEventFile(*file, os.Stdin)
	if err != nil {
		return err
	}
	endpoint, err := eventsURL(*base, *busName)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: *timeout}
	progress := isTerminal(stderr)
	var stored, dups int
	for start := 0; start < len(events); start += *batch {
		chunk := events[start:min(start+*batch, len(events))]
		res, err := postBatch(ctx, client, endpoint, chunk)
		if err != nil {
			return fmt.Errorf("events %d-%d: %w (events before %d were stored)", start, start+len(chunk)-1, err, start)
		}
		stored += res.Accepted - len(res.Duplicates)
		dups += len(res.Duplicates)
		if progress {
			fmt.Fprintf(stderr, "\rsent %d/%d events", start+len(chunk), len(events))
		}
	}
	if progress {
		fmt.Fprintln(stderr)
	}
	fmt.Fprintf(stdout, "published %d events to %s (%d new, %d duplicates)\n", len(events), endpoint, stored, dups)
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func eventsURL(base, busName string) (string, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/") + "/v1/events")
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("--url %q: want an absolute URL like http://127.0.0.1:8080", base)
	}
	u.RawQuery = url.Values{"bus": {busName}}.Encode()
	return u.String(), nil
}

type publishResult struct {
	Accepted   int      `json:"accepted"`
	Duplicates []string `json:"duplicates"`
}

// postBatch sends events in CloudEvents batched mode and decodes the answer;
// an error answer is returned with its code and message.
func postBatch(ctx context.Context, client *http.Client, endpoint string, events []event.Event) (*publishResult, error) {
	body, err := json.Marshal(events)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/cloudevents-batch+json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusAccepted {
		var e struct {
			Code string `json:"error_code"`
			Msg  string `json:"error_msg"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Code != "" {
			return nil, fmt.Errorf("%s %s: %s", resp.Status, e.Code, e.Msg)
		}
		return nil, fmt.Errorf("%s: %.200s", resp.Status, raw)
	}
	var res publishResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("unreadable answer %.200q: %w", raw, err)
	}
	return &res, nil
}
