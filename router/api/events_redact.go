package api

import "slices"

// AllBuses, as an entry of WithEventRedaction's list, selects every bus.
const AllBuses = "*"

// WithEventRedaction sets the buses whose /v1/events JSON data is redacted
// like audit records before it is stored (see sources.Redactor): bus names,
// or AllBuses. Default: every bus. An empty list redacts no event data; the
// source endpoints redact regardless.
func WithEventRedaction(buses []string) Option {
	return func(o *options) { o.redactBuses = slices.Clone(buses) }
}

func (o *options) redactsEvents(bus string) bool {
	if !o.redactor.On() {
		return false
	}
	return slices.Contains(o.redactBuses, AllBuses) || slices.Contains(o.redactBuses, bus)
}
