package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"
	"gopkg.in/yaml.v3"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/rules"
)

// tailFlags are `auditbus tail`'s settings.
type tailFlags struct {
	natsURL, bus, pattern, condition, since string
	nats                                    bus.ClientAuth
	asJSON                                  bool
}

// runTail is `auditbus tail`: the events stream followed live, straight
// from NATS through an ordered consumer (as a subscriber user may), from
// now or --since, optionally through a rule pattern evaluated here; one
// line per event on a terminal, NDJSON otherwise. It stops cleanly, with
// exit code 0, when ctx ends (SIGINT, SIGTERM).
func runTail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tail", stderr)
	var f tailFlags
	fs.StringVar(&f.natsURL, "nats-url", envOr("AUDITBUS_NATS_URL", "nats://"+router.DefaultNATSListen), "NATS server holding the events stream: serve's --nats-listen, or its --nats-url (env AUDITBUS_NATS_URL)")
	natsAuthFlags(fs, &f.nats)
	fs.StringVar(&f.bus, "bus", "", "only this bus (default: every bus)")
	fs.StringVar(&f.pattern, "pattern", "", "a file holding an event pattern in the rule language (YAML or JSON): only events it matches")
	fs.StringVar(&f.condition, "condition", "", "with --pattern: a rule condition the events must also meet")
	fs.StringVar(&f.since, "since", "", "start with the events stored since this time: RFC 3339, or a duration ago (10m); default: new events only")
	fs.BoolVar(&f.asJSON, "json", false, "print NDJSON, one {bus, seq, event} per line, also on a terminal")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	cfg, err := tailConsumer(f, time.Now())
	if err != nil {
		return err
	}
	rule, err := tailRule(f)
	if err != nil {
		return err
	}
	nc, js, err := natsConnect(f.natsURL, "auditbus tail", f.nats)
	if err != nil {
		return err
	}
	defer nc.Close()
	cons, err := js.OrderedConsumer(ctx, bus.StreamName, cfg)
	if err != nil {
		return fmt.Errorf("follow %s on %s: %w", bus.StreamName, shownNATSURL(f.natsURL), err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("follow %s on %s: %w", bus.StreamName, shownNATSURL(f.natsURL), err)
	}
	// Stopping the iterator is what ends a blocked Next.
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	fmt.Fprintf(stderr, "following %s on %s\n", strings.Join(cfg.FilterSubjects, ", "), shownNATSURL(f.natsURL))
	lines := !f.asJSON && isTerminal(stdout)
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			return fmt.Errorf("follow %s: %w", bus.StreamName, err)
		}
		if err := printTailed(stdout, msg, rule, lines); err != nil {
			return err
		}
	}
}

// tailConsumer is the ordered consumer's settings: the bus's subjects (or
// every bus's), from now or from --since.
func tailConsumer(f tailFlags, now time.Time) (jetstream.OrderedConsumerConfig, error) {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{bus.SubjectPrefix + ".>"}, DeliverPolicy: jetstream.DeliverNewPolicy}
	if f.bus != "" {
		if err := api.CheckBusName(f.bus); err != nil {
			return cfg, fmt.Errorf("--bus: %w", err)
		}
		cfg.FilterSubjects = []string{bus.SubjectPrefix + "." + f.bus + ".>"}
	}
	if f.since != "" {
		t, err := searchTime(f.since, now)
		if err != nil {
			return cfg, fmt.Errorf("--since: %w", err)
		}
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	}
	return cfg, nil
}

// tailRule compiles --pattern and --condition as a search's (nil: every
// event passes).
func tailRule(f tailFlags) (*rules.Rule, error) {
	if f.pattern == "" {
		if f.condition != "" {
			return nil, errors.New("--condition needs --pattern")
		}
		return nil, nil
	}
	src, err := os.ReadFile(f.pattern)
	if err != nil {
		return nil, fmt.Errorf("--pattern: %w", err)
	}
	var pat any
	if err := yaml.Unmarshal(src, &pat); err != nil {
		return nil, fmt.Errorf("--pattern %s: %w", f.pattern, err)
	}
	raw, err := json.Marshal(pat)
	if err != nil {
		return nil, fmt.Errorf("--pattern %s: %w", f.pattern, err)
	}
	rule, err := api.PatternRule(raw, f.condition)
	if err != nil {
		return nil, fmt.Errorf("--pattern %s: %w", f.pattern, err)
	}
	return rule, nil
}

// printTailed prints one stored message if rule (when set) matches it: a
// line of the search table's columns, or {bus, seq, event} as JSON. A
// message that is not an event auditbus stored is skipped.
func printTailed(w io.Writer, msg jetstream.Msg, rule *rules.Rule, lines bool) error {
	var e event.Event
	if cejson.Unmarshal(msg.Data(), &e) != nil {
		return nil
	}
	if rule != nil {
		if ok, _ := rule.Match(rules.NewEnv(&e)); !ok {
			return nil
		}
	}
	h := searchHit{Bus: bus.BusOf(msg.Subject()), Event: msg.Data()}
	if md, err := msg.Metadata(); err == nil {
		h.Seq = md.Sequence.Stream
	}
	var err error
	if lines {
		_, err = fmt.Fprintln(w, strings.Join(hitColumns(h), "  "))
	} else {
		var line []byte
		line, _ = json.Marshal(h)
		_, err = fmt.Fprintf(w, "%s\n", line)
	}
	return err
}
