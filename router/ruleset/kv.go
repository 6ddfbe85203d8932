package ruleset

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/rules"
)

// initialReadTimeout bounds the wait for the bucket's current contents at
// start when ctx has no earlier deadline.
const initialReadTimeout = 30 * time.Second

// openKV creates or updates the bucket, starts watching it with runCtx
// and loads its current contents before returning the watcher.
func (m *Manager) openKV(ctx, runCtx context.Context, js jetstream.JetStream) (jetstream.KeyWatcher, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      m.opts.bucket,
		Description: "auditbus: rules managed through the HTTP API, key <bus>.<name>, value the rule document",
		History:     bucketHistory,
		Storage:     jetstream.FileStorage,
		Replicas:    m.opts.replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("rules bucket %s: %w", m.opts.bucket, err)
	}
	w, err := kv.WatchAll(runCtx)
	if err != nil {
		return nil, fmt.Errorf("watch rules bucket %s: %w", m.opts.bucket, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.readCurrent(ctx, w); err != nil {
		_ = w.Stop()
		return nil, err
	}
	m.kv = kv
	return w, nil
}

// readCurrent applies what a new watcher delivers before its end-of-
// current-values marker and returns the keys it saw. The caller holds m.mu.
func (m *Manager) readCurrent(ctx context.Context, w jetstream.KeyWatcher) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(ctx, initialReadTimeout)
	defer cancel()
	seen := map[string]bool{}
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("watch rules bucket %s: %w", m.opts.bucket, errWatchClosed)
			}
			if e == nil { // every current value has been delivered
				return seen, nil
			}
			seen[e.Key()] = true
			m.applyEntry(e)
		case <-ctx.Done():
			return nil, fmt.Errorf("read rules bucket %s: %w", m.opts.bucket, ctx.Err())
		}
	}
}

// follow applies the bucket's changes, rebuilding once per burst of
// changes, until ctx ends (false) or the watcher closes (true).
func (m *Manager) follow(ctx context.Context, w jetstream.KeyWatcher) (closed bool) {
	for {
		select {
		case <-ctx.Done():
			return false
		case e, ok := <-w.Updates():
			if !ok {
				return true
			}
			m.applyBurst(ctx, e, w.Updates())
		}
	}
}

// applyBurst applies e and every change already waiting, then rebuilds
// once.
func (m *Manager) applyBurst(ctx context.Context, e jetstream.KeyValueEntry, more <-chan jetstream.KeyValueEntry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e != nil {
		m.applyEntry(e)
	}
drain:
	for {
		select {
		case next, ok := <-more:
			if !ok {
				break drain
			}
			if next != nil {
				m.applyEntry(next)
			}
		default:
			break drain
		}
	}
	if len(m.touched) > 0 || m.retry {
		_ = m.rebuild(ctx, "api", false)
	}
}

// stopWatcher unsubscribes and drains what the subscription still holds,
// so its delivery callback, which blocks on a full channel, can finish.
func stopWatcher(w jetstream.KeyWatcher) {
	_ = w.Stop()
	timeout := time.After(time.Second)
	for {
		select {
		case _, ok := <-w.Updates():
			if !ok {
				return
			}
		case <-timeout:
			return
		}
	}
}

// applyEntry records one KV change: a new document is parsed, a delete
// removes the rule. The caller holds m.mu.
func (m *Manager) applyEntry(e jetstream.KeyValueEntry) {
	key := e.Key()
	if s, ok := m.api[key]; ok && s.rev == e.Revision() {
		return // seen already: the watch redelivers after a reconnect
	}
	m.touched[key] = true
	if op := e.Operation(); op == jetstream.KeyValueDelete || op == jetstream.KeyValuePurge {
		if s, ok := m.api[key]; ok {
			delete(m.api, key)
			m.removed = append(m.removed, s)
		}
		return
	}
	s, ok := m.api[key]
	if !ok {
		s = &source{id: key, api: true}
		m.api[key] = s
	}
	s.rev, s.doc = e.Revision(), e.Value()
	k := apiKey(key)
	s.want, s.parseErrs = m.parseStored(k.bus, k.name, e.Value())
	if s.want != nil {
		s.want.rev = e.Revision()
	}
}

// parseStored validates a stored document: it must hold exactly the rule
// its key names.
func (m *Manager) parseStored(bus, name string, doc []byte) (*version, rules.Errors) {
	label := apiLabel(bus + "." + name)
	if !nameRe.MatchString(bus) || !nameRe.MatchString(name) {
		return nil, rules.Errors{{Pos: rules.Position{File: label}, Msg: "the key is not <bus>.<name>"}}
	}
	r, _, err := m.parseDocument(bus, name, doc)
	if err != nil {
		return nil, asErrors(err)
	}
	return &version{rules: []*rules.Rule{r}}, nil
}
