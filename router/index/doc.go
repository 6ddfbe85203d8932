// Package index is the audit index: a projection of the events stream
// into a store that answers searches by the audit fields (who, what,
// which resource, from where, when) without reading the stream.
//
// The Indexer follows the stream with its own durable consumer, apart from
// ingest and routing: a slow or failed index never delays an event's 202 or
// its deliveries. It writes each fetched batch in one transaction and acks
// the batch only after the commit (at least once); every row is keyed by the
// event's stream sequence, so a redelivered batch, a restart after a crash
// or a second replica sharing the consumer and the store never index an
// event twice.
//
// Two stores sit behind the Store interface: SQLite (OpenSQLite, the
// embedded default, one file under the data dir, WAL) and PostgreSQL
// (OpenPostgres, one index shared by every replica). Both answer the same
// Query the same way: newest first, by event time then stream sequence.
package index
