package bus

import (
	"github.com/nats-io/nats-server/v2/server"
)

// RouterConsumer is the durable consumer through which auditbus itself
// reads the events stream (dispatch.ConsumerName). Subscribers may not
// pull from it, ack its messages or redefine it: that would take events
// away from the router.
const RouterConsumer = "auditbus-router"

// InternalInboxPrefix is the reply-subject prefix of auditbus's own
// connections. Subscribers may subscribe to _INBOX.> for their replies;
// auditbus's replies (KV reads of the consent tokens, DLQ fetches) go
// elsewhere, so no subscriber can overhear them.
const InternalInboxPrefix = "_AUDITBUS_INBOX"

// SubscriberPermissions is what a subscriber user may do on the embedded
// server, plus core subscriptions to extra (subjects checked by
// ParseUsers):
//
//   - subscribe to auditbus.events.> (live events) and _INBOX.> (replies,
//     push-consumer deliveries);
//   - on the events stream only: read its info, get messages by sequence,
//     create consumers (ordered, ephemeral or durable; the subject form that
//     names the consumer, as nats.go's jetstream package and the nats CLI
//     send it), read consumer info, fetch (pull), ack, and answer flow
//     control;
//   - list stream names (legacy clients look the stream up by subject).
//
// Everything else is refused by the server: the KV buckets ($KV.> and
// their KV_ streams), the deliveries and DLQ streams, any publish outside
// the JetStream API subjects above (so no event can be forged), stream
// create, update, delete and purge, consumer delete and pause, and the
// router's own consumer. Deny rules win over allow rules in nats-server.
func SubscriberPermissions(extra []string) *server.Permissions {
	js := func(s string) string { return "$JS.API." + s }
	return &server.Permissions{
		Publish: &server.SubjectPermission{
			Allow: []string{
				js("STREAM.NAMES"),
				js("STREAM.INFO." + StreamName),
				js("STREAM.MSG.GET." + StreamName),
				js("DIRECT.GET." + StreamName),
				js("CONSUMER.CREATE." + StreamName + ".>"),
				js("CONSUMER.INFO." + StreamName + ".*"),
				js("CONSUMER.MSG.NEXT." + StreamName + ".*"),
				"$JS.ACK." + StreamName + ".>",
				"$JS.FC." + StreamName + ".>",
			},
			Deny: []string{
				js("CONSUMER.CREATE." + StreamName + "." + RouterConsumer),
				js("CONSUMER.CREATE." + StreamName + "." + RouterConsumer + ".>"),
				js("CONSUMER.MSG.NEXT." + StreamName + "." + RouterConsumer),
				"$JS.ACK." + StreamName + "." + RouterConsumer + ".>",
				"$JS.FC." + StreamName + "." + RouterConsumer + ".>",
			},
		},
		Subscribe: &server.SubjectPermission{
			Allow: append([]string{SubjectPrefix + ".>", "_INBOX.>"}, extra...),
			// Belt and braces: ParseUsers keeps extra subjects out of these.
			Deny: []string{"$KV.>", "$JS.>", "$SYS.>", InternalInboxPrefix + ".>",
				DeliveriesPrefix + ".>", DLQPrefix + ".>"},
		},
	}
}
