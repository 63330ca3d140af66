package hub_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/client"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// TestEndToEnd: two terminals of a park, an entry gate and an exit, sell,
// settle, void and sync through a real hub on loopback; the hub reports
// the takings; a published catalogue reaches both.
func TestEndToEnd(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	gate := newTerm(t, h, "gate-1", 0)
	exit := newTerm(t, h, "exit-1", 0)

	cash := gate.sell("cash")
	mp := gate.sell("mpesa")
	deferred := gate.sell("defer")
	toVoid := gate.sell("defer")
	if _, err := gate.db.Void(ctx, gate.admin, toVoid.ID, "driver turned back"); err != nil {
		t.Fatal(err)
	}
	st, _ := client.ReadStatus(ctx, gate.db, gate.now())
	if st.Queued == 0 || st.OldestUnsynced == nil {
		t.Fatalf("before sync: status %+v; want queued events", st)
	}
	gate.mustSync()
	exit.mustSync()

	// The exit learnt of the void through the feed: the pass is revoked.
	pc, err := exit.db.CheckPass(ctx, toVoid.Pass)
	if err != nil || pc.Refusal == nil || pc.Refusal.Reason != pass.Revoked {
		t.Fatalf("exit check of voided pass: %v, refusal %v; want revoked", err, pc.Refusal)
	}
	// The exit settles the deferred pass; the gate learns it.
	tr, _ := terminal.ParseTender("mpesa:SX11EXIT01")
	if _, err := exit.db.Settle(ctx, exit.admin, deferred.Pass, []terminal.TenderRequest{tr}); err != nil {
		t.Fatal(err)
	}
	exit.mustSync()
	gate.mustSync()
	if _, err := gate.db.Settle(ctx, gate.admin, deferred.Pass, []terminal.TenderRequest{{Kind: terminal.TenderCash}}); pass.ReasonOf(err) != pass.AlreadyUsed {
		t.Errorf("gate settling a pass settled at the exit: %v; want already_used", err)
	}
	pc, err = gate.db.CheckPass(ctx, deferred.Pass)
	if err != nil || pc.State != "settled" {
		t.Errorf("gate check of settled pass: %v state %q", err, pc.State)
	}

	// A new catalogue version, signed by the site authority.
	newCat := bytes.Replace(catalogue, []byte(`"version": "KWS-2024.1"`), []byte(`"version": "KWS-2024.2"`), 1)
	if _, err := h.Hub().PublishCatalogue(ctx, "NNP", newCat); err != nil {
		t.Fatal(err)
	}
	syncAll(t, gate, exit)
	for _, te := range []*termEnv{gate, exit} {
		cat, err := te.db.Catalogue(ctx)
		if err != nil || cat.Version != "KWS-2024.2" {
			t.Errorf("%s catalogue = %v %v; want KWS-2024.2", te.name, cat, err)
		}
	}
	syncAll(t, gate, exit)
	checkExactlyOnce(t, h, gate, exit)
	checkFeed(t, h, gate, exit)
	for _, te := range []*termEnv{gate, exit} {
		if err := te.db.VerifyAudit(ctx); err != nil {
			t.Errorf("%s audit: %v", te.name, err)
		}
		st, err := te.syncer.Status(ctx)
		if err != nil || !st.Online || st.Queued != 0 || st.OldestUnsynced != nil || st.LastSuccess == nil || st.LastError != "" {
			t.Errorf("%s status = %+v, %v; want online, nothing queued", te.name, st, err)
		}
	}

	r, err := h.Hub().Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for _, s := range []*terminal.Sale{cash, mp} {
		for _, tn := range s.Tenders {
			want[string(tn.Kind)+"/"+string(tn.Currency)] += tn.Net()
		}
	}
	st2, _ := exit.db.Settlement(ctx, mustSettlementID(t, exit))
	for _, tn := range st2.Tenders {
		want[string(tn.Kind)+"/"+string(tn.Currency)] += tn.Net()
	}
	got := map[string]int64{}
	for _, tk := range r.Takings {
		if tk.Site != "NNP" {
			t.Errorf("taking at %s", tk.Site)
		}
		got[tk.Tender+"/"+tk.Currency] += tk.Amount
	}
	if len(got) != len(want) {
		t.Errorf("takings %v; want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("takings[%s] = %d; want %d", k, got[k], v)
		}
	}
	if len(r.Unsettled) != 0 {
		t.Errorf("unsettled = %+v; want none (one settled, one voided)", r.Unsettled)
	}
	if len(r.Terminals) != 2 || r.Terminals[0].Name != "exit-1" || r.Terminals[1].Name != "gate-1" || r.Terminals[1].LastSeq != int64(len(gate.events())) {
		t.Errorf("terminals = %+v", r.Terminals)
	}
	if len(r.Conflicts) != 0 {
		t.Errorf("conflicts = %+v", r.Conflicts)
	}

	// One more deferred pass stays unsettled; the report says so.
	open := gate.sell("defer")
	gate.mustSync()
	r, _ = h.Hub().Report(ctx)
	if len(r.Unsettled) != 1 || r.Unsettled[0].PassID != open.ID || r.Unsettled[0].Terminal != "gate-1" || r.Unsettled[0].Due["KES"] != open.Due["KES"] {
		t.Errorf("unsettled = %+v; want the pass of sale %s", r.Unsettled, open.ID)
	}
	// /metrics serves the same state.
	resp, err := http.Get(h.front.URL + wire.PathMetrics)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range []string{`lango_hub_unsettled_passes{site="NNP"} 1`, fmt.Sprintf(`lango_hub_takings_minor_units{currency="KES",site="NNP",tender="cash"} %d`, got["cash/KES"])} {
		if !strings.Contains(string(body), line+"\n") {
			t.Errorf("/metrics has no %q", line)
		}
	}
}

func mustSettlementID(t *testing.T, te *termEnv) string {
	t.Helper()
	var id string
	if err := te.db.SQL().QueryRow(`SELECT id FROM settlements LIMIT 1`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestHubKilledMidBatch: the hub dies while inserting a batch. Nothing of
// that batch is kept; after a restart the terminal resumes from where the
// hub stands, and every event is held once.
func TestHubKilledMidBatch(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	te := newTerm(t, h, "gate-1", 0)
	te.setBatch(8)
	for range 20 {
		te.sell("cash")
	}
	batches := 0
	h.Store().SetApplyHook(func(n int) error {
		if n == 1 {
			batches++
		}
		if batches == 2 && n == 5 {
			h.setDown(true) // the process dies here
			return errors.New("killed")
		}
		return nil
	})
	err := te.sync()
	if kindOf(err) != terminal.EUNAVAILABLE {
		t.Fatalf("sync with the hub dying: %v (%s); want unavailable", err, kindOf(err))
	}
	h.restart()
	tr, _ := h.Store().Terminal(ctx, te.id)
	if tr.LastSeq != 8 {
		t.Fatalf("after the crash the hub holds up to %d; want 8 (the first batch only)", tr.LastSeq)
	}
	// The first batch's answer may or may not have reached the terminal
	// before the hub died.
	st, _ := te.db.SyncState(ctx)
	if st.AckedSeq != 8 && st.AckedSeq != 0 {
		t.Errorf("terminal acked %d; want 8 or 0", st.AckedSeq)
	}
	te.mustSync()
	checkExactlyOnce(t, h, te)
}

// TestResponseLost: the hub commits a batch and the connection is cut
// before the terminal reads the answer. The terminal does not count the
// batch as sent; its next exchange learns the hub has it and sends on.
func TestResponseLost(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	te := newTerm(t, h, "gate-1", 0)
	te.setBatch(5)
	for range 12 {
		te.sell("mpesa")
	}
	h.inject(fault{path: wire.PathEvents, kind: faultDropResponse})
	if err := te.sync(); kindOf(err) != terminal.EUNAVAILABLE {
		t.Fatalf("sync: %v; want unavailable", err)
	}
	tr, _ := h.Store().Terminal(ctx, te.id)
	st, _ := te.db.SyncState(ctx)
	// With two batches in flight, either answer may be the one cut.
	if tr.LastSeq < 5 || st.AckedSeq >= tr.LastSeq {
		t.Fatalf("hub holds %d (want ≥ 5: committed), terminal acked %d (want less: it never read an answer)", tr.LastSeq, st.AckedSeq)
	}
	status, _ := te.syncer.Status(ctx)
	if status.LastError == "" || status.Queued == 0 {
		t.Errorf("status after failure = %+v; want an error and a queue", status)
	}
	// An answer lost again, in the middle of the drain. (More sales first:
	// the batch in flight beside the cut one may have taken the rest, and
	// an exchange with nothing to send would never meet the fault.)
	for range 6 {
		te.sell("mpesa")
	}
	h.inject(fault{path: wire.PathEvents, kind: faultDropResponse})
	if err := te.sync(); err == nil {
		t.Fatal("sync succeeded with the answer cut")
	}
	te.mustSync()
	checkExactlyOnce(t, h, te)
	if st, _ := te.db.SyncState(ctx); st.Rewinds != 0 {
		t.Errorf("rewinds = %d; the hub never went back", st.Rewinds)
	}
}

// TestDuplicatedAndReordered: the network delivers an upload twice, and
// batches arrive out of order or again after a retry. The hub applies each
// event once, refuses a gap with the seq to resume from, and refuses an
// exact copy of a request as a replay.
func TestDuplicatedAndReordered(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	te := newTerm(t, h, "gate-1", 0)
	te.setBatch(4)
	for range 6 {
		te.sell("cash")
	}
	// A copy of each request of the next exchange arrives too.
	for range 4 {
		h.inject(fault{path: wire.PathEvents, kind: faultDuplicate})
	}
	te.mustSync()
	if len(h.replays) == 0 {
		t.Fatal("no request was duplicated")
	}
	for _, code := range h.replays {
		if code != http.StatusUnauthorized {
			t.Errorf("duplicated request answered %d; want 401 replay", code)
		}
	}
	checkExactlyOnce(t, h, te)

	// Batches signed afresh (a terminal's retries), delivered out of order
	// (cash: an M-PESA sale writes two events, its mpesa.used too).
	for range 9 {
		te.sell("cash")
	}
	evs := te.events()
	acked := int64(len(evs) - 9)
	b1, b2, b3 := evs[acked:acked+3], evs[acked+3:acked+6], evs[acked+6:]
	post := func(batch []terminal.Event) (int, *wire.UploadResponse, *wire.Error) {
		return postEvents(t, h, te, batch, nil)
	}
	if code, _, we := post(b3); code != http.StatusConflict || we.Code != wire.CodeGap || *we.LastSeq != acked {
		t.Fatalf("batch 3 first: %d %+v; want 409 gap with last_seq %d", code, we, acked)
	}
	if code, r, _ := post(b1); code != 200 || r.Applied != 3 {
		t.Fatalf("batch 1: %d %+v", code, r)
	}
	if code, r, _ := post(b1); code != 200 || r.Applied != 0 || r.Duplicates != 3 {
		t.Fatalf("batch 1 again: %d %+v; want all duplicates", code, r)
	}
	if code, r, _ := post(evs[acked+1 : acked+6]); code != 200 || r.Applied != 3 || r.Duplicates != 2 {
		t.Fatalf("overlapping batch: %d %+v; want 3 applied, 2 duplicates", code, r)
	}
	_ = b2
	if code, r, _ := post(b3); code != 200 || r.Applied != 3 {
		t.Fatalf("batch 3: %d %+v", code, r)
	}
	// The terminal never saw these answers; its next exchange catches up.
	te.mustSync()
	checkExactlyOnce(t, h, te)
	_ = ctx
}

// TestClockADayOff: terminals whose clocks are a day behind and a day
// ahead sync: the hub tells them its time, they sign with it, and their
// events keep the terminal's own times.
func TestClockADayOff(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	behind := newTerm(t, h, "gate-1", -24*time.Hour)
	ahead := newTerm(t, h, "gate-2", 26*time.Hour)
	for _, te := range []*termEnv{behind, ahead} {
		// A fresh process: it does not know the offset yet.
		if err := te.db.SetClockOffset(ctx, 0); err != nil {
			t.Fatal(err)
		}
		te.reopen()
		s := te.sell("defer")
		if d := c.Now().Sub(s.At); (d - -te.skew).Abs() > time.Minute {
			t.Errorf("%s sale at %v: off by %v; want the terminal's clock", te.name, s.At, d)
		}
		te.mustSync()
		st, _ := te.db.SyncState(ctx)
		if (st.ClockOffset - -te.skew).Abs() > time.Minute {
			t.Errorf("%s learnt offset %v; want %v", te.name, st.ClockOffset, -te.skew)
		}
	}
	syncAll(t, behind, ahead)
	checkExactlyOnce(t, h, behind, ahead)
	checkFeed(t, h, behind, ahead)
}

// TestHubRestoredFromBackup: the hub's disk is lost and it is restored from
// an older backup. Each terminal notices the hub is behind what it
// acknowledged and sends the missing events again; the feed cursors, kept
// in the terminals' own seqs, neither skip nor repeat.
func TestHubRestoredFromBackup(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	a := newTerm(t, h, "gate-1", 0)
	b := newTerm(t, h, "exit-1", 0)
	p1 := a.sell("defer")
	a.sell("cash")
	syncAll(t, a, b)
	backup := h.backup()

	p2 := a.sell("defer")
	if _, err := a.db.Void(ctx, a.admin, p1.ID, "wrong vehicle"); err != nil {
		t.Fatal(err)
	}
	tr, _ := terminal.ParseTender("cash")
	if _, err := b.db.Settle(ctx, b.admin, p2.Pass, []terminal.TenderRequest{tr}); err != nil {
		t.Fatal(err)
	}
	syncAll(t, a, b)
	newCat := bytes.Replace(catalogue, []byte(`"version": "KWS-2024.1"`), []byte(`"version": "KWS-2024.3"`), 1)
	if _, err := h.Hub().PublishCatalogue(ctx, "NNP", newCat); err != nil {
		t.Fatal(err)
	}
	syncAll(t, a, b)

	h.restore(backup)
	before, _ := h.Store().Terminal(ctx, a.id)
	if before.LastSeq >= int64(len(a.events())) {
		t.Fatalf("the backup holds all of gate-1's events")
	}
	a.sell("mpesa")
	syncAll(t, a, b)
	checkExactlyOnce(t, h, a, b)
	checkFeed(t, h, a, b)
	for _, te := range []*termEnv{a, b} {
		st, _ := te.db.SyncState(ctx)
		if st.Rewinds == 0 {
			t.Errorf("%s never noticed the hub went back", te.name)
		}
	}
	// A catalogue published after the restore still reaches the terminals,
	// which applied a later-numbered one before it.
	newCat = bytes.Replace(catalogue, []byte(`"version": "KWS-2024.1"`), []byte(`"version": "KWS-2024.4"`), 1)
	if _, err := h.Hub().PublishCatalogue(ctx, "NNP", newCat); err != nil {
		t.Fatal(err)
	}
	syncAll(t, a, b)
	if cat, _ := b.db.Catalogue(ctx); cat.Version != "KWS-2024.4" {
		t.Errorf("after restore, catalogue = %s; want KWS-2024.4", cat.Version)
	}
}

// TestTerminalRestoredFromBackup: a terminal's store goes back to an old
// copy and sells on, so its new events reuse seqs the hub holds. The hub
// keeps what it has, records the fork, and the terminal says why it
// cannot sync.
func TestTerminalRestoredFromBackup(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	te := newTerm(t, h, "gate-1", 0)
	te.sell("cash")
	te.mustSync()
	te.close()
	copyFile(t, te.path, te.path+".bak")
	te.open()
	te.sell("cash")
	te.sell("cash")
	te.mustSync()
	held, _ := h.Store().Counts(ctx)
	te.close()
	copyFile(t, te.path+".bak", te.path)
	te.open()
	te.sell("mpesa")
	te.sell("mpesa")
	te.sell("mpesa")
	err := te.sync()
	if kindOf(err) != terminal.ECONFLICT {
		t.Fatalf("sync of a rewound store: %v; want conflict", err)
	}
	st, _ := te.syncer.Status(ctx)
	if !strings.Contains(st.LastError, "restored") {
		t.Errorf("status error %q; want it to say the store was restored", st.LastError)
	}
	// The hub refuses the rewritten events, even when sent straight.
	evs := te.events()
	tr, _ := h.Store().Terminal(ctx, te.id)
	code, _, we := postEvents(t, h, te, evs[tr.LastSeq-1:], nil)
	if code != http.StatusConflict || we.Code != wire.CodeFork {
		t.Fatalf("rewritten events: %d %+v; want 409 fork", code, we)
	}
	after, _ := h.Store().Counts(ctx)
	if after["events"] != held["events"] {
		t.Errorf("hub events %d → %d", held["events"], after["events"])
	}
	r, _ := h.Hub().Report(ctx)
	if len(r.Conflicts) != 1 || r.Conflicts[0].Kind != "fork" || r.Conflicts[0].Terminal != "gate-1" {
		t.Errorf("conflicts = %+v; want one fork of gate-1", r.Conflicts)
	}
}

// TestConflictsReported: the same pass settled at two exits that had not
// heard of each other, and the same M-PESA code used at two gates.
func TestConflictsReported(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	gate := newTerm(t, h, "gate-1", 0)
	gate2 := newTerm(t, h, "gate-2", 0)
	x1 := newTerm(t, h, "exit-1", 0)
	x2 := newTerm(t, h, "exit-2", 0)
	p := gate.sell("defer")
	for _, x := range []*termEnv{x1, x2} {
		if _, err := x.db.Settle(ctx, x.admin, p.Pass, []terminal.TenderRequest{{Kind: terminal.TenderCash}}); err != nil {
			t.Fatal(err)
		}
	}
	tr, _ := terminal.ParseTender("mpesa:SDUPL12345")
	for _, g := range []*termEnv{gate, gate2} {
		if _, err := g.db.Sell(ctx, g.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: []terminal.TenderRequest{tr}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	syncAll(t, gate, gate2, x1, x2)
	r, err := h.Hub().Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, c := range r.Conflicts {
		kinds[c.Kind]++
		switch c.Kind {
		case "pass_settled_twice":
			if c.PassID != p.ID || len(c.Uses) != 2 {
				t.Errorf("pass conflict = %+v", c)
			}
		case "mpesa_code_twice":
			if c.Code != "SDUPL12345" || len(c.Uses) != 2 {
				t.Errorf("M-PESA conflict = %+v", c)
			}
		}
	}
	if kinds["pass_settled_twice"] != 1 || kinds["mpesa_code_twice"] != 1 || len(r.Conflicts) != 2 {
		t.Errorf("conflicts = %+v", r.Conflicts)
	}
}

// TestOperatorsShared: an operator a supervisor adds at the gate can log in
// at the exit once both have synced, with the same PIN, and at a lane
// enrolled afterwards; a new PIN given at the exit replaces it everywhere,
// and once disabled at the gate the operator signs in nowhere. The same name added at two terminals while offline
// stays two operators, each terminal keeping its own, and the report
// names the clash.
func TestOperatorsShared(t *testing.T) {
	ctx := context.Background()
	h := newHub(t, &clock{})
	gate := newTerm(t, h, "gate-1", 0)
	exit := newTerm(t, h, "exit-1", 0)
	if _, err := gate.db.AddOperator(ctx, gate.admin, "achieng", "attendant", "4321"); err != nil {
		t.Fatal(err)
	}
	for _, te := range []*termEnv{gate, exit} {
		if _, err := te.db.AddOperator(ctx, te.admin, "otieno", "attendant", map[*termEnv]string{gate: "1111", exit: "2222"}[te]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := exit.db.Authenticate(ctx, "achieng", "4321"); err == nil {
		t.Fatal("achieng logs in at the exit before any sync")
	}
	syncAll(t, gate, exit)
	late := newTerm(t, h, "exit-2", 0)
	syncAll(t, late)
	for _, te := range []*termEnv{exit, late} {
		if op, err := te.db.Authenticate(ctx, "achieng", "4321"); err != nil || op.Role != terminal.RoleAttendant {
			t.Errorf("%s: achieng cannot log in with her PIN after sync: %v", te.name, err)
		}
	}
	for te, pin := range map[*termEnv]string{gate: "1111", exit: "2222"} {
		if _, err := te.db.Authenticate(ctx, "otieno", pin); err != nil {
			t.Errorf("%s: its own otieno no longer logs in: %v", te.name, err)
		}
	}
	if _, err := late.db.Authenticate(ctx, "otieno", "1111"); err != nil {
		t.Errorf("exit-2 (enrolled later) does not know the first otieno: %v", err)
	}
	// A supervisor at the exit gives achieng a new PIN: after a sync it is
	// her PIN at the gate too, and the old one no longer opens anything.
	if _, err := exit.db.SetOperatorPIN(ctx, exit.admin, "achieng", "8642"); err != nil {
		t.Fatal(err)
	}
	syncAll(t, exit, gate, late)
	for _, te := range []*termEnv{gate, late} {
		if _, err := te.db.Authenticate(ctx, "achieng", "8642"); err != nil {
			t.Errorf("%s: achieng's new PIN: %v", te.name, err)
		}
		if _, err := te.db.Authenticate(ctx, "achieng", "4321"); err == nil {
			t.Errorf("%s: achieng's old PIN still works", te.name)
		}
	}
	// achieng leaves: disabled at the gate, she can sign in nowhere.
	if _, err := gate.db.DisableOperator(ctx, gate.admin, "achieng"); err != nil {
		t.Fatal(err)
	}
	syncAll(t, gate, exit, late)
	for _, te := range []*termEnv{gate, exit, late} {
		if _, err := te.db.Authenticate(ctx, "achieng", "8642"); err == nil {
			t.Errorf("%s: achieng, disabled at the gate, still signs in", te.name)
		}
	}
	r, err := h.Hub().Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var clash []hub.Conflict
	for _, c := range r.Conflicts {
		if c.Kind == "operator_added_twice" {
			clash = append(clash, c)
		}
	}
	if len(clash) != 1 || clash[0].Operator != "otieno" || clash[0].Site != "NNP" || len(clash[0].Uses) != 2 || clash[0].Uses[0].OperatorID == clash[0].Uses[1].OperatorID {
		t.Errorf("operator conflicts = %+v; want otieno added twice at NNP", clash)
	}
	// Every operator row, merged from the feed or not, is what the events
	// (the terminal's and the feed's) say of it.
	for _, te := range []*termEnv{gate, exit} {
		if err := te.db.VerifyAudit(ctx); err != nil {
			t.Errorf("%s: audit: %v", te.name, err)
		}
	}
}

// TestBrokenChainFlagged: an event altered in the terminal's store after
// it was written reaches the hub with a hash that does not match; the hub
// keeps the events and reports the break.
func TestBrokenChainFlagged(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	te := newTerm(t, h, "gate-1", 0)
	other := newTerm(t, h, "exit-1", 0)
	te.mustSync()
	te.sell("cash")
	evs := te.events()
	last := len(evs) - 1
	forged := append([]terminal.Event(nil), evs[last:]...)
	forged[0].Payload = bytes.Replace(forged[0].Payload, []byte(`KDA 123A`), []byte(`KDA 999A`), 1)
	code, r, we := postEvents(t, h, te, forged, nil)
	if code != 200 || r.Applied != 1 {
		t.Fatalf("altered event: %d %+v %+v; want it kept", code, r, we)
	}
	rep, _ := h.Hub().Report(ctx)
	if len(rep.Conflicts) != 1 || rep.Conflicts[0].Kind != "broken_chain" || rep.Conflicts[0].Seq != evs[last].Seq {
		t.Errorf("conflicts = %+v; want a broken chain at %d", rep.Conflicts, evs[last].Seq)
	}
	// A feed event whose hash does not match still reaches the other
	// terminals (its mark only makes a pass refused); the feed goes on.
	const passID = "0190b000-0000-7000-8000-00000000abcd"
	used := terminal.Event{Seq: evs[last].Seq + 1, ID: "0190b000-0000-7000-8000-0000000000ee", Terminal: te.id, Type: terminal.EventPassUsed,
		At: c.Now(), Payload: []byte(`{"pass_id":"` + passID + `"}`), PrevHash: forged[0].Hash, Hash: strings.Repeat("0", 64)}
	if code, _, we := postEvents(t, h, te, []terminal.Event{used}, nil); code != 200 {
		t.Fatalf("altered feed event: %d %+v", code, we)
	}
	other.mustSync()
	var mark string
	if err := other.db.SQL().QueryRow(`SELECT mark || '@' || terminal FROM pass_marks WHERE pass_id = ?`, passID).Scan(&mark); err != nil || mark != "used@gate-1" {
		t.Errorf("exit-1 mark = %q, %v; want used@gate-1", mark, err)
	}
}

// TestSaleNeverWaitsForSync: while the background worker waits on a hub
// that does not answer, sales commit at once.
func TestSaleNeverWaitsForSync(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	te := newTerm(t, h, "gate-1", 0)
	h.hang = make(chan struct{})
	h.inject(fault{path: wire.PathState, kind: faultHang})
	te.syncer.Start(ctx)
	time.Sleep(50 * time.Millisecond) // let the worker reach the hanging request
	start := time.Now()
	for range 5 {
		te.sell("cash")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("5 sales took %v while sync hung", d)
	}
	st, _ := te.syncer.Status(ctx)
	if st.Queued == 0 {
		t.Error("nothing queued")
	}
	close(h.hang)
	te.syncer.Kick()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ = te.syncer.Status(ctx)
		if st.Queued == 0 && st.Online {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker never caught up: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := te.syncer.Close(); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, h, te)
}

// TestWorkerBackoff: the worker retries a hub that is down with growing,
// capped, jittered delays, and goes back to its interval after a success.
func TestWorkerBackoff(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	te := newTerm(t, h, "gate-1", 0)
	te.sell("cash")
	h.setDown(true)
	waits := make(chan time.Duration)
	release := make(chan time.Time)
	cfg := te.config()
	cfg.MinBackoff, cfg.MaxBackoff, cfg.Interval = time.Second, 8*time.Second, time.Minute
	cfg.ProbeEvery = -1 // the waits alone: no probe between them
	cfg.After = func(d time.Duration) <-chan time.Time {
		waits <- d
		return release
	}
	s := client.New(te.db, cfg)
	s.Start(ctx)
	var got []time.Duration
	for i := 0; i < 6; i++ {
		got = append(got, <-waits)
		if i == 4 {
			h.setDown(false)
		}
		release <- time.Time{}
	}
	go func() {
		for range waits {
		}
	}()
	s.Close()
	close(waits)
	// Jitter is fixed at 0.5: each delay is 3/4 of min·2ⁿ, capped at max.
	want := []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 6 * time.Second, 6 * time.Second, time.Minute}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("wait %d = %v; want %v (all: %v)", i, got[i], want[i], got)
		}
	}
	checkExactlyOnce(t, h, te)
}

// TestRevokedTerminal: a revoked terminal is refused and told so.
func TestRevokedTerminal(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	te := newTerm(t, h, "gate-1", 0)
	te.mustSync()
	if err := h.Hub().RevokeTerminal(ctx, "NNP", "gate-1"); err != nil {
		t.Fatal(err)
	}
	te.sell("cash")
	err := te.sync()
	if kindOf(err) != terminal.EUNAUTHORIZED || wireCode(err) != wire.CodeRevoked {
		t.Fatalf("revoked sync: %v; want unauthorized/revoked", err)
	}
}

// TestEnrollment: a token enrolls once; a lost answer can be retried by
// the same terminal; another terminal cannot reuse it; an expired or
// mistyped token is refused.
func TestEnrollment(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	te := newTerm(t, h, "gate-1", 0)
	token, err := h.Hub().AddTerminal(ctx, "NNP", "gate-2")
	if err != nil {
		t.Fatal(err)
	}
	other := newTerm(t, h, "gate-3", 0)
	// gate-1 cannot take gate-2's token; gate-3 neither.
	for _, x := range []*termEnv{te, other} {
		if _, err := client.EnrollWith(ctx, x.db, h.URL(), token, x.config()); kindOf(err) != terminal.EUNAUTHORIZED {
			t.Errorf("%s with gate-2's token: %v; want refused", x.name, err)
		}
	}
	if _, err := client.EnrollWith(ctx, te.db, h.URL(), "nonsense", te.config()); kindOf(err) != terminal.EUNAUTHORIZED {
		t.Errorf("bad token: %v", err)
	}
	if _, err := client.EnrollWith(ctx, te.db, "ftp://x", "t", te.config()); kindOf(err) != terminal.EINVALID {
		t.Errorf("bad URL: %v", err)
	}
	if _, err := client.EnrollWith(ctx, te.db, "http://127.0.0.1:1", "t", te.config()); kindOf(err) != terminal.EUNAVAILABLE {
		t.Errorf("no hub: %v; want unavailable", err)
	}
	// A new terminal named gate-2 enrolls; the answer is lost; it retries.
	g2 := newTermUnenrolled(t, h, "gate-2")
	h.inject(fault{path: wire.PathEnroll, kind: faultDropResponse})
	if _, err := client.EnrollWith(ctx, g2.db, h.URL(), token, g2.config()); kindOf(err) != terminal.EUNAVAILABLE {
		t.Fatalf("enroll with the answer cut: %v", err)
	}
	if _, err := client.EnrollWith(ctx, g2.db, h.URL(), token, g2.config()); err != nil {
		t.Fatalf("retried enroll: %v", err)
	}
	g2.mustSync()
	// Tokens expire.
	late, _ := h.Hub().AddTerminal(ctx, "NNP", "gate-4")
	c.n.Add(int64(73 * time.Hour / (10 * time.Millisecond)))
	g4 := newTermUnenrolled(t, h, "gate-4")
	if _, err := client.EnrollWith(ctx, g4.db, h.URL(), late, g4.config()); wireCode(err) != wire.CodeTokenInvalid {
		t.Errorf("expired token: %v", err)
	}
}

// newTermUnenrolled is newTerm without enrollment.
func newTermUnenrolled(t testing.TB, h *hubEnv, name string) *termEnv {
	t.Helper()
	ctx := context.Background()
	te := &termEnv{t: t, name: name, path: t.TempDir() + "/lango.db", hub: h}
	db, err := openInit(ctx, te)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	te.open()
	t.Cleanup(te.close)
	return te
}

// TestWorkerNoticesTheHubsReturn: a worker backing off for a long time
// after the hub went away syncs within a probe interval of the hub's
// return, not at the end of its backoff.
func TestWorkerNoticesTheHubsReturn(t *testing.T) {
	h := newHub(t, &clock{})
	te := newTerm(t, h, "gate-1", 0)
	te.mustSync()
	h.setDown(true)
	te.sell("cash")
	cfg := te.config()
	cfg.MinBackoff, cfg.MaxBackoff, cfg.ProbeEvery = time.Hour, time.Hour, 20*time.Millisecond
	s := client.New(te.db, cfg)
	s.Start(context.Background())
	defer s.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := te.db.SyncState(context.Background())
		if st.LastError != "" {
			break // the first attempt failed: the worker is backing off for an hour
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker never tried")
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.setDown(false)
	for {
		if st, _ := te.db.SyncState(context.Background()); st.Queued() == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the hub came back but the worker waits out its hour of backoff")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMpesaCodeOnceAcrossTheSite: an M-PESA code taken at one lane, for a
// sale or a settlement, is refused at another lane of the site once that
// lane has the feed (the code reused while both were offline is still the
// report's conflict, TestConflictsReported); a lane of another site is
// not told.
func TestMpesaCodeOnceAcrossTheSite(t *testing.T) {
	ctx := context.Background()
	h := newHub(t, &clock{})
	gate := newTerm(t, h, "gate-1", 0)
	exit := newTerm(t, h, "exit-1", 0)
	other := newTermAt(t, h, "AMB", "gate-1", 0)
	code, _ := terminal.ParseTender("mpesa:SFEED12345")
	if _, err := gate.db.Sell(ctx, gate.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: []terminal.TenderRequest{code}}, nil); err != nil {
		t.Fatal(err)
	}
	p := gate.sell("defer")
	settleCode, _ := terminal.ParseTender("mpesa:SSETL12345")
	if _, err := exit.db.Settle(ctx, exit.admin, p.Pass, []terminal.TenderRequest{settleCode}); err != nil {
		t.Fatal(err)
	}
	syncAll(t, gate, exit, other, gate, exit)
	for _, c := range []struct {
		at   *termEnv
		code terminal.TenderRequest
		lane string
	}{{exit, code, "gate-1"}, {gate, settleCode, "exit-1"}} {
		before, _ := c.at.db.Counts(ctx)
		_, err := c.at.db.Sell(ctx, c.at.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: []terminal.TenderRequest{c.code}}, nil)
		if terminal.ErrorKind(err) != terminal.ECONFLICT || !strings.Contains(err.Error(), "already used at "+c.lane) {
			t.Errorf("%s: code %s taken at %s: %v; want ECONFLICT naming %s", c.at.name, c.code.Reference, c.lane, err, c.lane)
		}
		if after, _ := c.at.db.Counts(ctx); !maps.Equal(before, after) {
			t.Errorf("%s: the refused sale changed the store: %v → %v", c.at.name, before, after)
		}
	}
	if _, err := other.db.Sell(ctx, other.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: []terminal.TenderRequest{code}}, nil); err != nil {
		t.Errorf("a lane of another site refuses the code: %v", err)
	}
}

// TestBankReferenceOnceAcrossTheSite: a bank reference taken at one lane,
// for a sale or a settlement, is refused at another lane of the site once
// that lane has the feed; a lane of another site is not told.
func TestBankReferenceOnceAcrossTheSite(t *testing.T) {
	ctx := context.Background()
	h := newHub(t, &clock{})
	gate := newTerm(t, h, "gate-1", 0)
	exit := newTerm(t, h, "exit-1", 0)
	other := newTermAt(t, h, "AMB", "gate-1", 0)
	ref, _ := terminal.ParseTender("bank:KCB:FT24003ABC12")
	if _, err := gate.db.Sell(ctx, gate.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: []terminal.TenderRequest{ref}}, nil); err != nil {
		t.Fatal(err)
	}
	p := gate.sell("defer")
	settleRef, _ := terminal.ParseTender("bank:EQTY:DS-000042")
	if _, err := exit.db.Settle(ctx, exit.admin, p.Pass, []terminal.TenderRequest{settleRef}); err != nil {
		t.Fatal(err)
	}
	syncAll(t, gate, exit, other, gate, exit)
	for _, c := range []struct {
		at   *termEnv
		ref  terminal.TenderRequest
		lane string
	}{{exit, ref, "gate-1"}, {gate, settleRef, "exit-1"}} {
		before, _ := c.at.db.Counts(ctx)
		_, err := c.at.db.Sell(ctx, c.at.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: []terminal.TenderRequest{c.ref}}, nil)
		if terminal.ErrorKind(err) != terminal.ECONFLICT || !strings.Contains(err.Error(), "already used at "+c.lane) {
			t.Errorf("%s: reference %s %s taken at %s: %v; want ECONFLICT naming %s", c.at.name, c.ref.Bank, c.ref.Reference, c.lane, err, c.lane)
		}
		if after, _ := c.at.db.Counts(ctx); !maps.Equal(before, after) {
			t.Errorf("%s: the refused sale changed the store: %v → %v", c.at.name, before, after)
		}
	}
	if _, err := other.db.Sell(ctx, other.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: []terminal.TenderRequest{ref}}, nil); err != nil {
		t.Errorf("a lane of another site refuses the reference: %v", err)
	}
}
