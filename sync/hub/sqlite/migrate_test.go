package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lango-pos/lango/internal/sqlitefile"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/terminal"
)

// TestMigrateEventsKey: a hub store written with schema 1 (events by
// arrival number, terminal ids in every row) opens under the current
// schema with every event where it was, the feed and uploads going on from
// the same place, and new terminals numbered after the old ones.
func TestMigrateEventsKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hub.db")
	v1, err := fs.ReadFile(migrations, "migrations/0001_hub.sql")
	if err != nil {
		t.Fatal(err)
	}
	w, err := sqlitefile.OpenWriter(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlitefile.Migrate(ctx, w, fstest.MapFS{"m/0001_hub.sql": {Data: v1}}, "m/*.sql", time.Now); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ExecContext(ctx, `UPDATE schema_migrations SET name = 'migrations/0001_hub.sql'`); err != nil {
		t.Fatal(err)
	}
	// Two terminals of one site, their events interleaved on arrival.
	ids := []string{"01900000-0000-7000-8000-00000000000b", "01900000-0000-7000-8000-00000000000a"}
	chains := map[string][]terminal.Event{}
	for i, id := range ids {
		if _, err := w.ExecContext(ctx, `INSERT INTO terminals (id, site, name, public_key, certificate, enrolled_at) VALUES (?, 'NNP', ?, x'00', 'c', '2024-01-01T00:00:00Z')`,
			id, []string{"gate-b", "gate-a"}[i]); err != nil {
			t.Fatal(err)
		}
		prev := ""
		for seq := int64(1); seq <= 4; seq++ {
			typ := terminal.EventSaleCreated
			if seq == 3 {
				typ = terminal.EventPassSettled
			}
			e := terminal.Event{Seq: seq, ID: fmt.Sprintf("01900000-0000-7000-8000-%012d", 10*i+int(seq)), Terminal: id, Type: typ, At: time.Date(2024, 1, 3, 6, 0, int(seq), 0, time.UTC),
				Actor: "admin", Payload: []byte(fmt.Sprintf(`{"id":"01900000-0000-7000-8000-%012d","n":%d}`, 100+10*i+int(seq), seq)), PrevHash: prev}
			e.Hash = e.ComputeHash()
			prev = e.Hash
			chains[id] = append(chains[id], e)
		}
	}
	for seq := range 4 {
		for _, id := range ids {
			e := chains[id][seq]
			if _, err := w.ExecContext(ctx, `INSERT INTO events (terminal, seq, id, type, at, actor, payload, prev_hash, hash, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '2024-01-03T07:00:00Z')`,
				id, e.Seq, e.ID, e.Type, e.At.Format(time.RFC3339Nano), e.Actor, []byte(e.Payload), e.PrevHash, e.Hash); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, id := range ids {
		last := chains[id][3]
		if _, err := w.ExecContext(ctx, `UPDATE terminals SET last_seq = 4, last_hash = ?, events = 4 WHERE id = ?`, last.Hash, id); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("open a schema-1 store: %v", err)
	}
	defer s.Close()
	for _, id := range ids {
		got, err := s.TerminalEvents(ctx, id, 1, 10)
		if err != nil {
			t.Fatal(err)
		}
		want := chains[id][1:]
		if len(got) != len(want) {
			t.Fatalf("%s: %d events after seq 1; want %d", id, len(got), len(want))
		}
		for i := range got {
			if got[i].Seq != want[i].Seq || got[i].ID != want[i].ID || got[i].Terminal != id || got[i].Hash != want[i].Hash || got[i].ComputeHash() != want[i].Hash {
				t.Errorf("%s: event %d after migration %+v; want %+v", id, i, got[i], want[i])
			}
		}
	}
	page, err := s.Feed(ctx, "NNP", ids[0], map[string]int64{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 || page.Events[0].Terminal != ids[1] || page.Events[0].Seq != 3 || page.Events[0].Type != terminal.EventPassSettled {
		t.Errorf("feed for gate-b after migration: %+v; want gate-a's settlement at seq 3", page.Events)
	}
	// Uploads go on from seq 5, and a repeat of seq 4 is a duplicate.
	prev := chains[ids[1]][3]
	next := terminal.Event{Seq: 5, ID: "01900000-0000-7000-8000-0000000000f5", Terminal: ids[1], Type: terminal.EventSaleCreated, At: prev.At.Add(time.Second), Payload: []byte(`{"id":"01900000-0000-7000-8000-0000000000a5"}`), PrevHash: prev.Hash}
	next.Hash = next.ComputeHash()
	res, err := s.Apply(ctx, ids[1], []terminal.Event{prev, next}, time.Now())
	if err != nil || res.Applied != 1 || res.Duplicates != 1 || res.LastSeq != 5 || len(res.Conflicts) != 0 {
		t.Errorf("apply after migration: %+v, %v; want 1 applied, 1 duplicate, last seq 5", res, err)
	}
	// The sales held before the upgrade are in the records (migration
	// 0006): the terminal may void its own, not another's.
	if n, _ := s.Counts(ctx); n["records"] != 7 {
		t.Errorf("records after migration: %d; want the 6 old sales and the new one", n["records"])
	}
	for _, c := range []struct {
		sale string
		ok   bool
	}{{"01900000-0000-7000-8000-000000000101", false}, {"01900000-0000-7000-8000-000000000111", true}} {
		last, _ := s.Terminal(ctx, ids[1])
		void := terminal.Event{Seq: last.LastSeq + 1, ID: fmt.Sprintf("01900000-0000-7000-8000-0000000000%s", map[bool]string{true: "f6", false: "f7"}[c.ok]), Terminal: ids[1], Type: terminal.EventSaleVoided,
			At: next.At.Add(time.Second), Payload: []byte(`{"sale_id":"` + c.sale + `"}`), PrevHash: last.LastHash}
		void.Hash = void.ComputeHash()
		_, err := s.Apply(ctx, ids[1], []terminal.Event{void}, time.Now())
		var fe *hub.ForbiddenError
		if c.ok != (err == nil) || !c.ok && !errors.As(err, &fe) {
			t.Errorf("void of an old sale %s by gate-a: %v; want allowed %v", c.sale, err, c.ok)
		}
	}
	// A terminal enrolled now is numbered after the migrated ones.
	if err := s.AddEnrollment(ctx, hub.Enrollment{TokenHash: "h", Site: "NNP", Name: "exit-1", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RedeemEnrollment(ctx, "h", hub.Terminal{ID: "01900000-0000-7000-8000-00000000000c", Site: "NNP", Name: "exit-1", PublicKey: make([]byte, 32), Certificate: "c"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	var nos []int64
	rows, err := s.r.QueryContext(ctx, `SELECT no FROM terminals ORDER BY enrolled_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n int64
		rows.Scan(&n)
		nos = append(nos, n)
	}
	rows.Close()
	if len(nos) != 3 || nos[2] != 3 || nos[0] == nos[1] || nos[0] < 1 || nos[1] < 1 || nos[0] > 2 || nos[1] > 2 {
		t.Errorf("terminal numbers %v; want the two migrated ones 1 and 2, the new one 3", nos)
	}
}

// TestFeedUsesItsIndex: the feed query names the feed types exactly as the
// partial index does, so SQLite reads the index, not every event of a peer.
func TestFeedUsesItsIndex(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.r.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT `+eventCols+` FROM events e WHERE e.k > ? AND e.k <= ? AND e.type IN `+s.feedTypes+`
		ORDER BY e.k LIMIT ?`, 1, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if p := strings.Join(plan, "; "); !strings.Contains(p, "USING INDEX events_feed") {
		t.Errorf("the feed query's plan is %q; want it to use events_feed (do wire.FeedTypes and the index's list agree?)", p)
	}
}
