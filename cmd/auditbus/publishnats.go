package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/ingest"
	"github.com/auditbus/auditbus/router/sources"
)

// publishNATS stores the file's events straight on the events stream of
// the NATS server at f.natsURL. The file is cut into the request bodies
// the HTTP path would send (publishBodies), and each body is decoded,
// converted and redacted by the code the endpoint runs on it (ingest's
// batch decoding, the sources converters, the redactor) and published by
// bus.Publisher: each event gets the same stored form and dedup id as
// through the API, so publishing the same events both ways stores them
// once.
func publishNATS(ctx context.Context, f publishFlags, asJSON bool, stdout, stderr io.Writer) error {
	if err := api.CheckBusName(f.bus); err != nil {
		return fmt.Errorf("--bus: %w", err)
	}
	if f.format == "k8s-audit" {
		if err := api.CheckK8sParams(f.cluster, f.product); err != nil {
			return err
		}
	}
	nc, js, err := natsConnect(f.natsURL, "auditbus publish", f.nats)
	if err != nil {
		return err
	}
	defer nc.Close()
	bodies, count, err := publishBodies(f, os.Stdin)
	if err != nil {
		return err
	}
	batches := make([][]event.Event, len(bodies))
	r := sources.NewRedactor(f.redactKeys)
	for i, b := range bodies {
		// All converted before any is stored, as a bad body stores nothing.
		if batches[i], err = natsEvents(f, r, b.body); err != nil {
			return fmt.Errorf("%s: request %d of %d: %w", f.file, i+1, len(bodies), err)
		}
	}
	pub := bus.NewPublisher(js)
	progress := isTerminal(stderr)
	var stored, dups, sent int
	for i, events := range batches {
		cctx, cancel := context.WithTimeout(ctx, f.timeout)
		results, err := pub.Publish(cctx, f.bus, events)
		cancel()
		if err != nil {
			return fmt.Errorf("batch %d of %d: %w (the %d batches before it were stored)", i+1, len(batches), err, i)
		}
		for _, r := range results {
			if r.Duplicate {
				dups++
			} else {
				stored++
			}
		}
		if sent += bodies[i].items; progress {
			fmt.Fprintf(stderr, "\rsent %d/%d", sent, count)
		}
	}
	if progress {
		fmt.Fprintln(stderr)
	}
	shown := shownNATSURL(f.natsURL)
	if asJSON {
		return writeJSON(stdout, publishSummary{Published: stored + dups, New: stored, Duplicates: dups, Endpoint: shown, Bus: f.bus})
	}
	fmt.Fprintf(stdout, "published %d events to bus %s on %s (%d new, %d duplicates)\n", stored+dups, f.bus, shown, stored, dups)
	return nil
}

// natsEvents turns one request body into events as the endpoint of
// --format does: a CloudEvents batch decoded strictly, records converted
// by their source; JSON data and records redacted by r.
func natsEvents(f publishFlags, r *sources.Redactor, body []byte) ([]event.Event, error) {
	switch f.format {
	case "cloudevents":
		events, err := ingest.DecodeBatch(body)
		if err != nil {
			return nil, err
		}
		return events, r.Events(events)
	case "cloudaudit":
		return sources.CloudAudit(body, r)
	case "cts":
		return sources.CTS(body, r)
	default: // k8s-audit
		return sources.K8sAudit(body, f.cluster, f.product, r)
	}
}
