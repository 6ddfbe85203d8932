package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/cts"
)

// TrackersBucket is the KV bucket of trackers: key <project_id>.<tracker_name>,
// value the tracker's JSON.
const TrackersBucket = "auditbus-trackers"

// Trackers is the cts.TrackerStore every replica shares.
type Trackers struct {
	kv jetstream.KeyValue
	js jetstream.JetStream
}

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
	return &Trackers{kv: kv, js: js}, nil
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

// subject is the stream subject of key k, or of a project's keys for
// k "<project>.>".
func subject(k string) string { return "$KV." + TrackersBucket + "." + k }

// Snapshot returns the project's trackers by name and the project's
// revision: the stream sequence of the last write (a put or a delete) to
// any of its keys, 0 if there never was one. It reads the project's keys
// through one watcher, so the trackers are the project as of that
// revision.
func (s *Trackers) Snapshot(ctx context.Context, project string) ([]cts.Tracker, uint64, error) {
	w, err := s.kv.Watch(ctx, project+".>")
	if err != nil {
		return nil, 0, fmt.Errorf("read trackers of project %s: %w", project, err)
	}
	defer func() { _ = w.Stop() }()
	var rev uint64
	byKey := map[string]cts.Tracker{}
	for {
		var e jetstream.KeyValueEntry
		select {
		case <-ctx.Done():
			return nil, 0, fmt.Errorf("read trackers of project %s: %w", project, ctx.Err())
		case e = <-w.Updates():
		}
		if e == nil { // the last of the keys' current values
			break
		}
		rev = max(rev, e.Revision())
		if e.Operation() != jetstream.KeyValuePut {
			delete(byKey, e.Key())
			continue
		}
		var t cts.Tracker
		if err := json.Unmarshal(e.Value(), &t); err != nil {
			return nil, 0, fmt.Errorf("tracker %s: stored value: %w", e.Key(), err)
		}
		byKey[e.Key()] = t
	}
	keys := slices.Sorted(maps.Keys(byKey))
	out := make([]cts.Tracker, 0, len(keys))
	for _, k := range keys {
		out = append(out, byKey[k])
	}
	return out, rev, nil
}

// Put stores t if no key of its project was written since revision rev
// (Snapshot's), ErrTrackerChanged otherwise. One message carries both
// the tracker and the condition (JetStream checks the last sequence of
// the subject <project>.> before storing it), so two replicas that both
// read revision rev cannot both store: whatever Snapshot showed (the
// names taken, the quota used, the buckets tracked) still holds when t
// is stored.
func (s *Trackers) Put(ctx context.Context, t cts.Tracker, rev uint64) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode tracker: %w", err)
	}
	k := key(t.ProjectID, t.TrackerName)
	m := nats.NewMsg(subject(k))
	m.Data = b
	m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(rev, 10))
	m.Header.Set(jetstream.ExpectedLastSubjSeqSubjHeader, subject(t.ProjectID+".>"))
	if _, err := s.js.PublishMsg(ctx, m); err != nil {
		if isWrongSequence(err) {
			return fmt.Errorf("tracker %s: project %s is past revision %d: %w", k, t.ProjectID, rev, cts.ErrTrackerChanged)
		}
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

// isWrongSequence tells a lost compare-and-set from other failures (a
// replicated stream answers the second code while another conditional
// write of the same subject is in flight).
func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}
