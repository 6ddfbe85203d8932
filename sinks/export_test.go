package sinks

import "time"

// SetClock makes a webhook sink read the time from now, so that tests can
// pin timestamps and the signatures over them.
func SetClock(s Sink, now func() time.Time) { s.(*Webhook).now = now }
