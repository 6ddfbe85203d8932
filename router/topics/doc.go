// Package topics is auditbus's registry of SMN-style topics and function
// URNs, the targets that CTS key-operation notifications and rules name
// by URN.
//
// A topic (urn:smn:<region>:<project>:<name>) is a named set of
// subscriptions: http/https endpoints that receive smn-format, signed
// messages after confirming their subscription, or functions. A function
// URN (urn:fss:...) maps to an HTTP invocation or a local command.
// Topics come from the topics file (read-only) and from the API (stored
// in the NATS KV bucket DefaultBucket, so every replica sees them);
// functions and the user-group directory come from the topics file only.
// Writes are conditional on the KV revision read (Modify), so replicas
// changing one topic at once never lose one another's changes.
//
// A rule target `topic: {urn: ...}` runs as ordinary targets: Expand
// turns it into one target per subscription (kind "subscription"), each
// with its own durable queue, retries and dead letters in the router's
// dispatch. Whenever the registry changes, the expanded set is installed
// again, so a new subscription starts receiving without touching rules.
package topics
