// Package dispatch is auditbus's router: it matches stored events against
// the rules and delivers each match to the rule's targets. Its JetStream
// resources do not grow with the number of targets: a target is a lane in
// the process, and costs the bus nothing while nothing waits for it.
//
// # Fan-out, and delivering at once
//
// One durable consumer of the events stream (ConsumerName), shared by
// every replica, matches each event. A matched (rule, target) whose
// target can take a delivery now (not held, its rate allowing, a slot of
// its lane free within half the direct wait, with few enough fan-outs
// waiting for one: lane.directRoom, counted apart from the fetched
// deliveries that wait) gets it straight from the fan-out
// (direct.go), the event decoded once for all such targets: the common
// case costs the event's own write and ack and no delivery message. (The
// attempts run on goroutines kept between them, crew.go.) The
// fan-out waits for those attempts until the direct wait (WithDirectWait,
// 1s) is over; one still running then gets a parked copy and the fan-out
// moves on, so a hanging target holds an event, and an events worker, for
// at most the direct wait. A late attempt that succeeds deletes its copy
// again when it can; one answered 410 Gone disables the target, so that
// its copy is held. A direct attempt that fails is settled as a queued
// one would be.
//
// Every other delivery is queued: one message on the AUDITBUS_DELIVERIES
// stream (WorkQueue retention) on the pair's ready subject
// auditbus.deliveries.<bus>.<rule>.<target>, the stored event unchanged,
// with bus, rule, target and the event's stored time in headers; a held
// target's goes to its backlog subject at once. The event is acked once
// every direct attempt was settled and JetStream acknowledged every
// message that stands for a delivery; past the PubAck wait
// (WithPubAckWait, 5s) it is handed back and matched again a second later.
// A delivery's message id is the event's message id plus rule and target,
// so re-matching an event after a crash queues nothing twice within the
// duplicate window; a direct delivery made before the crash is made again
// (at least once). An event that matches nothing is acked at once.
//
// # Delivery: one shared consumer, a lane per target
//
// Every ready subject is read by one durable consumer,
// bus.DeliveriesConsumer, shared by every target and every replica, so
// the bus holds two consumers whatever the number of targets. Each pair
// has a lane in the process (lane.go): a slot per delivery its target may
// have in flight (`concurrency`, default 32) and its rate limiter (`rate`,
// and the rate an endpoint consented to). Building lanes makes no
// JetStream call, so 100,000 targets start as fast as their rules compile.
// A fetched delivery takes a slot of its lane and is attempted (route.go).
// Each consumer (the events', the deliveries', a draining backlog's) is
// read through one long-lived pull subscription (pull.go) that buffers at
// most as many messages as it has workers; what it still buffers when
// pulling stops is handed back at once. (A Fetch per batch, ended by the
// client's deadline, dropped what the server had sent just before, which
// came back only after the ack wait.)
//
// Nothing that waits longer than one attempt stays on the shared consumer,
// so no target can use up its ack-pending slots, and waiting costs no CPU:
//
//   - A retry is a JetStream message schedule (Nats-Schedule "@at", on a
//     stream with AllowMsgSchedules): the delivery is stored again on a
//     wait subject auditbus.deliveries.wait.<bus>.<rule>.<target>.<id>,
//     with its attempt count in a header, and the old message acked; when
//     due, JetStream moves it onto the ready subject (one schedule per
//     subject, hence the id; schedules fire at most every 250ms).
//   - A held target (disabled after 410 Gone, awaiting or withdrawn
//     consent) or a pair the rules lack has its deliveries parked: stored
//     on the pair's backlog subject auditbus.deliveries.backlog.<bus>.
//     <rule>.<target>, which no consumer reads, and acked.
//   - A saturated target has what it cannot take within the slot wait
//     (1s) parked the same way. Only as many deliveries as the lane's room
//     wait for a slot (lane.room): while the target makes progress, what
//     it delivered in the last slot wait, so a saturated but healthy
//     target takes its deliveries as its slots free up, with no extra
//     write; a target that hangs holds at most four times its concurrency
//     (at least 32) of the shared consumer's messages, a second each.
//
// A backlog is read only while it drains (backlog.go): a durable consumer
// of that one subject (bus.QueueName), created when the target may take
// deliveries again, pulled through the lane's slots, and left to
// JetStream to delete once unused. New deliveries are not diverted while
// it drains; they and the drain take the lane's slots in turn. Every
// depth interval (WithDepthInterval) and whenever a target's state
// changes, a sweep reads the deliveries stream's subjects (one request),
// sets each target's backlog and oldest-waiting age (Backlog; the gauges
// auditbus_target_queue_depth and auditbus_target_oldest_waiting_seconds),
// starts the drains, and reads the events consumer's lag (EventsLag).
//
// Trade-offs. A retry or a parked delivery costs one more JetStream write
// than a NakWithDelay did, paid only by deliveries that wait; a delivery
// made at once costs none. Direct delivery trades an events worker's time
// (at most the direct wait per event) for those writes, and re-matching
// after a crash repeats direct deliveries. A retry is due within 250ms of
// its time. A released target's backlog starts at the next sweep. The
// deliveries of one target are not strictly ordered (they never were
// across retries).
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
// settle.go is the one place where outcomes become acknowledgements:
// delivered, acked; failed and retryable, scheduled again after a
// full-jitter delay (backoff.go), at least the target's Retry-After, until
// retry.max_attempts or retry.max_age (from the event's stored time);
// then, and at once for permanent failures, written to the AUDITBUS_DLQ
// stream (DeadLetter) and acked only once JetStream stored it. A 410
// disables the target, whose deliveries are parked. Dead letters are
// listed (ListDLQ) and redriven (Redrive) to the ready subject with a
// fresh message id, and deleted only after the PubAck.
//
// # Why each guarantee holds
//
// At least once, nothing lost on kill -9: a message (an event, or a
// delivery) is acked only after the outcome of each of its deliveries is
// stored (the target answered, or the queued delivery, the retry, the
// parked copy or the dead letter has its PubAck); until then JetStream
// hands it out again after the ack wait. A crash between storing the new
// message and acking the old leaves both (message ids deduplicate the
// parked copy and the retry within the duplicate window): a duplicate,
// not a loss. Per-target isolation: a target's slots bound its attempts,
// its waits leave the shared consumer, and its backlog has its own
// consumer. Held targets keep their deliveries on their backlog until
// released. Per-target concurrency and rate are the lane's slots and
// limiter, per replica. Replicas share the shared consumer and a draining
// backlog's consumer. A shared consumer deleted under the router (`nats
// consumer rm`) is made again by the code that made it at Open
// (consumers.go), the events consumer after the ack floor last seen, and
// only once the embedded server's store is whole (WithDiskWatch): while
// the streams are reopened after a full disk, JetStream answers "not
// found" for what it has not recovered yet. Losing a backlog's consumer
// loses nothing: what it had not acked is still on the backlog. The
// target state watch is started again, and the bucket read again, when
// nats.go's watcher gives up (statewatch.go). At shutdown fetching stops,
// in-flight deliveries get the shutdown grace, and the rest is naked so
// another replica (or the next start) takes it at once.
//
// # Work once per event
//
// A fetched delivery message is read once (delivery.go) and every step of
// its attempt and settlement works on that record; a fan-out decodes its
// event once for all its direct attempts. What a delivery needs of its
// pair is looked up when the rule table is built (table.go). Structured,
// smn and function targets send the stored bytes as they are when there is
// no input payload; binary mode builds its request from the decoded event
// and the stored data (sinks/binary.go), its Ce- headers once per fan-out
// (sinks.Shared). Metric series are looked up on first use and kept
// (lazyCounter).
//
// # What the design made unnecessary
//
// Per-(rule, target) consumers and what kept them alive (removal grace
// per consumer, stranded sweeps, per-queue recreation); a second copy of
// attempt and settlement for direct deliveries; diverting a busy target
// to its backlog while it drained; three slot waits, and a second
// wait-and-deliver for backlog messages; a drain's own fetch loop and
// settlement; a separate path re-creating deleted consumers; a second
// record of the fan-out's event; a second map of the lanes beside the
// rule table; and a target state cache that served a router never opened.
package dispatch
