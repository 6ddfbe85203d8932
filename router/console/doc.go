// Package console is auditbus's web console, served by `serve` at
// /console/ beside the HTTP API and on the same auth.
//
// Pages are server-rendered html/template files with a shared layout and
// a small vendored htmx (static/, pinned, its licence beside it), all
// embedded in the binary: no build step, no CDN. Each page is one handler
// file and one template, registered in pages.go with the action it needs
// (auth.ActionRulesRead, ...): a signed-in identity without it gets a 403
// page naming the action, and identities limited to buses see only theirs.
//
// Signing in takes a token the API accepts. The console keeps the token in
// a server-side session (random id in an HttpOnly, SameSite=Strict cookie,
// Secure over TLS, expiring after Options.SessionTTL) and re-authorizes
// every request with it, so a token removed from the auth file signs its
// sessions out at their next request. Every change (POST) must carry the
// session's CSRF token (a hidden form field or the X-CSRF-Token header)
// and come from the console's own origin.
//
// The console reads and changes through the API server's Go functions
// (api.Server.Rules, PutRule, TestRule, ...), never over HTTP to itself.
// With auth off it works without signing in, and says so on every page.
//
// Console.Run samples the ingest counter from the server's start for the
// overview's ingest rate; the server runs it on its background context
// and cancels it on shutdown.
package console
