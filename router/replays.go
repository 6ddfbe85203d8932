package router

import (
	"github.com/auditbus/auditbus/router/archive"
	"github.com/auditbus/auditbus/router/replay"
	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// replays is the API's replay runner: the manager, with drafts parsed as
// the API parses rules.
type replays struct{ *replay.Manager }

// ParseDraft parses a replay's draft rule set as a rule file, labelled
// "request" so that what API rules may not hold (command targets) is
// refused, and with no environment: a draft's ${NAME} is not expanded
// from the server's, which a deliver replay could send anywhere.
func (replays) ParseDraft(src []byte) ([]*rules.Rule, error) {
	opts := append(ruleParseOptions(), rules.WithLookupEnv(func(string) (string, bool) { return "", false }))
	parsed, err := rules.ParseFile("request", src, opts...)
	if err != nil {
		return nil, err
	}
	var errs rules.Errors
	for _, r := range parsed {
		errs = append(errs, checkRule(r)...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return parsed, nil
}

// startReplays makes the replay manager: its replays read the events
// stream and the trackers' archives, and deliver through sinks of their
// own built with the router's dependencies. Stop ends them.
func (s *Server) startReplays() error {
	buckets, err := archive.NewBuckets(s.cfg.Buckets)
	if err != nil {
		return err
	}
	s.replays = replay.New(replay.Config{
		JS: s.js, LiveRules: s.router.Rules, TargetState: s.router.TargetState,
		Trackers: s.trackers.Store, BucketDir: buckets.Dir,
		Deps: sinks.Deps{NATS: s.nc, Stdout: s.cfg.Stdout, Log: s.cfg.Log,
			Guard:  sinks.NewGuard(s.cfg.AllowPrivateTargets, s.cfg.AllowTargetCIDRs),
			Signer: s.signer, PublicURL: s.cfg.PublicURL, Origin: s.webhookOrigin()},
		Log: s.cfg.Log,
	})
	return nil
}
