package sqlite_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
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
	if err := f.db.RecordSyncAttempt(ctx, terminal.SyncAttempt{At: at, Reached: true}); err != nil {
		t.Fatal(err)
	}
	if st, _ = f.db.SyncState(ctx); !st.Online || !st.LastSuccess.Equal(at) || !st.LastContact.Equal(at) || st.LastError != "" {
		t.Errorf("after success: %+v", st)
	}
	if err := f.db.RecordSyncAttempt(ctx, terminal.SyncAttempt{At: at.Add(time.Minute), Err: "hub down"}); err != nil {
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

func feedEvent(t *testing.T, terminalID, name string, seq int64, typ string, payload any) terminal.FeedEvent {
	t.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	e := terminal.Event{Seq: seq, ID: "0190a000-0000-7000-8000-00000000000" + string(rune('0'+seq%10)), Terminal: terminalID, Type: typ,
		At: outageDay.Add(time.Duration(seq) * time.Minute), Payload: b}
	e.Hash = e.ComputeHash()
	return terminal.FeedEvent{Event: e, Name: name}
}

func TestApplyFeed(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	id, _ := f.db.Identity(ctx)
	const peer = "0190a000-0000-7000-8000-0000000000aa"
	const passA, passB, passC = "0190b000-0000-7000-8000-00000000000a", "0190b000-0000-7000-8000-00000000000b", "0190b000-0000-7000-8000-00000000000c"
	page := []terminal.FeedEvent{
		feedEvent(t, peer, "exit-1", 3, terminal.EventPassSettled, map[string]any{"settlement_id": "s1", "pass_id": passA, "issuer_terminal": "gate-1"}),
		feedEvent(t, peer, "exit-1", 5, terminal.EventPassUsed, map[string]any{"pass_id": passB}),
		feedEvent(t, peer, "exit-1", 9, terminal.EventSaleVoided, map[string]any{"sale_id": passC, "pass_id": passC, "reason": "wrong plate"}),
		feedEvent(t, peer, "exit-1", 10, terminal.EventSaleVoided, map[string]any{"sale_id": "x", "reason": "no pass"}),
		feedEvent(t, id.TerminalID, "gate-1", 99, terminal.EventPassUsed, map[string]any{"pass_id": passB}), // our own: skipped
	}
	peers := []terminal.FeedPeer{{TerminalID: peer, Name: "exit-1", Seq: 12}, {TerminalID: id.TerminalID, Name: "gate-1", Seq: 99}}
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
	n, err = f.db.ApplyFeed(ctx, page, []terminal.FeedPeer{{TerminalID: peer, Name: "exit-1", Seq: 4}})
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

// TestApplyFeedOperators: an operator a supervisor added at another
// terminal of the site arrives by the feed and can log in here with the
// same PIN; a terminal's own admin, a forged or costly PIN hash, a bad
// name and a name this terminal knows already are not taken.
func TestApplyFeedOperators(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	const peer = "0190a000-0000-7000-8000-0000000000aa"
	hash, err := terminal.HashPIN("4321")
	if err != nil {
		t.Fatal(err)
	}
	costly := strings.Replace(hash, "m=19456,", "m=1048576,", 1)
	if costly == hash {
		t.Fatalf("the PIN hash has other parameters than the test expects: %s", hash)
	}
	op := func(seq int64, id, name, role, scope, pinHash string) terminal.FeedEvent {
		return feedEvent(t, peer, "exit-1", seq, terminal.EventOperatorAdded, map[string]any{"id": id, "name": name, "role": role, "scope": scope, "pin_hash": pinHash})
	}
	page := []terminal.FeedEvent{
		op(2, "0190c000-0000-7000-8000-000000000001", "achieng", "attendant", "site", hash),
		op(3, "0190c000-0000-7000-8000-000000000002", "admin", "supervisor", "terminal", hash),     // the peer's own admin
		op(4, "0190c000-0000-7000-8000-000000000003", "otieno", "supervisor", "site", costly),      // a gigabyte a login
		op(5, "0190c000-0000-7000-8000-000000000004", "kamau", "supervisor", "site", "$argon2id$"), // not a hash
		op(6, "0190c000-0000-7000-8000-000000000005", "  ", "attendant", "site", hash),
		op(7, "0190c000-0000-7000-8000-000000000006", "njeri", "cashier", "site", hash),
		op(8, "not-a-uuid", "wafula", "attendant", "site", hash),
		op(10, "0190c000-0000-7000-8000-000000000008", "Mwangi", "attendant", "site", hash),      // not as a terminal writes names
		op(11, "0190c000-0000-7000-8000-000000000009", "baraka", "supervisor", "terminal", hash), // a terminal's own operator
		op(12, "0190c000-0000-7000-8000-00000000000a", "chebet", "attendant", "", hash),          // from before operators were shared
	}
	// An operator of this terminal named like one added elsewhere.
	if _, err := f.db.AddOperator(ctx, f.admin, "wanjiku", "attendant", "1111"); err != nil {
		t.Fatal(err)
	}
	page = append(page, op(9, "0190c000-0000-7000-8000-000000000007", "wanjiku", "supervisor", "site", hash))
	peers := []terminal.FeedPeer{{TerminalID: peer, Name: "exit-1", Seq: 12}}
	if _, err := f.db.ApplyFeed(ctx, page, peers); err != nil {
		t.Fatal(err)
	}
	ops, err := f.db.Operators(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range ops {
		names = append(names, o.Name+"/"+string(o.Role))
	}
	if got, want := strings.Join(names, " "), "achieng/attendant admin/supervisor wanjiku/attendant"; got != want {
		t.Errorf("operators after the feed: %s; want %s", got, want)
	}
	if o, err := f.db.Authenticate(ctx, "achieng", "4321"); err != nil || o.Role != terminal.RoleAttendant {
		t.Errorf("the operator from the feed cannot log in here: %v", err)
	}
	if _, err := f.db.Authenticate(ctx, "wanjiku", "4321"); err == nil {
		t.Error("the feed replaced this terminal's wanjiku")
	}
	if _, err := f.db.Authenticate(ctx, "admin", "4321"); err == nil {
		t.Error("the peer's admin PIN logs in here")
	}
	// The same name from two other terminals: the earlier one wins here
	// whatever the order they come in, unless the later one has already
	// opened a shift here.
	const peer2 = "0190a000-0000-7000-8000-0000000000bb"
	op2 := func(seq int64, id, name, pinHash string) terminal.FeedEvent {
		e := feedEvent(t, peer2, "exit-2", seq, terminal.EventOperatorAdded, map[string]any{"id": id, "name": name, "role": "attendant", "scope": "site", "pin_hash": pinHash})
		e.At = e.At.Add(-time.Hour) // before the exit-1 events
		e.Hash = e.ComputeHash()
		return e
	}
	hash2, _ := terminal.HashPIN("8642")
	later := []terminal.FeedEvent{
		op(13, "0190c000-0000-7000-8000-00000000000b", "lagat", "attendant", "site", hash),
		op(14, "0190c000-0000-7000-8000-00000000000c", "kibet", "attendant", "site", hash),
	}
	if _, err := f.db.ApplyFeed(ctx, later, []terminal.FeedPeer{{TerminalID: peer, Name: "exit-1", Seq: 14}}); err != nil {
		t.Fatal(err)
	}
	kibet, err := f.db.Authenticate(ctx, "kibet", "4321")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.OpenShift(ctx, kibet, terminal.Totals{"KES": 0}); err != nil {
		t.Fatal(err)
	}
	earlier := []terminal.FeedEvent{op2(1, "0190c000-0000-7000-8000-00000000000d", "lagat", hash2), op2(2, "0190c000-0000-7000-8000-00000000000e", "kibet", hash2)}
	if _, err := f.db.ApplyFeed(ctx, earlier, []terminal.FeedPeer{{TerminalID: peer2, Name: "exit-2", Seq: 2}}); err != nil {
		t.Fatalf("an earlier operator of a name already held: %v", err)
	}
	if _, err := f.db.Authenticate(ctx, "lagat", "8642"); err != nil {
		t.Errorf("lagat: the earlier one did not replace the later one: %v", err)
	}
	if _, err := f.db.Authenticate(ctx, "kibet", "4321"); err != nil {
		t.Errorf("kibet, who has a shift here, was replaced: %v", err)
	}

	// Applying the pages again changes nothing.
	page = append(append(page, later...), earlier...)
	peers = append(peers, terminal.FeedPeer{TerminalID: peer2, Name: "exit-2", Seq: 2})
	before, _ := f.db.Counts(ctx)
	if n, err := f.db.ApplyFeed(ctx, page, peers); err != nil || n != 0 {
		t.Errorf("the page again: %d applied, %v", n, err)
	}
	if after, _ := f.db.Counts(ctx); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the page again changed the store: %v → %v", before, after)
	}
}

// TestApplyFeedOperatorPINs: a PIN changed at another terminal reaches
// this one, for an operator added here or elsewhere; of two changes the
// later stands whatever order they arrive in; a change for an operator not
// known here yet adds it; a terminal's own admin's change is not taken.
func TestApplyFeedOperatorPINs(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	const peerA, peerB = "0190a000-0000-7000-8000-0000000000aa", "0190a000-0000-7000-8000-0000000000bb"
	hash := func(pin string) string {
		h, err := terminal.HashPIN(pin)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	ev := func(peer, name string, seq int64, typ, id, opName, scope, pinHash string, at time.Time) terminal.FeedEvent {
		e := feedEvent(t, peer, name, seq, typ, map[string]any{"id": id, "name": opName, "role": "attendant", "scope": scope,
			"pin_hash": pinHash, "added_at": outageDay})
		e.At = at
		e.Hash = e.ComputeHash()
		return e
	}
	at := func(min int) time.Time { return outageDay.Add(time.Duration(min) * time.Minute) }
	local, err := f.db.AddOperator(ctx, f.admin, "wanjiku", "attendant", "1111")
	if err != nil {
		t.Fatal(err)
	}
	const achieng, kibet = "0190c000-0000-7000-8000-000000000001", "0190c000-0000-7000-8000-000000000002"
	pageA := []terminal.FeedEvent{
		ev(peerA, "exit-1", 1, terminal.EventOperatorAdded, achieng, "achieng", "site", hash("2222"), at(1)),
		ev(peerA, "exit-1", 2, terminal.EventOperatorPIN, achieng, "achieng", "site", hash("3333"), at(50)), // the later change
		ev(peerA, "exit-1", 3, terminal.EventOperatorPIN, local.ID, "wanjiku", "site", hash("4444"), outageDay.Add(24*time.Hour)),
		ev(peerA, "exit-1", 4, terminal.EventOperatorPIN, kibet, "kibet", "site", hash("5555"), at(7)), // kibet not known here yet
		ev(peerA, "exit-1", 5, terminal.EventOperatorPIN, f.admin.ID, "admin", "terminal", hash("6666"), at(8)),
	}
	pageB := []terminal.FeedEvent{
		ev(peerB, "exit-2", 1, terminal.EventOperatorPIN, achieng, "achieng", "site", hash("7777"), at(20)), // an earlier change, arriving later
	}
	if _, err := f.db.ApplyFeed(ctx, pageA, []terminal.FeedPeer{{TerminalID: peerA, Name: "exit-1", Seq: 5}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ApplyFeed(ctx, pageB, []terminal.FeedPeer{{TerminalID: peerB, Name: "exit-2", Seq: 1}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, pin string
		ok        bool
	}{
		{"achieng", "3333", true}, {"achieng", "7777", false}, {"achieng", "2222", false},
		{"wanjiku", "4444", true}, {"wanjiku", "1111", false},
		{"kibet", "5555", true},
		{"admin", "1234", true}, {"admin", "6666", false},
	} {
		_, err := f.db.Authenticate(ctx, c.name, c.pin)
		if (err == nil) != c.ok {
			t.Errorf("%s with %s: %v; want accepted %v", c.name, c.pin, err, c.ok)
		}
	}
}

// TestApplyFeedOperatorDisabled: an operator disabled at another terminal
// cannot sign in here once the feed brings it, whether it was known here
// already or its addition arrives only afterwards (from a third terminal).
func TestApplyFeedOperatorDisabled(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	const peerA, peerB = "0190a000-0000-7000-8000-0000000000aa", "0190a000-0000-7000-8000-0000000000bb"
	h, err := terminal.HashPIN("2222")
	if err != nil {
		t.Fatal(err)
	}
	op := func(peer, name string, seq int64, typ, id, opName string) terminal.FeedEvent {
		return feedEvent(t, peer, name, seq, typ, map[string]any{"id": id, "name": opName, "role": "attendant", "scope": "site", "pin_hash": h, "added_at": outageDay})
	}
	const achieng, kibet = "0190c000-0000-7000-8000-000000000001", "0190c000-0000-7000-8000-000000000002"
	if _, err := f.db.ApplyFeed(ctx, []terminal.FeedEvent{op(peerA, "exit-1", 1, terminal.EventOperatorAdded, achieng, "achieng")},
		[]terminal.FeedPeer{{TerminalID: peerA, Name: "exit-1", Seq: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Authenticate(ctx, "achieng", "2222"); err != nil {
		t.Fatalf("achieng before she is disabled: %v", err)
	}
	// exit-2 disables achieng, and kibet, whose addition (at exit-1) has
	// not reached this terminal yet.
	if _, err := f.db.ApplyFeed(ctx, []terminal.FeedEvent{
		op(peerB, "exit-2", 1, terminal.EventOperatorOff, achieng, "achieng"),
		op(peerB, "exit-2", 2, terminal.EventOperatorOff, kibet, "kibet"),
	}, []terminal.FeedPeer{{TerminalID: peerB, Name: "exit-2", Seq: 2}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ApplyFeed(ctx, []terminal.FeedEvent{op(peerA, "exit-1", 2, terminal.EventOperatorAdded, kibet, "kibet")},
		[]terminal.FeedPeer{{TerminalID: peerA, Name: "exit-1", Seq: 2}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"achieng", "kibet"} {
		if _, err := f.db.Authenticate(ctx, name, "2222"); err == nil {
			t.Errorf("%s, disabled elsewhere, signs in here", name)
		}
	}
	ops, _ := f.db.Operators(ctx)
	if len(ops) != 1 || ops[0].Name != "admin" {
		t.Errorf("operators offered at the login: %d; want only admin", len(ops))
	}
}
