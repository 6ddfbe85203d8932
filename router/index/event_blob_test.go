package index_test

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/index"
)

// TestStoredEventCompressed: the SQLite index keeps each event
// compressed (smaller than the event, behind the marker byte), and a
// search gives the event back byte for byte.
func TestStoredEventCompressed(t *testing.T) {
	_, stored := exampleEvents(t)
	dir := t.TempDir()
	s, err := index.OpenSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var recs []index.Record
	for i, ev := range stored {
		r, err := index.FromMessage(uint64(i+1), bus.SubjectPrefix+".default.x", ev, time.Unix(1, 0))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if err := s.Put(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	got, err := s.Search(context.Background(), index.Query{Limit: len(recs)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if !bytes.Equal(r.Event, stored[r.Seq-1]) {
			t.Fatalf("seq %d: search gave %s, want %s", r.Seq, r.Event, stored[r.Seq-1])
		}
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, index.SQLiteFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var col, ev int64
	if err := db.QueryRow("SELECT sum(length(event)) FROM audit_events WHERE substr(event, 1, 1) = x'00'").Scan(&col); err != nil {
		t.Fatal(err)
	}
	for _, e := range stored {
		ev += int64(len(e))
	}
	if col == 0 || col > ev*3/4 {
		t.Fatalf("stored events take %d bytes compressed, %d as they are: want every one compressed, by a quarter at least", col, ev)
	}
}

// FuzzPackEvent: whatever an event holds, it reads back as it was.
func FuzzPackEvent(f *testing.F) {
	f.Add([]byte(`{"specversion":"1.0"}`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, ev []byte) {
		if ev = bytes.TrimLeft(ev, "\x00"); len(ev) == 0 {
			return // not an event: a stored event starts with '{' or white space
		}
		got, err := index.UnpackEvent(index.PackEvent(ev))
		if err != nil || !bytes.Equal(got, ev) {
			t.Fatalf("%q read back as %q, %v", ev, got, err)
		}
		if got, err := index.UnpackEvent(ev); err != nil || !bytes.Equal(got, ev) {
			t.Fatalf("%q as an earlier index stored it read back as %q, %v", ev, got, err)
		}
	})
}
