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
// metrics and reported by Status (for /readyz) until it is fixed. Deleting
// an API rule removes it.
//
// Files are read while they may be being written, so after start a changed
// file is taken only once two polls in a row read the same content, and a
// file that would drop rules it runs (an edit without them, an empty or
// cut-short file, the file deleted) keeps its previous version running
// until it has stayed so for the settle time (WithSettle); Status lists
// such pending removals, and both the hold and the removal are logged.
//
// The Manager implements api.RuleStore, so the HTTP API lists, reads,
// writes and deletes rules through it; writes go to the KV bucket, and every
// replica (this one included) applies them from its watch.
package ruleset
