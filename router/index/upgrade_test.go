package index_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/router/index"
	"github.com/auditbus/auditbus/router/index/indextest"
	"github.com/auditbus/auditbus/router/index/pgtest"
)

// oldSchema is the table auditbus made before the Kubernetes columns
// (clusterid, hostid, hostname, hostip, scope) and k8sFields existed.
const oldSchema = `CREATE TABLE audit_events (seq BIGINT PRIMARY KEY, time_ns BIGINT NOT NULL,
	bus TEXT NOT NULL DEFAULT '', id TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '',
	type TEXT NOT NULL DEFAULT '', subject TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL DEFAULT '',
	product TEXT NOT NULL DEFAULT '', action TEXT NOT NULL DEFAULT '', principal TEXT NOT NULL DEFAULT '',
	resourcetype TEXT NOT NULL DEFAULT '', resourcename TEXT NOT NULL DEFAULT '', resourceid TEXT NOT NULL DEFAULT '',
	outcome TEXT NOT NULL DEFAULT '', code TEXT NOT NULL DEFAULT '', sourceip TEXT NOT NULL DEFAULT '',
	region TEXT NOT NULL DEFAULT '', cluster TEXT NOT NULL DEFAULT '', tracerating TEXT NOT NULL DEFAULT '',
	requestid TEXT NOT NULL DEFAULT '', event %s NOT NULL)`

// upgradeEvents are Kubernetes audit events in every form auditbus
// stores, among CTS and CloudAudit ones, and what the current indexer
// makes of each.
func upgradeEvents(t *testing.T) []index.Record {
	t.Helper()
	var evs []event.Event
	for _, k := range indextest.K8sEvents(t, 30, t0) {
		evs = append(evs, k.Event)
	}
	evs = append(evs, indextest.Events(t, 12, t0)...)
	recs := make([]index.Record, len(evs))
	for i := range evs {
		raw, err := cejson.Marshal(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		if recs[i], err = index.FromMessage(uint64(i+1), bus.Subject("default", &evs[i]), raw, t0); err != nil {
			t.Fatal(err)
		}
	}
	return recs
}

// writeOld creates the old table in db and writes recs as the old indexer
// did: no Kubernetes column, and for a Kubernetes event only the
// attributes (its data unread).
func writeOld(t *testing.T, db *sql.DB, blob string, ph func(int) string, recs []index.Record) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{strings.Replace(oldSchema, "%s", blob, 1),
		"CREATE TABLE audit_index_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	marks := make([]string, 9)
	for i := range marks {
		marks[i] = ph(i + 1)
	}
	ins := "INSERT INTO audit_events (seq, time_ns, bus, id, source, type, subject, kind, event) VALUES (" + strings.Join(marks, ", ") + ")"
	full := "INSERT INTO audit_events (seq, time_ns, bus, id, source, type, subject, kind, product, action, principal, " +
		"resourcetype, resourcename, resourceid, outcome, code, sourceip, region, cluster, tracerating, requestid, event) VALUES ("
	for i := range 22 {
		if i > 0 {
			full += ", "
		}
		full += ph(i + 1)
	}
	full += ")"
	for _, r := range recs {
		var err error
		if r.Kind == "K8sAudit" {
			var e event.Event
			if err := cejson.Unmarshal(r.Event, &e); err != nil {
				t.Fatal(err)
			}
			kind, _ := e.Extensions()["kind"].(string)
			_, err = db.ExecContext(ctx, ins, int64(r.Seq), r.Time.UnixNano(), r.Bus, r.ID, r.Source, r.Type, r.Subject, kind, r.Event)
		} else {
			_, err = db.ExecContext(ctx, full, int64(r.Seq), r.Time.UnixNano(), r.Bus, r.ID, r.Source, r.Type, r.Subject, r.Kind,
				r.Product, r.Action, r.Principal, r.ResourceType, r.ResourceName, r.ResourceID, r.Outcome, r.Code,
				r.SourceIP, r.Region, r.Cluster, r.TraceRating, r.RequestID, r.Event)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// checkUpgraded: every row is kept, and reads as the current indexer
// would have written it.
func checkUpgraded(t *testing.T, s index.Store, recs []index.Record) {
	t.Helper()
	got, err := s.Search(context.Background(), index.Query{Limit: len(recs) + 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("%d rows after the upgrade, want %d", len(got), len(recs))
	}
	bySeq := map[uint64]index.Record{}
	for _, r := range got {
		bySeq[r.Seq] = r
	}
	k8s := 0
	for _, w := range recs {
		if w.Kind == "K8sAudit" {
			k8s++
		}
		if g := bySeq[w.Seq]; !reflect.DeepEqual(g, w) {
			t.Errorf("seq %d after the upgrade:\n got %+v\nwant %+v", w.Seq, g, w)
		}
	}
	if k8s < 30 || k8s == len(recs) {
		t.Fatalf("%d of %d events are Kubernetes audit events: the corpus must mix them", k8s, len(recs))
	}
}

type upgradeCase struct {
	name  string
	blob  string
	ph    func(int) string
	setup func(t *testing.T) (raw *sql.DB, open func(ctx context.Context) (index.Store, error))
}

var upgradeCases = []upgradeCase{
	{"sqlite", "BLOB", func(int) string { return "?" }, func(t *testing.T) (*sql.DB, func(context.Context) (index.Store, error)) {
		dir := t.TempDir()
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, index.SQLiteFile))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db, func(ctx context.Context) (index.Store, error) { return index.OpenSQLite(ctx, dir) }
	}},
	{"postgres", "BYTEA", func(n int) string { return fmt.Sprintf("$%d", n) },
		func(t *testing.T) (*sql.DB, func(context.Context) (index.Store, error)) {
			url := pgtest.Shared(t).NewDatabase(t)
			db, err := sql.Open("pgx", url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db, func(ctx context.Context) (index.Store, error) { return index.OpenPostgres(ctx, url) }
		}},
}

// TestUpgradeKeepsAndFillsRows: opening an index an earlier auditbus made
// keeps every row and fills the new columns from the stored events (the
// index may hold events the stream no longer has), logging what it did.
func TestUpgradeKeepsAndFillsRows(t *testing.T) {
	recs := upgradeEvents(t)
	for _, c := range upgradeCases {
		t.Run(c.name, func(t *testing.T) {
			raw, open := c.setup(t)
			writeOld(t, raw, c.blob, c.ph, recs)
			var logs bytes.Buffer
			s, err := open(zerolog.New(&logs).WithContext(context.Background()))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			checkUpgraded(t, s, recs)
			if rebuild, err := s.TakeRebuild(context.Background()); err != nil || rebuild {
				t.Errorf("the upgrade asked for a rebuild (%v, %v): it would delete what the stream no longer has", rebuild, err)
			}
			var filled struct {
				Rows    int      `json:"rows"`
				Columns []string `json:"columns"`
			}
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				_ = json.Unmarshal([]byte(line), &filled)
			}
			if filled.Rows != 30+4 || len(filled.Columns) != 5 {
				t.Errorf("logs %s: want the 5 added columns and the 34 Kubernetes rows filled", logs.String())
			}
			s.Close()
			// Opened again, it has nothing left to do.
			logs.Reset()
			s2, err := open(zerolog.New(&logs).WithContext(context.Background()))
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			checkUpgraded(t, s2, recs)
			if logs.Len() != 0 {
				t.Errorf("a second open logged %s", logs.String())
			}
		})
	}
}

// TestUpgradeTwoReplicasAtOnce: two replicas opening the same old
// PostgreSQL index together both succeed, and two backfills running at
// once leave every row as one would.
func TestUpgradeTwoReplicasAtOnce(t *testing.T) {
	recs := upgradeEvents(t)
	raw, open := upgradeCases[1].setup(t)
	writeOld(t, raw, "BYTEA", upgradeCases[1].ph, recs)
	ctx := context.Background()
	stores := make([]index.Store, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range indextest.Stores {
		wg.Go(func() { stores[i], errs[i] = open(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	checkUpgraded(t, stores[0], recs)
	// Undo the fill and ask for it again, then run both at once.
	for _, q := range []string{"UPDATE audit_events SET clusterid = '', scope = '', principal = '' WHERE kind = 'K8sAudit'",
		"INSERT INTO audit_index_meta (name, value) VALUES ('backfill', 'k8s:0')"} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for i := range indextest.Stores {
		wg.Go(func() { errs[i] = index.FillColumns(ctx, stores[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("backfill %d: %v", i, err)
		}
	}
	checkUpgraded(t, stores[1], recs)
	var left int
	if err := raw.QueryRowContext(ctx, "SELECT count(*) FROM audit_index_meta WHERE name = 'backfill'").Scan(&left); err != nil || left != 0 {
		t.Errorf("backfill mark left: %d (%v)", left, err)
	}
}

// TestUpgradeFromBareTable: a table with only the key, time, bus and event
// gains every column, each row filled from its event.
func TestUpgradeFromBareTable(t *testing.T) {
	recs := upgradeEvents(t)
	raw, open := upgradeCases[0].setup(t)
	ctx := context.Background()
	if _, err := raw.ExecContext(ctx, "CREATE TABLE audit_events (seq BIGINT PRIMARY KEY, time_ns BIGINT NOT NULL, bus TEXT NOT NULL DEFAULT '', event BLOB NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if _, err := raw.ExecContext(ctx, "INSERT INTO audit_events VALUES (?, ?, ?, ?)", int64(r.Seq), r.Time.UnixNano(), r.Bus, r.Event); err != nil {
			t.Fatal(err)
		}
	}
	s, err := open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkUpgraded(t, s, recs)
}

// TestUpgradeResumes: a backfill cut short carries on after the last
// sequence it recorded, and clears its mark when done.
func TestUpgradeResumes(t *testing.T) {
	recs := upgradeEvents(t)
	raw, open := upgradeCases[0].setup(t)
	writeOld(t, raw, "BLOB", upgradeCases[0].ph, recs)
	ctx := context.Background()
	s, err := open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const mid = 20
	for _, q := range []string{"UPDATE audit_events SET scope = '' WHERE kind = 'K8sAudit'",
		"INSERT INTO audit_index_meta (name, value) VALUES ('backfill', 'k8s:" + fmt.Sprint(mid) + "')"} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := index.FillColumns(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := s.Search(ctx, index.Query{Limit: len(recs)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		want := recs[r.Seq-1].Scope // "" but for Kubernetes events
		if r.Seq <= mid {
			want = ""
		}
		if r.Scope != want {
			t.Errorf("seq %d: scope %q after resuming after seq %d, want %q", r.Seq, r.Scope, mid, want)
		}
	}
	var left int
	if err := raw.QueryRowContext(ctx, "SELECT count(*) FROM audit_index_meta WHERE name = 'backfill'").Scan(&left); err != nil || left != 0 {
		t.Errorf("backfill mark left: %d (%v)", left, err)
	}
}

// BenchmarkUpgradeBackfill is the backfill of Kubernetes rows against
// writing the same records afresh (SQLite): the cost of an upgrade per
// row, as a ratio to indexing.
func BenchmarkUpgradeBackfill(b *testing.B) {
	var evs []event.Event
	for _, k := range indextest.K8sEvents(b, 3000, t0) {
		evs = append(evs, k.Event)
	}
	recs := make([]index.Record, len(evs))
	for i := range evs {
		raw, err := cejson.Marshal(&evs[i])
		if err != nil {
			b.Fatal(err)
		}
		if recs[i], err = index.FromMessage(uint64(i+1), bus.Subject("default", &evs[i]), raw, t0); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	for _, mode := range []string{"put", "backfill"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				s, err := index.OpenSQLite(ctx, dir)
				if err != nil {
					b.Fatal(err)
				}
				if mode == "backfill" {
					if err := s.Put(ctx, recs); err != nil {
						b.Fatal(err)
					}
					db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, index.SQLiteFile))
					if err != nil {
						b.Fatal(err)
					}
					if _, err := db.ExecContext(ctx, "INSERT INTO audit_index_meta (name, value) VALUES ('backfill', 'k8s:0')"); err != nil {
						b.Fatal(err)
					}
					db.Close()
				}
				b.StartTimer()
				if mode == "put" {
					err = s.Put(ctx, recs)
				} else {
					err = index.FillColumns(ctx, s)
				}
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/row")
		})
	}
}
