package router

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/console"
	"github.com/auditbus/auditbus/router/cts"
	"github.com/auditbus/auditbus/router/dispatch"
	"github.com/auditbus/auditbus/router/index"
	"github.com/auditbus/auditbus/router/replay"
	"github.com/auditbus/auditbus/router/ruleset"
	"github.com/auditbus/auditbus/router/topics"
	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// Server is a running auditbus.
type Server struct {
	cfg      Config
	ns       *server.Server // nil with an external NATS
	nc       *nats.Conn
	js       jetstream.JetStream
	router   *dispatch.Router
	pub      *bus.Publisher
	store    storeWatch     // JetStream storage use, for /readyz and /metrics
	disk     *bus.DiskWatch // the embedded server's full disk; nil with an external NATS
	rules    *ruleset.Manager
	http     *http.Server
	ln       net.Listener
	reg      *prometheus.Registry
	stopOnce sync.Once
	routerWG sync.WaitGroup
	stopErr  error
	cancel   context.CancelFunc
	signer   *sinks.Signer       // signs smn-format webhooks
	auth     *auth.Authenticator // nil without an auth file
	tls      *tls.Config         // nil without TLS
	// bgCtx is the watchers' (auth file, NATS users file): Stop ends them.
	bgCtx    context.Context
	bgCancel context.CancelFunc
	bgWG     sync.WaitGroup

	lock *os.File // holds the data dir (lockDataDir) until Stop

	index   index.Store // nil with IndexOff
	indexer *index.Indexer

	topics   *topics.Registry
	trackers *cts.Trackers // the tracker endpoints; see startArchive
	replays  *replay.Manager
}

// LoadRules loads rule files and directories, validating every target's
// config against the registered sink kinds and refusing settings the router
// does not honour yet. The error lists every problem with file, line and
// column (rules.Errors). Hot reload and API rules apply the same checks.
func LoadRules(paths []string) (*rules.Set, error) {
	set, err := rules.Load(paths, ruleParseOptions()...)
	if err != nil {
		return nil, err
	}
	var errs rules.Errors
	for _, r := range set.Rules() {
		errs = append(errs, checkRule(r)...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return set, nil
}

// ruleParseOptions are what every rule is parsed with, from a file or the
// API: each target's settings are checked by its sink kind.
func ruleParseOptions() []rules.Option {
	return []rules.Option{rules.WithTargetCheck(sinks.Check)}
}

// checkRule refuses settings of a parsed rule the router must not run:
// command targets in rules from the API.
func checkRule(r *rules.Rule) rules.Errors {
	return refuseAPICommands(r)
}

// Start loads the rule files, then brings up the bus, the rules (files
// and the API rules bucket), the router and the HTTP API, in that order,
// so a broken rule file stops start-up before anything listens. After
// Start, the server runs until Stop, reloading rule files as they change.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg = withDefaults(cfg)
	if err := checkExposure(cfg); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, reg: prometheus.NewRegistry()}
	s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.rules = ruleset.New(ruleset.WithFiles(cfg.Rules...), ruleset.WithPollInterval(cfg.RulesReloadInterval), ruleset.WithSettle(cfg.RulesSettle),
		ruleset.WithParseOptions(ruleParseOptions()...), ruleset.WithCheck(checkRule),
		ruleset.WithBucket(ruleset.DefaultBucket, cfg.Stream.Replicas),
		ruleset.WithLogger(cfg.Log), ruleset.WithRegisterer(s.reg))
	if err := s.rules.LoadFiles(); err != nil {
		return nil, err
	}
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s.lock = lock
	if err := s.loadSigning(); err != nil {
		lock.Close()
		return nil, err
	}
	if err := s.loadAccess(); err != nil {
		lock.Close()
		return nil, err
	}
	if err := s.loadTopics(); err != nil {
		lock.Close()
		return nil, err
	}
	if err := s.startBus(ctx); err != nil {
		s.Stop(context.Background())
		return nil, err
	}
	s.startStoreWatch(ctx)
	// Targets need the public URL, which may name the port the listener got.
	if err := s.listen(); err != nil {
		s.Stop(context.Background())
		return nil, err
	}
	if err := s.startRouter(ctx); err != nil {
		s.Stop(context.Background())
		return nil, err
	}
	if err := s.startIndex(ctx); err != nil {
		s.Stop(context.Background())
		return nil, err
	}
	if err := s.startArchive(ctx); err != nil {
		s.Stop(context.Background())
		return nil, err
	}
	if err := s.startReplays(); err != nil {
		s.Stop(context.Background())
		return nil, err
	}
	if err := s.startHTTP(); err != nil {
		s.Stop(context.Background())
		return nil, err
	}
	s.cfg.Log.Info().Str("listen", s.Addr()).Str("console", s.consoleURL()).Int("rules", s.rules.Status().Loaded).Str("nats", s.natsDescription()).Msg("auditbus serving")
	return s, nil
}

// startRouter creates the router, installs the rules in it (from now on
// the rule manager swaps them as they change), opens its consumer and
// runs it.
func (s *Server) startRouter(ctx context.Context) error {
	opts := []dispatch.Option{dispatch.WithLogger(s.cfg.Log), dispatch.WithRegisterer(s.reg), dispatch.WithDiskWatch(s.disk)}
	if s.cfg.Workers > 0 {
		opts = append(opts, dispatch.WithWorkers(s.cfg.Workers))
	}
	if s.cfg.ShutdownGrace > 0 {
		opts = append(opts, dispatch.WithShutdownGrace(s.cfg.ShutdownGrace))
	}
	if s.cfg.AckWait > 0 {
		opts = append(opts, dispatch.WithAckWait(s.cfg.AckWait))
	}
	if s.cfg.MaxDeliveries > 0 || s.cfg.MaxDeliveryAge > 0 {
		opts = append(opts, dispatch.WithRetryDefaults(cmp.Or(s.cfg.MaxDeliveries, dispatch.DefaultMaxAttempts),
			cmp.Or(s.cfg.MaxDeliveryAge, dispatch.DefaultMaxAge)))
	}
	if s.cfg.RetryBase > 0 || s.cfg.RetryCap > 0 {
		opts = append(opts, dispatch.WithBackoff(cmp.Or(s.cfg.RetryBase, dispatch.DefaultBackoffBase),
			cmp.Or(s.cfg.RetryCap, dispatch.DefaultBackoffCap)))
	}
	if s.cfg.Concurrency > 0 {
		opts = append(opts, dispatch.WithConcurrency(s.cfg.Concurrency))
	}
	if s.cfg.Stream.Replicas > 0 {
		opts = append(opts, dispatch.WithReplicas(s.cfg.Stream.Replicas))
	}
	if s.cfg.DLQMaxAge > 0 {
		opts = append(opts, dispatch.WithDLQMaxAge(s.cfg.DLQMaxAge))
	}
	if s.cfg.RemovedTargetGrace != 0 {
		opts = append(opts, dispatch.WithRemovedTargetGrace(s.cfg.RemovedTargetGrace))
	}
	s.router = dispatch.New(s.js, sinks.Deps{NATS: s.nc, Stdout: s.cfg.Stdout, Log: s.cfg.Log,
		Guard: s.targetGuard(), Signer: s.signer, PublicURL: s.cfg.PublicURL, Origin: s.webhookOrigin()}, opts...)
	apply, err := s.startTopics(ctx)
	if err != nil {
		return err
	}
	if err := s.rules.Start(ctx, s.js, apply); err != nil {
		return err
	}
	if err := s.router.Open(ctx); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	ran := make(chan error, 1)
	s.routerWG.Go(func() {
		err := s.router.Run(runCtx)
		if err != nil {
			s.cfg.Log.Error().Err(err).Msg("router stopped with an error")
		}
		ran <- err
	})
	// Ready means routing: wait until the target queues run, so /readyz
	// never answers ready for a router still setting up.
	select {
	case <-s.router.Started():
		return nil
	case err := <-ran:
		return cmp.Or(err, errors.New("router stopped while starting"))
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) startHTTP() error {
	ln := s.ln
	opts := []api.Option{
		api.WithMaxBodyBytes(s.cfg.MaxBodyBytes),
		api.WithPublishTimeout(cmp.Or(s.cfg.PublishTimeout, api.DefaultPublishTimeout)),
		api.WithLogger(s.cfg.Log),
		api.WithReadiness(s.ready),
		api.WithEventsLag(s.router.EventsLag),
		api.WithMetrics(s.reg, s.reg),
		api.WithRuleStore(s.rules),
		api.WithTopics(s.topics),
		api.WithNotifications(s.topics),
		api.WithDLQ(s.router),
		api.WithTargetControl(s.router),
		api.WithSigningCert(s.signer.CertPEM()),
		api.WithIngestRate(s.cfg.IngestRate, cmp.Or(s.cfg.IngestBurst, int(2*s.cfg.IngestRate))),
	}
	if s.auth != nil {
		opts = append(opts, api.WithAuth(s.auth))
	}
	if s.index != nil {
		opts = append(opts, api.WithAuditIndex(s.index, s.indexer))
	}
	opts = append(opts, api.WithTrackers(s.trackers), api.WithReplays(replays{s.replays}))
	opts = append(opts, api.WithConsole(func(a *api.Server) http.Handler {
		c := console.New(a, console.Options{JetStream: s.js, Log: s.cfg.Log})
		s.bgWG.Go(func() { c.Run(s.bgCtx) }) // the ingest rate, sampled from the start
		return c
	}))
	if s.cfg.RedactKeys != nil {
		opts = append(opts, api.WithRedactKeys(s.cfg.RedactKeys))
		if len(s.cfg.RedactKeys) == 0 {
			s.cfg.Log.Warn().Msg("secret redaction is off: audit records are stored with any credentials they carry")
		}
	}
	if s.cfg.RedactEventBuses != nil {
		opts = append(opts, api.WithEventRedaction(s.cfg.RedactEventBuses))
	}
	s.pub = bus.NewPublisher(s.js)
	s.pub.WatchDisk(s.disk)
	s.pub.BatchAtomically(s.atomicBatches())
	handler := api.New(s.pub, opts...)
	s.http = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: s.cfg.MaxHeaderBytes,
		TLSConfig: s.tls, ErrorLog: httpErrorLog(s.cfg.Log)}
	if ll, ok := s.ln.(*limitListener); ok {
		s.http.ConnState = ll.connState
	}
	go func() {
		var err error
		if s.tls != nil {
			err = s.http.ServeTLS(ln, "", "")
		} else {
			err = s.http.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Log.Error().Err(err).Msg("HTTP server stopped")
		}
	}()
	return nil
}

// ready is the /readyz check: the router is running, the bus connection is
// up, the stream answers and JetStream has room to store (storageReady).
func (s *Server) ready(ctx context.Context) error {
	if !s.router.Running() {
		return errors.New("router is not running")
	}
	if !s.nc.IsConnected() {
		return fmt.Errorf("NATS connection is %s", s.nc.Status())
	}
	if _, err := s.js.Stream(ctx, bus.StreamName); err != nil {
		return fmt.Errorf("stream %s: %w", bus.StreamName, err)
	}
	return s.storageReady(ctx)
}

// natsDescription says which NATS the server uses, for the start-up log.
func (s *Server) natsDescription() string {
	switch {
	case s.ns == nil:
		return s.nc.ConnectedUrlRedacted()
	case s.cfg.NATSListen == "-":
		return "embedded (in-process only)"
	default:
		return "embedded, clients at " + s.ns.ClientURL()
	}
}

// Addr is the HTTP API's address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// consoleURL is where the web console is served, for the start-up log:
// operators find it there rather than in the docs.
func (s *Server) consoleURL() string {
	scheme := "http"
	if s.tls != nil {
		scheme = "https"
	}
	return scheme + "://" + s.Addr() + console.Prefix
}

// Router is the dispatcher, for swapping rules.
func (s *Server) Router() *dispatch.Router { return s.router }

// NATS is the server's connection to the bus.
func (s *Server) NATS() *nats.Conn { return s.nc }

// Stop shuts down in the order that loses nothing: the HTTP API stops
// accepting and finishes its requests (bounded by ctx), rule reloading
// stops, the router finishes
// or hands back in-flight events (bounded by the shutdown grace), the NATS
// connection drains, and the embedded server stops. Safe to call twice.
func (s *Server) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		var errs []error
		if s.http != nil {
			errs = append(errs, s.http.Shutdown(ctx))
		} else if s.ln != nil { // bound, but start-up failed before serving
			s.ln.Close()
		}
		if s.rules != nil {
			s.rules.Stop()
		}
		if s.topics != nil {
			s.topics.Stop()
		}
		s.bgCancel()
		s.bgWG.Wait()
		if s.replays != nil {
			s.replays.Stop()
		}
		if s.index != nil {
			errs = append(errs, s.index.Close())
		}
		if s.cancel != nil {
			s.cancel()
			s.routerWG.Wait()
		}
		if s.nc != nil {
			errs = append(errs, drain(s.nc))
		}
		s.stopEmbedded()
		if s.lock != nil {
			s.lock.Close()
		}
		s.stopErr = errors.Join(errs...)
		s.cfg.Log.Info().Err(s.stopErr).Msg("auditbus stopped")
	})
	return s.stopErr
}
