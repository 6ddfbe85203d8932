package topics

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// NamesBucket is the NATS KV bucket of notification name claims: key
// <project>.<name>, each base64url, value the id of the notification that
// holds the name.
const NamesBucket = "auditbus_notification_names"

// StaleClaimAfter is how old a claim must be before another notification
// may take its name over when the holder no longer has it (a replica
// stopped between claiming a name and storing its notification, or
// between deleting a notification and releasing its name): far longer
// than a create takes, and than a rule takes to reach every replica.
const StaleClaimAfter = time.Minute

// ErrNameTaken is a name another notification holds.
var ErrNameTaken = errors.New("notification name taken")

// Names claims CTS notification names across replicas: a name is held by
// one notification id at a time, since a claim is a KV create, which only
// one writer can win. Its methods are safe for concurrent use.
type Names struct {
	kv  jetstream.KeyValue
	now func() time.Time
}

// OpenNames creates or opens the claims bucket with replicas copies.
func OpenNames(ctx context.Context, js jetstream.JetStream, replicas int) (*Names, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: NamesBucket, History: 1,
		Replicas: max(replicas, 1), Description: "auditbus: CTS notification names, key <project>.<name> (base64url), value the holder's id"})
	if err != nil {
		return nil, fmt.Errorf("%w: open bucket %s: %w", ErrUnavailable, NamesBucket, err)
	}
	return &Names{kv: kv, now: time.Now}, nil
}

func nameKey(project, name string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(project)) + "." + enc.EncodeToString([]byte(name))
}

// Claim makes id the holder of name in project, or answers ErrNameTaken
// (naming the holder). A name id holds already is claimed again without
// error. A claim older than StaleClaimAfter whose holder no longer has
// the name (has(holder) is false) is taken over.
func (n *Names) Claim(ctx context.Context, project, name, id string, has func(holder string) bool) error {
	k := nameKey(project, name)
	for range 8 { // each lap means another writer changed the claim meanwhile
		_, err := n.kv.Create(ctx, k, []byte(id))
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("%w: claim notification name %q: %w", ErrUnavailable, name, err)
		}
		e, err := n.kv.Get(ctx, k)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			continue // released meanwhile
		case err != nil:
			return fmt.Errorf("%w: read the claim of notification name %q: %w", ErrUnavailable, name, err)
		}
		holder := string(e.Value())
		if holder == id {
			return nil
		}
		if has(holder) || n.now().Sub(e.Created()) < StaleClaimAfter {
			return fmt.Errorf("%w: %q is notification %s's", ErrNameTaken, name, holder)
		}
		if _, err := n.kv.Update(ctx, k, []byte(id), e.Revision()); err == nil {
			return nil
		} else if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return fmt.Errorf("%w: take over notification name %q: %w", ErrUnavailable, name, err)
		}
	}
	return fmt.Errorf("%w: notification name %q: its claim kept changing", ErrUnavailable, name)
}

// Holder is the id that holds name in project, "" for none.
func (n *Names) Holder(ctx context.Context, project, name string) (string, error) {
	e, err := n.kv.Get(ctx, nameKey(project, name))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("%w: read the claim of notification name %q: %w", ErrUnavailable, name, err)
	}
	return string(e.Value()), nil
}

// Release gives name up if id holds it; a name another id holds (or none
// does) stays as it is.
func (n *Names) Release(ctx context.Context, project, name, id string) error {
	k := nameKey(project, name)
	e, err := n.kv.Get(ctx, k)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("%w: read the claim of notification name %q: %w", ErrUnavailable, name, err)
	case string(e.Value()) != id:
		return nil
	}
	err = n.kv.Delete(ctx, k, jetstream.LastRevision(e.Revision()))
	if err != nil && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) { // claimed again meanwhile
		return fmt.Errorf("%w: release notification name %q: %w", ErrUnavailable, name, err)
	}
	return nil
}

// ClaimName is Names.Claim on the registry's claims bucket (opened by
// Start).
func (r *Registry) ClaimName(ctx context.Context, project, name, id string, has func(holder string) bool) error {
	n, err := r.claims()
	if err != nil {
		return err
	}
	return n.Claim(ctx, project, name, id, has)
}

// NameHolder is Names.Holder on the registry's claims bucket.
func (r *Registry) NameHolder(ctx context.Context, project, name string) (string, error) {
	n, err := r.claims()
	if err != nil {
		return "", err
	}
	return n.Holder(ctx, project, name)
}

// ReleaseName is Names.Release on the registry's claims bucket.
func (r *Registry) ReleaseName(ctx context.Context, project, name, id string) error {
	n, err := r.claims()
	if err != nil {
		return err
	}
	return n.Release(ctx, project, name, id)
}

func (r *Registry) claims() (*Names, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.names == nil {
		return nil, errors.Join(ErrUnavailable, errors.New("the registry is not started"))
	}
	return r.names, nil
}
