package topics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"
)

// DefaultBucket is the NATS KV bucket of API topics.
const DefaultBucket = "auditbus_topics"

// Registry holds the topics of the topics file and of the KV bucket, the
// functions and the group directory. Its methods are safe for concurrent
// use.
type Registry struct {
	file *File
	log  zerolog.Logger

	mu       sync.RWMutex
	api      map[string]Topic // by name
	kv       jetstream.KeyValue
	names    *Names
	onChange []func()
	wg       sync.WaitGroup
	cancel   context.CancelFunc
}

// New returns a registry of the topics file's contents; Start adds the
// API topics.
func New(file *File, log zerolog.Logger) *Registry {
	if file == nil {
		file = &File{Functions: map[string]*yaml.Node{}, Groups: map[string][]string{}}
	}
	return &Registry{file: file, log: log, api: map[string]Topic{}}
}

// OnChange registers f, called (from the watching goroutine) after every
// change of the API topics. Call it before Start.
func (r *Registry) OnChange(f func()) { r.onChange = append(r.onChange, f) }

// Start opens (creating it if needed) the bucket, reads every topic in it
// and watches it until Stop, watching again (and rereading every topic)
// whenever the watch ends, as it does when the NATS connection is lost.
// replicas is the bucket's replication factor.
func (r *Registry) Start(ctx context.Context, js jetstream.JetStream, replicas int) error {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: DefaultBucket, History: 1,
		Replicas: max(replicas, 1), Description: "auditbus topics managed through the API"})
	if err != nil {
		return fmt.Errorf("%w: open bucket %s: %w", ErrUnavailable, DefaultBucket, err)
	}
	names, err := OpenNames(ctx, js, replicas)
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w, err := r.watch(runCtx, kv)
	if err != nil {
		cancel()
		return err
	}
	r.mu.Lock()
	r.kv, r.names, r.cancel = kv, names, cancel
	r.mu.Unlock()
	r.wg.Go(func() { r.follow(runCtx, kv, w) })
	return nil
}

// rewatchDelay paces new watches after one ended.
const rewatchDelay = time.Second

// watch starts a watch of the bucket and reads its current topics, which
// replace the API topics known so far.
func (r *Registry) watch(ctx context.Context, kv jetstream.KeyValue) (jetstream.KeyWatcher, error) {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: watch bucket %s: %w", ErrUnavailable, DefaultBucket, err)
	}
	current := map[string]Topic{}
	for e := range w.Updates() {
		if e == nil {
			break // the current values are in
		}
		if t, ok := r.decode(e); ok {
			current[e.Key()] = t
		}
	}
	r.mu.Lock()
	r.api = current
	r.mu.Unlock()
	return w, nil
}

// follow applies the watch's updates until ctx ends, watching again when
// the watch ends first.
func (r *Registry) follow(ctx context.Context, kv jetstream.KeyValue, w jetstream.KeyWatcher) {
	for {
		r.drain(ctx, w)
		_ = w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(rewatchDelay):
			}
			var err error
			if w, err = r.watch(ctx, kv); err == nil {
				r.changed()
				break
			}
			r.log.Warn().Err(err).Msg("topics bucket watch ended; watching again")
		}
	}
}

// drain applies w's updates until w or ctx ends.
func (r *Registry) drain(ctx context.Context, w jetstream.KeyWatcher) {
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e != nil {
				r.apply(e)
				r.changed()
			}
		}
	}
}

// Stop ends watching. Safe before Start and twice.
func (r *Registry) Stop() {
	r.mu.Lock()
	cancel := r.cancel
	r.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	r.wg.Wait()
}

func (r *Registry) apply(e jetstream.KeyValueEntry) {
	t, ok := r.decode(e)
	r.mu.Lock()
	defer r.mu.Unlock()
	if ok {
		r.api[e.Key()] = t
	} else {
		delete(r.api, e.Key())
	}
}

// decode reads a stored topic; ok is false for a deletion or a value that
// does not decode (logged: it is ignored).
func (r *Registry) decode(e jetstream.KeyValueEntry) (Topic, bool) {
	if e.Operation() != jetstream.KeyValuePut {
		return Topic{}, false
	}
	var t Topic
	if err := json.Unmarshal(e.Value(), &t); err != nil {
		r.log.Error().Err(err).Str("topic", e.Key()).Msg("stored topic does not decode; ignored")
		return Topic{}, false
	}
	t.Origin, t.Revision = OriginAPI, e.Revision()
	return t, true
}

func (r *Registry) changed() {
	for _, f := range r.onChange {
		f()
	}
}

// List returns every topic, file topics first, each group by name.
func (r *Registry) List() []Topic {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := slices.Clone(r.file.Topics)
	for _, name := range slices.Sorted(maps.Keys(r.api)) {
		out = append(out, r.api[name])
	}
	return out
}

// Get returns topic name.
func (r *Registry) Get(name string) (Topic, bool) {
	for _, t := range r.file.Topics {
		if t.Name == name {
			return t, true
		}
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.api[name]
	return t, ok
}

// ByURN returns the topic urn names.
func (r *Registry) ByURN(urn string) (Topic, bool) {
	for _, t := range r.List() {
		if t.URN == urn {
			return t, true
		}
	}
	return Topic{}, false
}

// Function returns the settings of function urn (a function target's
// config) when the topics file declares it.
func (r *Registry) Function(urn string) (*yaml.Node, bool) {
	n, ok := r.file.Functions[urn]
	return n, ok
}

// Known reports whether urn names a topic or a function.
func (r *Registry) Known(urn string) bool {
	if _, ok := r.Function(urn); ok {
		return true
	}
	_, ok := r.ByURN(urn)
	return ok
}

// Group returns the users of group in the directory.
func (r *Registry) Group(group string) []string { return r.file.Groups[group] }

func (r *Registry) isFileTopic(name string) bool {
	return slices.ContainsFunc(r.file.Topics, func(t Topic) bool { return t.Name == name })
}

func (r *Registry) bucket() (jetstream.KeyValue, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.kv == nil {
		return nil, errors.Join(ErrUnavailable, errors.New("the registry is not started"))
	}
	return r.kv, nil
}
