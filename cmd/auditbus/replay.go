package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"text/tabwriter"
	"time"

	"github.com/auditbus/auditbus/router/replay"
)

// replayPoll is how often `auditbus replay run` asks for progress.
const replayPoll = 500 * time.Millisecond

// replayClient registers the flags every replay command has: the API
// and how to reach it.
func replayClient(fs *flag.FlagSet) *dlqFlags {
	var f dlqFlags
	fs.StringVar(&f.base, "url", envOr("AUDITBUS_URL", "http://127.0.0.1:8080"), "auditbus HTTP API (env AUDITBUS_URL)")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "timeout per request")
	f.client.register(fs)
	return &f
}

// runReplayRun is `auditbus replay run`: POST /v1/replays, then follow
// the replay until it ends (interrupting cancels it), unless --detach.
func runReplayRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay run", stderr)
	f := replayClient(fs)
	from := fs.String("from", "", "start of the range of event times: RFC 3339, or a duration ago (2h) (required)")
	to := fs.String("to", "", "end of the range: RFC 3339, or a duration ago (default now)")
	busName := fs.String("bus", "", "the bus whose rules and events to replay (default: default, or the identity's one bus)")
	tracker := fs.String("tracker", "", "read this CTS tracker's archive (system) instead of the events stream")
	project := fs.String("project", "", "with --tracker: the tracker's project, when several have one of its name")
	mode := fs.String("mode", replay.ModeWhatIf, "what-if (deliver nothing, report the matches) or deliver (deliver them, marked)")
	rulesFile := fs.String("rules", "", "a draft rule set (a rules file) to replay through instead of the bus's live rules")
	rate := fs.Float64("rate", 0, "deliver mode: deliveries per second at most (0: unlimited)")
	conc := fs.Int("concurrency", 0, fmt.Sprintf("deliver mode: deliveries in flight at once (default %d, at most %d)", replay.DefaultConcurrency, replay.MaxConcurrency))
	sample := fs.Int("sample", 0, fmt.Sprintf("matched events the report keeps (default %d, at most %d)", replay.DefaultSample, replay.MaxSample))
	lateness := fs.Duration("lateness", 0, "stop reading the stream at events stored this long after --to (default: read to its end)")
	detach := fs.Bool("detach", false, "print the replay's id and return at once; follow it with replay status")
	asJSON := jsonFlag(fs, "the replay's final status and report")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	body, err := replayBody(*from, *to, *rulesFile, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errUsage
	}
	for k, v := range map[string]any{"bus": *busName, "tracker": *tracker, "project_id": *project, "mode": *mode} {
		if v != "" {
			body[k] = v
		}
	}
	for k, v := range map[string]float64{"rate": *rate, "concurrency": float64(*conc), "sample": float64(*sample)} {
		if v != 0 {
			body[k] = v
		}
	}
	if *lateness != 0 {
		body["lateness"] = lateness.String()
	}
	raw, _ := json.Marshal(body)
	st, err := replayCall(ctx, *f, http.MethodPost, "/v1/replays", raw)
	if err != nil {
		return err
	}
	if *detach {
		return printReplay(stdout, st, *asJSON)
	}
	st, err = followReplay(ctx, *f, st, newProgress(stderr))
	if err != nil {
		return err
	}
	return printReplay(stdout, st, *asJSON)
}

// replayBody is the request's range and draft.
func replayBody(from, to, rulesFile string, now time.Time) (map[string]any, error) {
	if from == "" {
		return nil, fmt.Errorf("replay run needs --from")
	}
	body := map[string]any{}
	if to == "" {
		to = "0s"
	}
	for name, v := range map[string]string{"from": from, "to": to} {
		t, err := searchTime(v, now)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", name, err)
		}
		body[name] = t.Format(time.RFC3339Nano)
	}
	if rulesFile != "" {
		src, err := os.ReadFile(rulesFile)
		if err != nil {
			return nil, fmt.Errorf("--rules: %w", err)
		}
		body["rules"] = string(src)
	}
	return body, nil
}

// followReplay polls the replay until it ends, showing its progress; an
// interrupt, between polls or during one, cancels it and answers its
// status after the cancel.
func followReplay(ctx context.Context, f dlqFlags, st replay.Status, p *progress) (replay.Status, error) {
	defer p.end()
	tick := time.NewTicker(replayPoll)
	defer tick.Stop()
	for st.State == replay.StateRunning {
		pr := st.Progress
		p.show(false, "replay %s: read %d, in range %d, matched %d, delivered %d, failed %d, at %s",
			st.ID, pr.Read, pr.InRange, pr.Matched, pr.Delivered, pr.Failed, pr.Position)
		select {
		case <-ctx.Done():
			return cancelReplay(ctx, f, st.ID)
		case <-tick.C:
		}
		next, err := replayCall(ctx, f, http.MethodGet, "/v1/replays/"+url.PathEscape(st.ID), nil)
		switch {
		case err != nil && ctx.Err() != nil:
			// The poll failed because of the interrupt: st is the last
			// status the server gave.
			return cancelReplay(ctx, f, st.ID)
		case err != nil:
			return st, err
		}
		st = next
	}
	return st, nil
}

// cancelReplay cancels the replay once the caller's ctx is done, with a
// fresh context of the request timeout.
func cancelReplay(ctx context.Context, f dlqFlags, id string) (replay.Status, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.timeout)
	defer cancel()
	return replayCall(cctx, f, http.MethodPost, "/v1/replays/"+url.PathEscape(id)+":cancel", nil)
}

// runReplayStatus is `auditbus replay status ID`: one replay's progress
// and report.
func runReplayStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay status", stderr)
	f := replayClient(fs)
	asJSON := jsonFlag(fs, "the replay's status and report")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		return errUsage
	}
	st, err := replayCall(ctx, *f, http.MethodGet, "/v1/replays/"+url.PathEscape(fs.Arg(0)), nil)
	if err != nil {
		return err
	}
	return printReplay(stdout, st, *asJSON)
}

// runReplayCancel is `auditbus replay cancel ID`.
func runReplayCancel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay cancel", stderr)
	f := replayClient(fs)
	asJSON := jsonFlag(fs, "the replay's status once it stopped")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		return errUsage
	}
	st, err := replayCall(ctx, *f, http.MethodPost, "/v1/replays/"+url.PathEscape(fs.Arg(0))+":cancel", nil)
	if err != nil {
		return err
	}
	return printReplay(stdout, st, *asJSON)
}

// runReplayList is `auditbus replay list`: the replays the server knows.
func runReplayList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay list", stderr)
	f := replayClient(fs)
	asJSON := jsonFlag(fs, "the API's answer")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	raw, err := apiCall(ctx, *f, http.MethodGet, "/v1/replays", nil)
	if err != nil {
		return err
	}
	var list struct {
		Replays []replay.Status `json:"replays"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return fmt.Errorf("unreadable answer: %w", err)
	}
	if *asJSON {
		return writeJSON(stdout, list)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tBUS\tMODE\tSOURCE\tFROM\tTO\tREAD\tMATCHED\tDELIVERED\tFAILED")
	for _, st := range list.Replays {
		pr := st.Progress
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\n", st.ID, st.State, st.Bus, st.Mode, st.Source,
			st.From.Format(time.RFC3339), st.To.Format(time.RFC3339), pr.Read, pr.Matched, pr.Delivered, pr.Failed)
	}
	return tw.Flush()
}

func replayCall(ctx context.Context, f dlqFlags, method, path string, body []byte) (replay.Status, error) {
	raw, err := apiCall(ctx, f, method, path, body)
	if err != nil {
		return replay.Status{}, err
	}
	var st replay.Status
	if err := json.Unmarshal(raw, &st); err != nil {
		return replay.Status{}, fmt.Errorf("unreadable answer: %w", err)
	}
	return st, nil
}
