package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/bus/bustest"
)

func auditEvent(t testing.TB, id string) event.Event {
	t.Helper()
	e := event.New()
	e.SetID(id)
	e.SetSource("tke.cloud.tencent")
	e.SetType("tke:CloudEvent:ApiCall")
	e.SetTime(time.Date(2021, 3, 11, 2, 42, 39, 146e6, time.UTC))
	if err := e.SetData(event.ApplicationJSON, map[string]any{"eventName": "DeleteCluster"}); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestPublishStoresEachEventOnceAndInOrder(t *testing.T) {
	s := bustest.Start(t, "")
	ctx := context.Background()
	stream, err := bus.EnsureStream(ctx, s.JS, bus.StreamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	p := bus.NewPublisher(s.JS)
	var events []event.Event
	for i := range 50 {
		events = append(events, auditEvent(t, fmt.Sprint("id-", i)))
	}
	res, err := p.Publish(ctx, "default", events)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.ID != events[i].ID() || r.Duplicate || r.Subject != "auditbus.events.default.tke.ApiCall.DeleteCluster" {
			t.Fatalf("result %d = %+v", i, r)
		}
	}
	// The same events again, plus one new: only the new one is stored.
	res, err = p.Publish(ctx, "default", append(events[:3:3], auditEvent(t, "new")))
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Duplicate || !res[2].Duplicate || res[3].Duplicate {
		t.Errorf("duplicate flags = %v %v %v, want true true false", res[0].Duplicate, res[2].Duplicate, res[3].Duplicate)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 51 {
		t.Errorf("stream holds %d messages, want 51", info.State.Msgs)
	}
	raw, err := stream.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var stored event.Event
	if err := json.Unmarshal(raw.Data, &stored); err != nil {
		t.Fatalf("stored message is not a structured CloudEvent: %v", err)
	}
	if stored.ID() != "id-0" || stored.Time().Format(time.RFC3339Nano) != "2021-03-11T02:42:39.146Z" || raw.Header.Get("Content-Type") != bus.ContentType {
		t.Errorf("stored %s id=%s time=%s", raw.Header, stored.ID(), stored.Time())
	}
}

func TestPublishWithoutStreamIsUnavailable(t *testing.T) {
	s := bustest.Start(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := bus.NewPublisher(s.JS).Publish(ctx, "default", []event.Event{auditEvent(t, "1")})
	if !errors.Is(err, bus.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestEnsureStreamAppliesMaxAge(t *testing.T) {
	s := bustest.Start(t, "")
	ctx := context.Background()
	if _, err := bus.EnsureStream(ctx, s.JS, bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	st, err := bus.EnsureStream(ctx, s.JS, bus.StreamConfig{MaxAge: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	if cfg.MaxAge != 48*time.Hour || cfg.Duplicates != time.Hour || cfg.Storage.String() != "File" {
		t.Errorf("stream config max_age=%s duplicates=%s storage=%s", cfg.MaxAge, cfg.Duplicates, cfg.Storage)
	}
}

func TestSameEventOnTwoBusesIsStoredOnBoth(t *testing.T) {
	s := bustest.Start(t, "")
	ctx := context.Background()
	if _, err := bus.EnsureStream(ctx, s.JS, bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	p := bus.NewPublisher(s.JS)
	for _, b := range []string{"alpha", "beta"} {
		res, err := p.Publish(ctx, b, []event.Event{auditEvent(t, "same")})
		if err != nil || res[0].Duplicate {
			t.Fatalf("bus %s: %+v %v; want stored, not a duplicate", b, res, err)
		}
	}
}
