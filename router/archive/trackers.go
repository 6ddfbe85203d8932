package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/cts"
)

// TrackersBucket is the KV bucket of trackers: key <project_id>.<tracker_name>,
// value the tracker's JSON.
const TrackersBucket = "auditbus-trackers"

// Trackers is the cts.TrackerStore every replica shares.
type Trackers struct{ kv jetstream.KeyValue }

var _ cts.TrackerStore = (*Trackers)(nil)

// OpenTrackers creates or opens the trackers bucket with replicas copies
// (0: 1).
func OpenTrackers(ctx context.Context, js jetstream.JetStream, replicas int) (*Trackers, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: TrackersBucket, Description: "auditbus: CTS trackers, key <project_id>.<tracker_name>",
		Storage: jetstream.FileStorage, Replicas: max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("trackers bucket %s: %w", TrackersBucket, err)
	}
	return &Trackers{kv: kv}, nil
}

func key(project, name string) string { return project + "." + name }

// List returns the project's trackers by name; "" lists every project's.
func (s *Trackers) List(ctx context.Context, project string) ([]cts.Tracker, error) {
	filter := ">"
	if project != "" {
		filter = project + ".>"
	}
	lister, err := s.kv.ListKeysFiltered(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("list trackers: %w", err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]cts.Tracker, 0, len(keys))
	for _, k := range keys {
		p, name, _ := strings.Cut(k, ".")
		t, _, err := s.Get(ctx, p, name)
		if errors.Is(err, cts.ErrTrackerNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// Get returns a tracker and its revision.
func (s *Trackers) Get(ctx context.Context, project, name string) (cts.Tracker, uint64, error) {
	e, err := s.kv.Get(ctx, key(project, name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return cts.Tracker{}, 0, fmt.Errorf("tracker %s of project %s: %w", name, project, cts.ErrTrackerNotFound)
	}
	if err != nil {
		return cts.Tracker{}, 0, fmt.Errorf("get tracker %s: %w", name, err)
	}
	var t cts.Tracker
	if err := json.Unmarshal(e.Value(), &t); err != nil {
		return cts.Tracker{}, 0, fmt.Errorf("tracker %s: stored value: %w", e.Key(), err)
	}
	return t, e.Revision(), nil
}

// Put creates (rev 0) or replaces revision rev of t.
func (s *Trackers) Put(ctx context.Context, t cts.Tracker, rev uint64) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode tracker: %w", err)
	}
	k := key(t.ProjectID, t.TrackerName)
	if rev == 0 {
		_, err = s.kv.Create(ctx, k, b)
		if errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("tracker %s: %w", k, cts.ErrTrackerExists)
		}
	} else {
		_, err = s.kv.Update(ctx, k, b, rev)
		if err != nil && isWrongSequence(err) {
			return fmt.Errorf("tracker %s: %w", k, cts.ErrTrackerChanged)
		}
	}
	if err != nil {
		return fmt.Errorf("store tracker %s: %w", k, err)
	}
	return nil
}

// Delete removes a tracker (its archive progress goes with it: see
// Writer).
func (s *Trackers) Delete(ctx context.Context, project, name string) error {
	if err := s.kv.Delete(ctx, key(project, name)); err != nil {
		return fmt.Errorf("delete tracker %s: %w", name, err)
	}
	return nil
}

// isWrongSequence tells a lost compare-and-set from other failures.
func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}
