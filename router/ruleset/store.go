package ruleset

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/rules"
)

// Validate parses doc as Put would, without storing it.
func (m *Manager) Validate(bus, name string, doc []byte) (*rules.Rule, error) {
	r, _, err := m.parseDocument(bus, name, doc)
	return r, err
}

// Put validates doc and stores it as the API rule name of bus, then waits
// (at most the write wait) until this replica runs it, so that a read
// right after sees it. An empty bus means the document's (default
// "default"). A rule file defining that name is a conflict: files are
// edited as files.
func (m *Manager) Put(ctx context.Context, bus, name string, doc []byte, ifMatch *api.Precondition) (api.StoredRule, bool, error) {
	kv, err := m.bucket()
	if err != nil {
		return api.StoredRule{}, false, err
	}
	r, filled, err := m.parseDocument(bus, name, doc)
	if err != nil {
		return api.StoredRule{}, false, err
	}
	bus = r.Bus
	if err := m.fileConflict(bus, name); err != nil {
		return api.StoredRule{}, false, err
	}
	key := bus + "." + name
	rev, created, err := write(ctx, kv, key, filled, ifMatch)
	if err != nil {
		return api.StoredRule{}, false, err
	}
	k := ruleKey{bus, name}
	if m.waitFor(ctx, func(v *view) bool { return v.rules[k].Revision >= rev }) {
		if st, ok := m.Get(bus, name); ok && st.Revision == rev {
			return st, created, nil
		}
	}
	m.opts.log.Warn().Str("rule", key).Uint64("revision", rev).Msg("API rule stored but not applied here yet")
	return api.StoredRule{Bus: bus, Name: name, Rule: r, Origin: api.Origin{Kind: api.OriginAPI, Revision: rev},
		Document: filled, Revision: rev}, created, nil
}

// Delete removes the API rule name of bus, then waits (at most the write
// wait) until this replica no longer runs it.
func (m *Manager) Delete(ctx context.Context, bus, name string, ifMatch *api.Precondition) error {
	kv, err := m.bucket()
	if err != nil {
		return err
	}
	key := bus + "." + name
	if _, err := kv.Get(ctx, key); err != nil {
		if !notFound(err) {
			return unavailable("read", key, err)
		}
		if err := m.fileConflict(bus, name); err != nil {
			return err
		}
		return fmt.Errorf("%w: no rule %q on bus %q", api.ErrRuleNotFound, name, bus)
	}
	var opts []jetstream.KVDeleteOpt
	if ifMatch != nil && !ifMatch.Any {
		opts = append(opts, jetstream.LastRevision(ifMatch.Revision))
	}
	if err := kv.Delete(ctx, key, opts...); err != nil {
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return fmt.Errorf("%w: rule %q on bus %q has another revision", api.ErrPreconditionFailed, name, bus)
		}
		return unavailable("delete", key, err)
	}
	k := ruleKey{bus, name}
	if !m.waitFor(ctx, func(v *view) bool { return v.rules[k].Origin.Kind != api.OriginAPI }) {
		m.opts.log.Warn().Str("rule", key).Msg("API rule deleted but still applied here")
	}
	return nil
}

// bucket is the KV bucket, or ErrRuleStoreUnavailable without one.
func (m *Manager) bucket() (jetstream.KeyValue, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.kv == nil {
		return nil, fmt.Errorf("%w: no rules bucket (API-managed rules need NATS JetStream)", api.ErrRuleStoreUnavailable)
	}
	return m.kv, nil
}

// fileConflict reports a rule file defining name on bus.
func (m *Manager) fileConflict(bus, name string) error {
	if pos, ok := m.view.Load().files[ruleKey{bus, name}]; ok {
		return fmt.Errorf("%w: rule %q on bus %q is defined at %s; change it there", api.ErrRuleConflict, name, bus, pos)
	}
	return nil
}

// write stores doc under key: created when absent, else replaced, or only
// when the revision matches ifMatch. It returns the new revision.
func write(ctx context.Context, kv jetstream.KeyValue, key string, doc []byte, ifMatch *api.Precondition) (uint64, bool, error) {
	if ifMatch == nil {
		rev, err := kv.Create(ctx, key, doc)
		if err == nil {
			return rev, true, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return 0, false, unavailable("create", key, err)
		}
		rev, err = kv.Put(ctx, key, doc)
		if err != nil {
			return 0, false, unavailable("update", key, err)
		}
		return rev, false, nil
	}
	want := ifMatch.Revision
	if ifMatch.Any {
		e, err := kv.Get(ctx, key)
		if notFound(err) {
			return 0, false, fmt.Errorf("%w: rule %s does not exist", api.ErrPreconditionFailed, key)
		}
		if err != nil {
			return 0, false, unavailable("read", key, err)
		}
		want = e.Revision()
	}
	rev, err := kv.Update(ctx, key, doc, want)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return 0, false, fmt.Errorf("%w: rule %s is not at revision %d", api.ErrPreconditionFailed, key, want)
	}
	if err != nil {
		return 0, false, unavailable("update", key, err)
	}
	return rev, false, nil
}

func notFound(err error) bool {
	return errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted)
}

func unavailable(op, key string, err error) error {
	return fmt.Errorf("%w: %s rule %s: %v", api.ErrRuleStoreUnavailable, op, key, err)
}
