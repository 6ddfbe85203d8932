// Package router assembles auditbus: the bus (embedded NATS JetStream or an
// external server), the HTTP API that ingests events, and the dispatcher
// that matches them against rules and delivers them to sinks. Server is
// what `auditbus serve` runs; tests start it in-process the same way.
//
// Sub-packages follow the data path: ingest -> bus -> dispatch, with api
// serving HTTP in front of ingest.
package router
