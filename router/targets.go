package router

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// targetGuard is the guard every URL the router calls passes through
// (webhook and function targets), built from the server's config.
func (s *Server) targetGuard() *sinks.Guard {
	switch {
	case s.cfg.AllowPrivateTargets:
		s.cfg.Log.Warn().Msg("private targets allowed: webhook and function URLs may reach loopback, link-local " +
			"(cloud metadata) and private addresses")
	case len(s.cfg.AllowTargetCIDRs) > 0:
		s.cfg.Log.Info().Str("cidrs", fmt.Sprint(s.cfg.AllowTargetCIDRs)).Msg("targets may reach these internal blocks")
	}
	return sinks.NewGuard(s.cfg.AllowPrivateTargets, s.cfg.AllowTargetCIDRs)
}

// fromAPI reports whether a rule position is in a document that came
// through the API: router/ruleset labels those "api:<bus>/<name>" (stored
// rules) or "request" (a request's document before the bus is known),
// where a rule file's position has its path. TestAPIRulesCannotRunCommands
// fails if the labels change.
func fromAPI(p rules.Position) bool {
	return strings.HasPrefix(p.File, "api:") || p.File == "request"
}

// refuseAPICommands refuses function targets with a command in rules
// from the API. A command runs a program on the server with the server's
// rights: only whoever controls the rule files (the operator) may define
// one, not every holder of a rules:write token.
func refuseAPICommands(r *rules.Rule) rules.Errors {
	var errs rules.Errors
	for _, tg := range r.Targets {
		if tg.Kind != "function" || !fromAPI(tg.Pos) || !hasKey(&tg.Config, "command") {
			continue
		}
		errs = append(errs, &rules.Error{Pos: tg.Pos, Rule: r.Name,
			Msg: fmt.Sprintf("target %q: function commands run programs on the server, so only rule files may define them; "+
				"use an HTTP invocation url here", tg.ID)})
	}
	return errs
}

func hasKey(node *yaml.Node, key string) bool {
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			return true
		}
	}
	return false
}
