package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/auditbus/auditbus/router/replay"
)

// replaySampleLines is how many sampled events the text output shows;
// --json has the whole sample.
const replaySampleLines = 20

// printReplay prints a replay's status and, when it has one, its report.
func printReplay(w io.Writer, st replay.Status, asJSON bool) error {
	if asJSON {
		return writeJSON(w, st)
	}
	fmt.Fprintf(w, "replay %s: %s (%s, bus %s, %s, %s to %s", st.ID, st.State, st.Mode, st.Bus, st.Source,
		st.From.Format(time.RFC3339), st.To.Format(time.RFC3339))
	if st.Draft {
		fmt.Fprint(w, ", draft rules")
	}
	fmt.Fprintln(w, ")")
	if st.Error != "" {
		fmt.Fprintf(w, "error: %s\n", st.Error)
	}
	for _, warn := range st.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	pr := st.Progress
	fmt.Fprintf(w, "read %d, in range %d, matched %d, delivered %d, failed %d, skipped %d\n",
		pr.Read, pr.InRange, pr.Matched, pr.Delivered, pr.Failed, pr.Skipped)
	if st.Report == nil {
		return nil
	}
	return printReport(w, st, *st.Report)
}

func printReport(w io.Writer, st replay.Status, r replay.Report) error {
	diff := st.Draft && st.Mode == replay.ModeWhatIf
	if diff {
		fmt.Fprintf(w, "events matched by the draft only %d, by the live rules only %d, by both %d\n", r.DraftOnly, r.LiveOnly, r.Both)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "RULE\tTARGET\tMATCHED"
	if st.Mode == replay.ModeDeliver {
		head += "\tDELIVERED\tFAILED"
	}
	if diff {
		head += "\tDRAFT ONLY\tLIVE ONLY\tBOTH"
	}
	fmt.Fprintln(tw, head)
	for _, t := range r.Targets {
		row := fmt.Sprintf("%s\t%s\t%d", t.Rule, t.Target, t.Matched)
		if st.Mode == replay.ModeDeliver {
			row += fmt.Sprintf("\t%d\t%d", t.Delivered, t.Failed)
		}
		if diff {
			row += fmt.Sprintf("\t%d\t%d\t%d", t.DraftOnly, t.LiveOnly, t.Both)
		}
		fmt.Fprintln(tw, row)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	printSample(w, r)
	for _, f := range r.Failures {
		if f.Rule == "" { // an archived trace that made no event
			fmt.Fprintf(w, "skipped: %s at %s: %s\n", f.ID, f.Position, clip(f.Error, 120))
			continue
		}
		fmt.Fprintf(w, "failed: %s to %s/%s: %s\n", f.ID, f.Rule, f.Target, clip(f.Error, 120))
	}
	return nil
}

func printSample(w io.Writer, r replay.Report) {
	n := min(len(r.Sample), replaySampleLines)
	if n == 0 {
		return
	}
	more := ""
	if r.Truncated || n < len(r.Sample) {
		more = " (--json has the report's whole sample)"
	}
	fmt.Fprintf(w, "first %d matched events%s:\n", n, more)
	for _, e := range r.Sample[:n] {
		to := make([]string, len(e.Matches))
		for i, m := range e.Matches {
			to[i] = m.Rule + "/" + m.Target
			if m.By != "" {
				to[i] += " (" + m.By + ")"
			}
		}
		fmt.Fprintf(w, "  %s %s %s -> %s\n", e.Time.Format(time.RFC3339), e.Type, e.ID, strings.Join(to, ", "))
	}
}
