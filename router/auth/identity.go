package auth

import (
	"context"
	"slices"
)

// Identity is who a request was authenticated as.
type Identity struct {
	Name string
	// Via says how the identity was presented: "token", "signature" or
	// "certificate".
	Via    string
	grants []string
	buses  []string // nil: every bus
}

// Allows reports whether the identity may perform action.
func (id *Identity) Allows(action string) bool {
	return slices.ContainsFunc(id.grants, func(g string) bool { return grants(g, action) })
}

// AllowsBus reports whether the identity may touch bus.
func (id *Identity) AllowsBus(bus string) bool {
	return id.buses == nil || slices.Contains(id.buses, bus)
}

// Buses is the buses the identity is limited to; nil means every bus.
func (id *Identity) Buses() []string { return slices.Clone(id.buses) }

type ctxKey struct{}

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the identity of the request ctx belongs to, or nil
// when the server runs without auth.
func FromContext(ctx context.Context) *Identity {
	id, _ := ctx.Value(ctxKey{}).(*Identity)
	return id
}

// BusAllowed reports whether the request's identity may touch bus; true
// when the server runs without auth.
func BusAllowed(ctx context.Context, bus string) bool {
	id := FromContext(ctx)
	return id == nil || id.AllowsBus(bus)
}
