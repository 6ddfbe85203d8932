package ruleset

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/auditbus/auditbus/rules"
)

type metrics struct {
	reloads *prometheus.CounterVec // by result: ok, error
	loaded  prometheus.Gauge
	broken  prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "auditbus_rules_reloads_total",
			Help: "Rule set rebuilds after a change of a rule file or an API rule (and at start): ok, or error when a changed source is broken or the set could not be installed.",
		}, []string{"result"}),
		loaded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "auditbus_rules_loaded",
			Help: "Rules in the running set, from files and the API.",
		}),
		broken: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "auditbus_rules_broken_sources",
			Help: "Rule files, rule paths and API rules whose latest version is broken; their last good version, if any, keeps running.",
		}),
	}
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("error")
	if reg != nil {
		reg.MustRegister(m.reloads, m.loaded, m.broken)
	}
	return m
}

// report logs what a rebuild changed, one line per problem of each source
// whose problems changed, and updates the metrics. The caller holds m.mu.
func (m *Manager) report(trigger string, installErr error) {
	failed := installErr != nil
	for _, s := range m.removed {
		m.opts.log.Info().Str("source", s.label()).Msg("rule source removed with its rules")
	}
	broken := len(m.paths.errs)
	for _, s := range m.sources() {
		if len(s.problems) > 0 {
			broken++
			failed = failed || m.touched[s.id]
		}
		m.logProblems(s)
	}
	if installErr != nil {
		m.opts.log.Error().Err(installErr).Str("trigger", trigger).Msg("rule set not installed; the previous one keeps running")
	}
	result := "ok"
	if failed {
		result = "error"
	}
	loaded := len(m.runningRules())
	m.metrics.reloads.WithLabelValues(result).Inc()
	m.metrics.loaded.Set(float64(loaded))
	m.metrics.broken.Set(float64(broken))
	m.opts.log.Info().Str("trigger", trigger).Str("result", result).Int("rules", loaded).Int("broken_sources", broken).Msg("rules loaded")
}

// logProblems logs s's problems when they changed since last logged, and
// that s is fixed when they went away.
func (m *Manager) logProblems(s *source) {
	now := s.problems.Error()
	if now == s.logged {
		return
	}
	s.logged = now
	if len(s.problems) == 0 {
		m.opts.log.Info().Str("source", s.label()).Msg("rule source fixed: its latest version runs")
		return
	}
	msg := "broken rule source: its last good version keeps running"
	if s.running == nil {
		msg = "broken rule source: none of its rules run"
	}
	for _, e := range s.problems {
		logError(m, e, msg)
	}
}

func logError(m *Manager, e *rules.Error, msg string) {
	m.opts.log.Error().Str("file", e.Pos.File).Int("line", e.Pos.Line).Int("col", e.Pos.Col).
		Str("rule", e.Rule).Str("msg", e.Msg).Msg(msg)
}

// reportPaths logs configured paths that went missing or unreadable, or
// came back, since the previous listing. The caller holds m.mu.
func (m *Manager) reportPaths(before listing) {
	for _, p := range m.paths.missing {
		if !slices.Contains(before.missing, p) {
			m.opts.log.Warn().Str("path", p).Msg("rule path does not exist: its rules are removed")
		}
	}
	for p, e := range m.paths.errs {
		if old, ok := before.errs[p]; !ok || old.Msg != e.Msg {
			logError(m, e, "rule path unreadable: its files keep their last good version")
		}
	}
}

// problems lists every current problem as "file:line:col: ...", sources in
// order.
func (m *Manager) problems() []string {
	var out []string
	for _, e := range m.pathErrors() {
		out = append(out, e.Error())
	}
	for _, s := range m.sources() {
		for _, e := range s.problems {
			out = append(out, e.Error())
		}
	}
	return out
}

// label names a source in messages: its path, or "api:<bus>/<name>".
func (s *source) label() string {
	if !s.api {
		return s.id
	}
	return apiLabel(s.id)
}

func apiLabel(key string) string {
	return "api:" + strings.Replace(key, ".", "/", 1)
}
