// Package sinks delivers matched events to targets. Each target kind
// (webhook, log, nats, ...) is a Sink registered under its name with
// Register, the way caddy registers modules: the router builds one Sink per
// rule target from the target's YAML config and calls Deliver for every
// matched event.
//
// A Sink reports failures as errors; *Error says whether a failure is worth
// retrying, so the router maps outcomes to JetStream acknowledgements in one
// place.
//
// Webhooks can be signed two ways: Standard Webhooks HMAC headers when a
// target has a secret (receivers check them with Verify), and the smn
// format's RSA signature by a Signer (receivers check it with VerifySMN or
// the openssl recipe in sinks/README.md).
package sinks
