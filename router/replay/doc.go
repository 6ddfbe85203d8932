// Package replay sends the events of a time range through rules again:
// from the events stream or from a CTS tracker's archive, through the
// live rules of a bus or through a draft rule set, either delivering the
// matches to their targets (each event marked with the Extension
// attribute) or, in what-if mode, delivering nothing and reporting which
// rule would have sent which event where, as a diff against the live
// rules when the rules are a draft.
//
// A replay never touches live delivery. It reads the stream with an
// ordered consumer of its own (ephemeral, server-side dropped when idle)
// starting at the range, never the router's durable consumers, and acks
// or naks nothing. It delivers through sinks it builds itself from the
// targets' configs, so their connections, concurrency (Request's
// Concurrency, a pool per replay) and rate (Request's Rate) are its own,
// not the live targets' slots or rate limits. A failed replayed delivery
// is retried a few times (DefaultAttempts), waiting at most MaxRetryAfter
// for a target's Retry-After, and then counted and sampled in the report,
// never dead-lettered.
//
// Replays run in the process that accepted them (Manager); their records
// are in memory. A replay is lost when that process stops: the API of
// another replica, or of the same one restarted, does not know it.
//
// The range is over each event's time (its CloudEvents time, else when it
// was stored). The stream is read from the first event stored at From
// (an event is stored after it happened) to the stream's end as it was
// when the replay started, or, with Lateness, to the last event stored by
// To plus Lateness. An archive is read from the tracker's day directories
// of the range (those it has, listed); its traces are turned back into
// CloudEvents as the CTS source makes them (see ArchiveEvent), a trace
// that makes none skipped and reported, a file that does not parse
// failing the replay.
package replay
