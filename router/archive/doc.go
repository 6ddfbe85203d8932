// Package archive keeps CTS trackers and writes what they transfer.
//
// Trackers (router/cts's Tracker) live in a NATS KV bucket every replica
// shares (Trackers). Buckets are storage locations the operator declares,
// a local directory each (Buckets). The Writer transfers each enabled
// management tracker's traces into its bucket in CTS's trace file layout,
// gzip or JSON, each file written to a temporary name and renamed.
//
// Each event is written exactly once across crashes and replicas: a
// tracker's progress is a KV entry holding the next stream sequence and,
// while a range is being written, that range. A writer claims a range
// with a compare-and-set before writing it, and moves past it with
// another after every file of it is in place. The files of a range have
// names and contents derived from the range's stream messages alone, so
// whoever finishes a claimed range (the claimer after a restart, another
// replica) writes the files of it that are not in place yet, under the
// same names, with the same bytes.
package archive
