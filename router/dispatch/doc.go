// Package dispatch is auditbus's router: it matches stored events against
// the rules and delivers each match to the rule's targets, each target
// through its own durable queue.
//
// # Fan-out
//
// One durable consumer of the events stream (ConsumerName), shared by
// every replica, matches each event. For every matched (rule, target) it
// publishes one delivery message to the AUDITBUS_DELIVERIES stream
// (WorkQueue retention) on auditbus.deliveries.<bus>.<rule>.<target>: the
// stored event unchanged, with bus, rule, target and the time the event
// was stored in headers. It waits for every PubAck, then acks the event;
// when they do not all come within the PubAck wait (WithPubAckWait, 5s),
// the event is handed back and matched again a second later.
// A delivery's message id is the event's message id plus rule and
// target, so re-matching an event after a crash (it was never acked)
// queues nothing twice within the duplicate window. An event that matches
// nothing is acked at once.
//
// # Target queues
//
// Every (rule, target) has a durable pull consumer filtered on exactly its
// subject (named by a hash of bus, rule and target, see bus.QueueName)
// and as many workers as the target's concurrency (target setting
// `concurrency`, default 8). MaxAckPending is the concurrency plus room for
// deliveries waiting for a retry, because JetStream counts those as
// pending: equal to the concurrency, a few deliveries that keep failing
// would stall the whole queue for their backoff. A target that hangs or fails occupies
// only its own workers and its own ack-pending slots: other targets, even
// of the same rule, are untouched. Queues follow SetRules: new pairs get a
// queue before the new rules are swapped in; the queue of a removed pair
// is paused for the removed-target grace (default 1m) and resumes if the
// pair comes back; if not, and once no other replica serves it either, it
// dead-letters what is left with reason "target removed" and is deleted
// once empty (grace.go). A queue found on the bus that no rule here owns
// (removed while no router ran, or another replica's during a rolling
// deploy) is handled the same way, and so are deliveries found on a
// subject without a queue, which the depth poller looks for while running
// (stranded.go). A consumer deleted under the router is recreated
// (recreate.go).
//
// # Retries and the dead-letter queue
//
// settle.go is the one place where outcomes become acknowledgements.
// Delivered: Ack. Failed and retryable (network errors, timeouts, 408,
// 429, 5xx): NakWithDelay by full jitter, a random delay in
// [0, min(cap, base*2^(n-1))] for attempt n (JetStream's NumDelivered),
// at least the target's Retry-After; until the target's retry.max_attempts
// or retry.max_age (from the stored time of the event; defaults 185 and
// 24h) is reached. Then, and at once for permanent failures (400, 401,
// 403, 404, 410, 413, refused addresses, a failing input expression), the
// delivery is written to the AUDITBUS_DLQ stream (DeadLetter) and only
// after JetStream stored it, acked. Dead letters are listed (ListDLQ) and
// redriven (Redrive): republished to a target queue with a fresh message
// id, and deleted only after the PubAck.
//
// At shutdown fetching stops, in-flight deliveries get the shutdown grace,
// and whatever remains is naked so another replica (or the next start)
// takes it at once. Killing the process loses nothing either: unacked
// messages come back after the ack wait. Delivery is at least once.
package dispatch
