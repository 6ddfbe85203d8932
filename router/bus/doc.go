// Package bus is auditbus's storage layer on NATS JetStream: it starts the
// embedded server, declares the events stream, names the subject each event
// is stored on, and publishes events so that a caller learns of success only
// once JetStream has acknowledged every one of them.
//
// Events are stored as structured-mode CloudEvents JSON on
// auditbus.events.<bus>.<product>.<kind>.<action>, with a JetStream message id
// derived from source and id so a re-sent event is stored once.
package bus
