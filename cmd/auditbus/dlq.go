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
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/auditbus/auditbus/router/dispatch"
)

type dlqFlags struct {
	base, bus, rule, target string
	timeout                 time.Duration
	client                  clientFlags
}

func (f *dlqFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.base, "url", envOr("AUDITBUS_URL", "http://127.0.0.1:8080"), "auditbus HTTP API (env AUDITBUS_URL)")
	fs.StringVar(&f.bus, "bus", "", "only dead letters of this bus")
	fs.StringVar(&f.rule, "rule", "", "only dead letters of this rule")
	fs.StringVar(&f.target, "target", "", "only dead letters of this target")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "timeout per request")
	f.client.register(fs)
}

// runDLQList is `auditbus dlq list`: GET /v1/dlq as a table.
func runDLQList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dlq list", stderr)
	var f dlqFlags
	f.register(fs)
	limit := fs.Int("limit", dispatch.DefaultDLQLimit, fmt.Sprintf("entries per page (at most %d)", dispatch.MaxDLQLimit))
	next := fs.Uint64("next", 0, "continue after this id (the next: line of a previous page)")
	asJSON := fs.Bool("json", false, "print the API's JSON answer, events included")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	for k, v := range map[string]string{"bus": f.bus, "rule": f.rule, "target": f.target} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if *next > 0 {
		q.Set("next", strconv.FormatUint(*next, 10))
	}
	raw, err := apiCall(ctx, f, http.MethodGet, "/v1/dlq?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	if *asJSON {
		_, err := stdout.Write(raw)
		return err
	}
	var page dispatch.DLQPage
	if err := json.Unmarshal(raw, &page); err != nil {
		return fmt.Errorf("unreadable answer: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tBUS\tRULE\tTARGET\tATTEMPTS\tSTATUS\tDEAD SINCE\tREASON\tLAST ERROR")
	for _, d := range page.Entries {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", d.ID, d.Bus, d.Rule, d.Target, d.Attempts, statusCell(d.LastStatus),
			d.DeadLetteredAt.Format(time.RFC3339), d.Reason, clip(d.LastError, 80))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if page.Next != 0 {
		fmt.Fprintf(stdout, "next: %d\n", page.Next)
	}
	return nil
}

// runDLQRedrive is `auditbus dlq redrive`: POST /v1/dlq:redrive.
func runDLQRedrive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dlq redrive", stderr)
	var f dlqFlags
	f.register(fs)
	ids := fs.String("ids", "", "comma-separated ids to redrive (from dlq list)")
	to := fs.String("to-target", "", "deliver to this other target of the same rule")
	limit := fs.Int("limit", 0, fmt.Sprintf("with --rule: at most this many (default and most %d per call)", dispatch.MaxDLQLimit))
	asJSON := jsonFlag(fs, "the API's answer")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	req := map[string]any{"bus": f.bus, "rule": f.rule, "target": f.target, "to_target": *to, "limit": *limit}
	if *ids != "" {
		var list []uint64
		for _, s := range strings.Split(*ids, ",") {
			n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
			if err != nil {
				fmt.Fprintf(stderr, "--ids: %q is not an id\n", s)
				return errUsage
			}
			list = append(list, n)
		}
		req["ids"] = list
	} else if f.rule == "" {
		fmt.Fprintln(stderr, "dlq redrive needs --ids or --rule")
		return errUsage
	}
	body, _ := json.Marshal(req)
	raw, err := apiCall(ctx, f, http.MethodPost, "/v1/dlq:redrive", body)
	if err != nil {
		return err
	}
	var res dispatch.RedriveResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("unreadable answer: %w", err)
	}
	if *asJSON {
		return writeJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "redriven %d: %v\n", len(res.Redriven), res.Redriven)
	return nil
}

// apiCall sends one request to the API and returns the body of a 200
// answer; an error answer is returned with its code and message.
func apiCall(ctx context.Context, f dlqFlags, method, path string, body []byte) ([]byte, error) {
	u, err := url.Parse(strings.TrimSuffix(f.base, "/") + path)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("--url %q: want an absolute URL like http://127.0.0.1:8080", f.base)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client, err := f.client.httpClient(f.timeout)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, apiError(resp.Status, raw)
	}
	return raw, nil
}

// statusCell is a dead letter's last HTTP status or exit code, "-" when
// there was none (the request never got an answer, or was never sent).
func statusCell(status int) string {
	if status == 0 {
		return "-"
	}
	return strconv.Itoa(status)
}

// clip shortens s to n bytes for a table cell, on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}
