// Package dispatch is auditbus's router: it matches stored events against
// the rules and delivers each match to the rule's targets. Its JetStream
// resources do not grow with the number of targets: a target is a lane in
// the process, and costs the bus nothing while nothing waits for it.
//
// # Fan-out, and delivering at once
//
// One durable consumer of the events stream (ConsumerName), shared by
// every replica, matches each event. Each matched (rule, target) whose
// target can take a delivery now (not held, a slot of its lane free or
// free within half the direct wait, with at most its concurrency of
// fan-outs waiting for one, or while it keeps up what it frees within
// that wait at its pace, at most half the events workers; its rate
// allowing) gets it straight from the
// fan-out (direct.go), with the event decoded once for all such targets:
// the common case costs the event's own write and ack and no delivery
// message at all. The slot wait ends half-way so that an attempt that got
// its slot late still has time to finish before it needs a copy. The fan-out waits for those
// attempts until the direct wait (WithDirectWait, 1s) is over; one still
// running then gets a parked copy (below) and the fan-out moves on, so a
// hanging target holds an event, and an events worker, for at most the
// direct wait, once: while its backlog drains, the next events queue for
// it at once. A late attempt that succeeds deletes its copy again when it
// can. A direct attempt that fails is settled as a queued one would be
// (a scheduled retry, a parked copy, a dead letter).
//
// Every other delivery is queued: one delivery message on the
// AUDITBUS_DELIVERIES stream (WorkQueue retention) on the pair's ready
// subject auditbus.deliveries.<bus>.<rule>.<target>, the stored event
// unchanged, with bus, rule, target and the time the event was stored in
// headers; a held target's goes to its backlog subject at once. The event
// is acked once every direct attempt was made or settled and JetStream
// acknowledged every message that stands for a delivery; when the
// acknowledgements do not all come within the PubAck wait (WithPubAckWait,
// 5s), the event is handed back and matched again a second later. A
// delivery's message id is the event's message id plus rule and target,
// so re-matching an event after a crash (it was never acked) queues
// nothing twice within the duplicate window; a direct delivery made
// before the crash is made again (at least once). An event that matches
// nothing is acked at once.
//
// # Delivery: one shared consumer, a lane per target
//
// Every ready subject is read by one durable consumer,
// bus.DeliveriesConsumer, shared by every target and every replica, so
// replicas share the work and the bus holds two consumers whatever the
// number of targets. Each pair has a lane in the process (lane.go): a slot
// per delivery its target may have in flight (target setting
// `concurrency`, default 8), and its rate limiter (`rate`, and the rate
// an endpoint consented to). Building the lanes of a rule set makes no
// JetStream call, so 100,000 targets start as fast as their rules
// compile. A fetched delivery takes a slot of its lane and is attempted.
//
// Nothing that waits longer than one attempt stays on the shared consumer,
// so no target can use up its ack-pending slots, and waiting costs no CPU:
//
//   - A retry is a JetStream message schedule (Nats-Schedule "@at", on a
//     stream with AllowMsgSchedules): the delivery is stored again on a
//     wait subject auditbus.deliveries.wait.<bus>.<rule>.<target>.<id>,
//     with its attempt count in a header, and the old message acked. At
//     the time JetStream itself moves it onto the ready subject (one
//     schedule per subject, hence the id; JetStream fires schedules at
//     most every 250ms). Nothing in the router waits for it.
//   - A held target (disabled after 410 Gone, awaiting or withdrawn
//     consent) or a pair the rules lack has its deliveries parked: stored
//     on the pair's backlog subject auditbus.deliveries.backlog.<bus>.
//     <rule>.<target>, which no consumer reads, and acked.
//   - A saturated target has what it cannot take within a second parked
//     the same way. A fetched delivery waits in the process for a slot
//     for at most a second (the slot wait), and only while fewer than the
//     lane's room wait: while the target makes progress (a slot was free
//     or freed within the slot wait) that is what it delivered in the
//     last slot wait (its pace), so a saturated but healthy target takes
//     its deliveries from the shared consumer as its slots free up, with
//     no extra write and no drain; a target that made no progress for the
//     slot wait hangs, and its room is four times its concurrency, at
//     least 32: it holds a bounded share of the shared consumer's
//     messages, for at most a second each. A backlog that drains does not
//     divert new deliveries: they and the drain take the lane's slots in
//     turn.
//
// A backlog is read only while it drains (backlog.go): a durable consumer
// of that one subject (bus.QueueName), created when the target may take
// deliveries again (released, or has free slots), pulled through the
// lane's slots, and deleted once the backlog is empty. So consumers exist
// for the targets that have a backlog and may take it, not for every
// target. Every depth interval (WithDepthInterval) and whenever a
// target's state changes, a sweep reads the deliveries stream's subjects
// (one request), sets each target's backlog and oldest-waiting age
// (Backlog; the gauges auditbus_target_queue_depth and
// auditbus_target_oldest_waiting_seconds), and starts the drains; it also
// reads the events consumer's lag (EventsLag).
//
// Trade-offs. A retry or a parked delivery costs one more JetStream write
// than a NakWithDelay did, paid only by deliveries that wait; a delivery
// made at once costs none. Direct delivery trades an events worker's
// time (at most the direct wait per event) for those writes, and
// re-matching after a crash repeats direct deliveries. A retry is
// due within 250ms of its time, not to the millisecond. A parked delivery
// of a released target starts after the next sweep (immediately on a
// state change seen here; else within the depth interval). Deliveries of
// one target are not strictly ordered (they never were across retries).
//
// # Removed targets
//
// What is queued for a pair the rules lack is parked, never dropped. A
// pair that comes back within the removed-target grace (default 1m; a
// half-written rule file during hot reload) drains its backlog as any
// other. Otherwise the backlog is dead-lettered with reason "target
// removed", once nobody else served it for a grace: its consumer, if
// there is one, showed no waiting pull and no delivery or ack in that
// time (another replica whose rules still have the pair drains it
// itself). Limits: a replica whose target is held does not pull, so it
// looks gone; and the server's timestamps are compared with this host's
// clock. Keep the grace above the targets' timeouts and the clock skew.
//
// # Retries and the dead-letter queue
//
// settle.go is the one place where outcomes become acknowledgements.
// Delivered: Ack. Failed and retryable (network errors, timeouts, 408,
// 429, 5xx): scheduled again after a full-jitter delay, a random delay in
// [0, min(cap, base*2^(n-1))] for attempt n (counted in the
// Auditbus-Attempts header across messages), at least the target's
// Retry-After; until the target's retry.max_attempts or retry.max_age
// (from the stored time of the event; defaults 185 and 24h) is reached.
// Then, and at once for permanent failures (400, 401, 403, 404, 413,
// refused addresses, a failing input expression), the delivery is written
// to the AUDITBUS_DLQ stream (DeadLetter) and only after JetStream stored
// it, acked. A 410 disables the target and its deliveries are parked.
// Dead letters are listed (ListDLQ) and redriven (Redrive): republished
// to the ready subject with a fresh message id, and deleted only after
// the PubAck.
//
// # Why each guarantee holds
//
// At least once, nothing lost on kill -9: a message (an event, or a
// delivery) is acked only after the outcome of each of its deliveries is
// stored (the target answered, or the queued delivery, the retry, the
// parked copy or the dead letter has its PubAck); until then JetStream
// hands it out again after the ack wait. A crash between storing the new message
// and acking the old leaves both (message ids deduplicate the parked
// copy and the retry within the duplicate window): a duplicate, not a
// loss. Per-target isolation: a target's slots bound its attempts, its
// waits leave the shared consumer, and its backlog has its own consumer.
// Held targets keep their deliveries on their backlog until released.
// Per-target concurrency and rate are the lane's slots and limiter, per
// replica. Replicas share the shared consumer and a draining backlog's
// consumer. The shared consumers are made in one place (consumers.go:
// openConsumers, CreateOrUpdateConsumer, idempotent), at Open and again
// when a puller finds one deleted under the router (an operator's `nats
// consumer rm`); a pull handle names its consumer, so the pullers go on
// with theirs. A missing events consumer starts after the ack floor last
// seen, not at the beginning of days of events. That happens only once
// the embedded server's store is whole (bus.DiskWatch.Settled,
// WithDiskWatch), one is still not found, and no reopening began
// meanwhile: while the streams are reopened after a full disk, JetStream
// answers "not found" for what it has not recovered yet. A backlog's
// consumer is created or found the same way each time it drains; losing
// one loses nothing, what it had not acked is still on the backlog. The
// target state watch is started again, and the bucket read again, when
// nats.go's watcher gives up (statewatch.go).
//
// At shutdown fetching stops, in-flight deliveries get the shutdown grace,
// and whatever remains is naked so another replica (or the next start)
// takes it at once.
//
// # Work once per event
//
// A fetched delivery message is read once (delivery.go: headers,
// metadata, the decoded event) and every step of its attempt and
// settlement works on that record; a fan-out decodes its event once for
// all its direct attempts. What a delivery needs of its pair is looked
// up when the rule table is built (table.go: a rule's bindings, whether
// it has an input expression, its latency series, its lane) or once per
// pair (its counters). Structured, smn and function targets send the
// stored bytes as they are when there is no input payload; binary mode
// writes its headers from the decoded event and its body from the
// stored data, not through sdk-go's binding (sinks/binary.go), and its
// Ce- headers once per fan-out for all its targets (sinks.Shared). Metric
// series are looked up once, on first use, per pair and outcome and per
// rule (lazyCounter), not by label on every delivery or match.
//
// # What this design removed, and why
//
//   - Per-(rule, target) consumers, their removal grace, stranded sweeps
//     and per-queue recreation (the earlier session): one shared consumer
//     reads every ready delivery.
//   - A second settlement: the fan-out's direct attempts and fetched
//     deliveries were settled by two copies of the same outcome switch
//     (park, retry schedule, dead letter), each with its own message
//     builder (carry, message) and header parsing (priorAttempts,
//     queuedAt). One settle, over one delivery record, serves both; the
//     callers differ only in how they store (with the event's PubAcks, or
//     at once before an Ack).
//   - Diverting a target's deliveries to its backlog while the backlog
//     drains, and turning direct delivery off meanwhile: it kept the lane
//     on one path, but made every delivery of a busy target cost two more
//     writes (ready, then parked) and a drain, and kept it so while load
//     lasted. The lane's slots are the one path now.
//   - Three ways to wait for a slot (tryAcquire, acquireUntil, wait): one
//     acquire with a deadline and a room.
//   - A backlog drain's own fetch loop: it is pull, with a stop condition.
//   - A separate path for re-creating deleted consumers (recreate.go), with
//     its own create-or-adopt logic for the events consumer, a wrapper
//     that swapped the handle under a lock, and a lookup-then-confirm
//     before a backlog consumer was created: the one place that creates
//     the shared consumers at Open is called again (CreateOrUpdateConsumer
//     is idempotent, and a handle names its consumer, so nothing is
//     swapped), and a backlog drain creates or finds its consumer as one
//     call.
//   - A backlog's special settlement (its held message handed back with a
//     delay, and a flag on every delivery saying where it came from): a
//     message a drain fetched just before its target was held is parked
//     again like any other, and the drain stops.
//   - Two copies of one attempt (fetched and direct), each looking up the
//     binding and the hold, over two hold checks (by binding, by lane):
//     one attempt, one holds.
//   - A second record of the fan-out's event (storedEvent, with its own
//     lazy decode beside the delivery's): the event is read once into a
//     delivery without a target, which each target's delivery copies.
package dispatch
