package console

import (
	"net/http"

	"github.com/auditbus/auditbus/router/auth"
)

// page is one console handler: a method and path under Prefix, the
// action an identity needs to use it, and its nav label when it has an
// entry in the nav (in the order of pages).
type page struct {
	method string
	path   string // after Prefix, a ServeMux pattern: "rules/{bus}/{name}"
	action string
	nav    string
	handle func(*Console, *request)
}

// pages is every page of the console. To add one: a handler file with a
// func(*Console, *request), its template in templates/ (defining
// "content"), and a line here.
var pages = []page{
	{http.MethodGet, "{$}", auth.ActionMetricsRead, "Overview", (*Console).overview},
	{http.MethodGet, "rules", auth.ActionRulesRead, "Rules", (*Console).rulesList},
	{http.MethodGet, "rules/{bus}/{name}", auth.ActionRulesRead, "", (*Console).rulePage},
	{http.MethodGet, "rules/{bus}/{name}/edit", auth.ActionRulesWrite, "", (*Console).ruleEdit},
	{http.MethodPost, "rules/{bus}/{name}/edit", auth.ActionRulesWrite, "", (*Console).ruleSave},
	{http.MethodPost, "rules/{bus}/{name}/targets/{target}/enable", auth.ActionTargetsWrite, "", (*Console).targetEnable},
	{http.MethodGet, "tester", auth.ActionRulesTest, "Rule tester", (*Console).tester},
	{http.MethodPost, "tester", auth.ActionRulesTest, "", (*Console).testerRun},
	{http.MethodGet, "tail", auth.ActionAuditRead, "Live tail", (*Console).tail},
	{http.MethodGet, "tail/stream", auth.ActionAuditRead, "", (*Console).tailStream},
	{http.MethodGet, "search", auth.ActionAuditRead, "Search", (*Console).search},
	{http.MethodGet, "search/{bus}/{seq}", auth.ActionAuditRead, "", (*Console).searchEvent},
	{http.MethodGet, "dlq", auth.ActionDLQRead, "Dead letters", (*Console).dlq},
	{http.MethodPost, "dlq/redrive", auth.ActionDLQRedrive, "", (*Console).dlqRedrive},
	{http.MethodGet, "notifications", auth.ActionCTSNotificationList, "Notifications", (*Console).notifications},
	{http.MethodGet, "topics", auth.ActionTopicsRead, "Topics", (*Console).topicsPage},
}

// navLink is one entry of the layout's nav.
type navLink struct {
	Href, Label string
	Current     bool
}

// nav is the nav for an identity (nil: auth off, every entry), current
// marking the entry of path.
func (c *Console) nav(id *auth.Identity, path string) []navLink {
	var links []navLink
	for _, p := range c.routes {
		if p.nav == "" || (id != nil && !id.Allows(p.action)) {
			continue
		}
		href := Prefix + p.path
		if p.path == "{$}" {
			href = Prefix
		}
		links = append(links, navLink{Href: href, Label: p.nav, Current: href == path})
	}
	return links
}
