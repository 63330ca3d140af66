package sqlite_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

func TestSyncState(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	st, err := f.db.SyncState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := f.db.Events(ctx, 0, 100)
	if st.AckedSeq != 0 || st.LastSeq != int64(len(evs)) || st.Queued() != int64(len(evs)) || !st.OldestUnsynced.Equal(evs[0].At) || st.Online {
		t.Fatalf("fresh state = %+v; want everything queued since %v", st, evs[0].At)
	}
	if err := f.db.SyncAcked(ctx, "hub-a", 3); err != nil {
		t.Fatal(err)
	}
	st, _ = f.db.SyncState(ctx)
	if st.AckedSeq != 3 || st.HubID != "hub-a" || !st.OldestUnsynced.Equal(evs[3].At) || st.Rewinds != 0 {
		t.Errorf("after ack 3: %+v", st)
	}
	// The hub went back (restored): acked goes back too, and it is counted.
	if err := f.db.SyncAcked(ctx, "hub-a", 1); err != nil {
		t.Fatal(err)
	}
	if st, _ = f.db.SyncState(ctx); st.AckedSeq != 1 || st.Rewinds != 1 {
		t.Errorf("after rewind: %+v", st)
	}
	if err := f.db.SyncAcked(ctx, "hub-a", -1); terminal.ErrorKind(err) != terminal.EINVALID {
		t.Errorf("negative ack: %v", err)
	}
	at := outageDay.Add(time.Hour)
	if err := f.db.RecordSyncAttempt(ctx, sqlite.SyncAttempt{At: at, Reached: true}); err != nil {
		t.Fatal(err)
	}
	if st, _ = f.db.SyncState(ctx); !st.Online || !st.LastSuccess.Equal(at) || !st.LastContact.Equal(at) || st.LastError != "" {
		t.Errorf("after success: %+v", st)
	}
	if err := f.db.RecordSyncAttempt(ctx, sqlite.SyncAttempt{At: at.Add(time.Minute), Err: "hub down"}); err != nil {
		t.Fatal(err)
	}
	if st, _ = f.db.SyncState(ctx); st.Online || !st.LastSuccess.Equal(at) || st.LastError != "hub down" {
		t.Errorf("after failure: %+v", st)
	}
	if err := f.db.SetClockOffset(ctx, -24*time.Hour); err != nil {
		t.Fatal(err)
	}
	// All of it is on disk: a new process sees it.
	db2, err := sqlite.Open(ctx, f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	st2, _ := db2.SyncState(ctx)
	if st2.ClockOffset != -24*time.Hour || st2.AckedSeq != 1 || st2.LastError != "hub down" {
		t.Errorf("reopened state = %+v", st2)
	}
	if h, err := f.db.EventHash(ctx, 2); err != nil || h != evs[1].Hash {
		t.Errorf("EventHash(2) = %q, %v; want %q", h, err, evs[1].Hash)
	}
	if h, err := f.db.EventHash(ctx, 999); err != nil || h != "" {
		t.Errorf("EventHash(999) = %q, %v; want none", h, err)
	}
}

func feedEvent(t *testing.T, terminalID, name string, seq int64, typ string, payload any) sqlite.FeedEvent {
	t.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	e := terminal.Event{Seq: seq, ID: "0190a000-0000-7000-8000-00000000000" + string(rune('0'+seq%10)), Terminal: terminalID, Type: typ,
		At: outageDay.Add(time.Duration(seq) * time.Minute), Payload: b}
	e.Hash = e.ComputeHash()
	return sqlite.FeedEvent{Event: e, Name: name}
}

func TestApplyFeed(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	id, _ := f.db.Identity(ctx)
	const peer = "0190a000-0000-7000-8000-0000000000aa"
	const passA, passB, passC = "0190b000-0000-7000-8000-00000000000a", "0190b000-0000-7000-8000-00000000000b", "0190b000-0000-7000-8000-00000000000c"
	page := []sqlite.FeedEvent{
		feedEvent(t, peer, "exit-1", 3, terminal.EventPassSettled, map[string]any{"settlement_id": "s1", "pass_id": passA, "issuer_terminal": "gate-1"}),
		feedEvent(t, peer, "exit-1", 5, terminal.EventPassUsed, map[string]any{"pass_id": passB}),
		feedEvent(t, peer, "exit-1", 9, terminal.EventSaleVoided, map[string]any{"sale_id": passC, "pass_id": passC, "reason": "wrong plate"}),
		feedEvent(t, peer, "exit-1", 10, terminal.EventSaleVoided, map[string]any{"sale_id": "x", "reason": "no pass"}),
		feedEvent(t, id.TerminalID, "gate-1", 99, terminal.EventPassUsed, map[string]any{"pass_id": passB}), // our own: skipped
	}
	peers := []sqlite.FeedPeer{{TerminalID: peer, Name: "exit-1", Seq: 12}, {TerminalID: id.TerminalID, Name: "gate-1", Seq: 99}}
	before, _ := f.db.Counts(ctx)
	n, err := f.db.ApplyFeed(ctx, page, peers)
	if err != nil || n != 4 {
		t.Fatalf("ApplyFeed = %d, %v; want 4", n, err)
	}
	marks := map[string]string{}
	rows, err := f.db.SQL().QueryContext(ctx, `SELECT pass_id, group_concat(mark || '@' || terminal || ':' || ref, ' ') FROM (SELECT * FROM pass_marks ORDER BY mark) GROUP BY pass_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p, m string
		rows.Scan(&p, &m)
		marks[p] = m
	}
	rows.Close()
	want := map[string]string{
		passA: "settled@exit-1:s1 used@exit-1:s1",
		passB: "used@exit-1:",
		passC: "revoked@exit-1:wrong plate",
	}
	for p, m := range want {
		if marks[p] != m {
			t.Errorf("marks of %s = %q; want %q", p, marks[p], m)
		}
	}
	if len(marks) != len(want) {
		t.Errorf("marks = %v", marks)
	}
	cur, _ := f.db.FeedCursors(ctx)
	if len(cur) != 1 || cur[peer] != 12 {
		t.Errorf("cursors = %v; want exit-1 at 12 only", cur)
	}
	// The same page again changes nothing; a stale cursor does not move
	// it back.
	n, err = f.db.ApplyFeed(ctx, page, []sqlite.FeedPeer{{TerminalID: peer, Name: "exit-1", Seq: 4}})
	if err != nil || n != 0 {
		t.Errorf("page again = %d, %v; want 0", n, err)
	}
	if cur, _ = f.db.FeedCursors(ctx); cur[peer] != 12 {
		t.Errorf("cursor moved back to %d", cur[peer])
	}
	stored, err := f.db.FeedEvents(ctx, peer, 0, 100)
	if err != nil || len(stored) != 4 || stored[0].Name != "exit-1" || !bytes.Equal(stored[2].Payload, page[2].Payload) || stored[3].Seq != 10 {
		t.Errorf("stored feed = %+v, %v", stored, err)
	}
	// Feed bookkeeping writes no events: the outbox is the terminal's own.
	after, _ := f.db.Counts(ctx)
	if after["events"] != before["events"] {
		t.Errorf("events %d → %d", before["events"], after["events"])
	}
	if err := f.db.VerifyAudit(ctx); err != nil {
		t.Error(err)
	}
}

func TestApplyHubCatalogue(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	body := bytes.Replace(readCatalogue(t, "kws.json"), []byte(`"version": "KWS-2024.1"`), []byte(`"version": "KWS-2024.9"`), 1)
	cat, err := terminal.ParseCatalogue(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.ApplyHubCatalogue(ctx, cat, 1700000000000); err != nil {
		t.Fatal(err)
	}
	got, _ := f.db.Catalogue(ctx)
	st, _ := f.db.SyncState(ctx)
	if got.Version != "KWS-2024.9" || st.CatalogueSeq != 1700000000000 {
		t.Errorf("catalogue %s seq %d", got.Version, st.CatalogueSeq)
	}
	// An older publication is refused: a signed old catalogue cannot be
	// replayed.
	old, _ := terminal.ParseCatalogue(readCatalogue(t, "kws.json"))
	if err := f.db.ApplyHubCatalogue(ctx, old, 1600000000000); terminal.ErrorKind(err) != terminal.ECONFLICT {
		t.Errorf("older publication: %v; want conflict", err)
	}
	if got, _ := f.db.Catalogue(ctx); got.Version != "KWS-2024.9" {
		t.Errorf("catalogue went back to %s", got.Version)
	}
	if err := f.db.VerifyAudit(ctx); err != nil {
		t.Error(err)
	}
}

func TestAppendEventsForBenchmark(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	if err := f.db.AppendEventsForBenchmark(ctx, 12345, "bench.event", func(i int) json.RawMessage {
		return json.RawMessage(`{"i":` + string(rune('0'+i%10)) + `}`)
	}); err != nil {
		t.Fatal(err)
	}
	st, _ := f.db.SyncState(ctx)
	if st.Queued() < 12345 {
		t.Errorf("queued %d", st.Queued())
	}
	if err := f.db.VerifyAudit(ctx); err != nil {
		t.Errorf("the appended chain does not verify: %v", err)
	}
}
