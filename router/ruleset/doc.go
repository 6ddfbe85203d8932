// Package ruleset keeps the router's running rule set in step with where
// rules come from: rule files, polled for changes, and rules managed through
// the HTTP API, stored in a NATS KV bucket that every replica watches.
//
// A Manager re-parses a source when it changes (a file's content hash, a
// file added to or removed from a directory, a KV revision), merges every
// source's rules into one rules.Set and hands it to the router, which swaps
// it in atomically. A source that turns broken — an edit that does not
// parse, or a rule name another source already runs — keeps its last good
// version running; its problems are logged one line each, counted in
// metrics and reported by Status (for /readyz) until it is fixed. Removing
// a file or deleting an API rule removes its rules.
//
// The Manager implements api.RuleStore, so the HTTP API lists, reads,
// writes and deletes rules through it; writes go to the KV bucket, and every
// replica (this one included) applies them from its watch.
package ruleset
