// Package dispatch is auditbus's router: it pulls stored events from the
// JetStream events stream through one durable consumer shared by every
// replica, matches them against the current rule set, and delivers each
// match to the rule's targets.
//
// An event is acknowledged on the bus only after all its deliveries ended;
// a delivery that can still succeed later makes the event come back
// (NakWithDelay), so killing the process never loses an accepted event, at
// the price of a repeat to targets that already had it.
package dispatch
