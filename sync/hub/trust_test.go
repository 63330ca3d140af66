package hub_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// hubSnapshot is what an attack must leave as it was: every table's row
// count and the whole report.
type hubSnapshot struct {
	counts map[string]int
	report []byte
}

func snapshot(t testing.TB, h *hubEnv) hubSnapshot {
	t.Helper()
	ctx := context.Background()
	counts, err := h.Store().Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := h.Hub().Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return hubSnapshot{counts, b}
}

// unchanged fails unless the hub is as before, except for the conflicts
// the attack was expected to leave (whose report entries are dropped
// before comparing).
func (before hubSnapshot) unchanged(t testing.TB, h *hubEnv, newConflicts int) {
	t.Helper()
	after := snapshot(t, h)
	want := maps.Clone(before.counts)
	want["conflicts"] += newConflicts
	if !maps.Equal(after.counts, want) {
		t.Errorf("row counts %v after the attack; want %v", after.counts, want)
	}
	strip := func(b []byte) []byte {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		cs, _ := m["conflicts"].([]any)
		m["conflicts"] = slices.DeleteFunc(cs, func(c any) bool { return c.(map[string]any)["kind"] == "forbidden_reference" })
		us, _ := m["unsettled"].([]any)
		for _, u := range us {
			delete(u.(map[string]any), "age_seconds") // grows with the hub's clock, not with what was stored
		}
		out, _ := json.Marshal(m)
		return out
	}
	if a, b := strip(after.report), strip(before.report); !bytes.Equal(a, b) {
		t.Errorf("the report changed:\nbefore %s\nafter  %s", b, a)
	}
}

// enrollAs posts an enrollment request for site/name under terminal id
// with a fresh key (or key, if given), as a stranger holding token would.
func enrollAs(t testing.TB, h *hubEnv, token, id, site, name string, key ed25519.PrivateKey) (int, wire.Error) {
	t.Helper()
	if key == nil {
		_, key, _ = ed25519.GenerateKey(rand.Reader)
	}
	pub := key.Public().(ed25519.PublicKey)
	b, err := json.Marshal(wire.EnrollRequest{Token: token, TerminalID: id, Site: site, Name: name, PublicKey: pub,
		Proof: ed25519.Sign(key, wire.EnrollMessage(token, id, pub))})
	if err != nil {
		t.Fatal(err)
	}
	code, body := rawRequest{method: http.MethodPost, path: wire.PathEnroll, body: b, noSign: true}.do(t, h)
	var we wire.Error
	if code != http.StatusOK {
		if err := json.Unmarshal(body, &we); err != nil {
			t.Fatalf("enroll answer %d %q: %v", code, body, err)
		}
	}
	return code, we
}

// TestEnrollmentTakeoverRefused: a token issued for a new terminal
// (gate-7), redeemed under the id of the enrolled exit-1, is refused: the
// hub neither renames nor re-keys exit-1, the token is not spent, and
// exit-1 syncs on as before.
func TestEnrollmentTakeoverRefused(t *testing.T) {
	ctx := context.Background()
	h := newHub(t, &clock{})
	exit := newTerm(t, h, "exit-1", 0)
	gate := newTerm(t, h, "gate-1", 0)
	gate.sell("defer")
	exit.sell("cash")
	syncAll(t, exit, gate)
	before := snapshot(t, h)
	held, err := h.Store().Terminal(ctx, exit.id)
	if err != nil {
		t.Fatal(err)
	}

	token, err := h.Hub().AddTerminal(ctx, "NNP", "gate-7")
	if err != nil {
		t.Fatal(err)
	}
	code, we := enrollAs(t, h, token, exit.id, "NNP", "gate-7", nil)
	if code != http.StatusForbidden || we.Code != wire.CodeTokenInvalid {
		t.Fatalf("takeover enrollment: %d %+v; want 403 token_invalid", code, we)
	}
	// Under exit-1's own name too: a new-terminal token never re-keys.
	token2, err := h.Hub().AddTerminal(ctx, "NNP", "exit-1")
	if err != nil {
		t.Fatal(err)
	}
	if code, we := enrollAs(t, h, token2, exit.id, "NNP", "exit-1", nil); code != http.StatusForbidden {
		t.Fatalf("re-key through an enrollment token: %d %+v; want 403", code, we)
	}
	after, err := h.Store().Terminal(ctx, exit.id)
	if err != nil {
		t.Fatal(err)
	}
	if after.Name != "exit-1" || !after.PublicKey.Equal(held.PublicKey) || after.Certificate != held.Certificate {
		t.Errorf("exit-1 after the attack: name %q, key changed %v; want untouched", after.Name, !after.PublicKey.Equal(held.PublicKey))
	}
	// Two tokens were added; nothing else changed.
	before.counts["enrollments"] += 2
	before.unchanged(t, h, 0)

	// The real exit-1 still syncs, and the token is still good for the new
	// terminal it was issued for.
	exit.sell("cash")
	exit.mustSync()
	g7 := newTermUnenrolled(t, h, "gate-7")
	if code, we := enrollAs(t, h, token, g7.id, "NNP", "gate-7", g7.key(t)); code != http.StatusOK {
		t.Fatalf("gate-7 with its own token: %d %+v", code, we)
	}
	checkExactlyOnce(t, h, exit, gate)
}

// TestRekeyKeepsHistory: `lango-hub terminal rekey` issues a token that
// gives exactly one enrolled terminal a new key; it keeps its name and
// events; no other terminal can redeem it.
func TestRekeyKeepsHistory(t *testing.T) {
	ctx := context.Background()
	h := newHub(t, &clock{})
	gate := newTerm(t, h, "gate-1", 0)
	other := newTerm(t, h, "gate-2", 0)
	gate.sell("cash")
	syncAll(t, gate, other)
	held, _ := h.Store().Terminal(ctx, gate.id)

	if _, err := h.Hub().RekeyTerminal(ctx, "NNP", "gate-9"); terminal.ErrorKind(err) != terminal.ENOTFOUND {
		t.Errorf("rekey of a terminal never enrolled: %v; want not found", err)
	}
	token, err := h.Hub().RekeyTerminal(ctx, "NNP", "gate-1")
	if err != nil {
		t.Fatal(err)
	}
	// gate-2 cannot use it, under its own id or under gate-1's name.
	if code, _ := enrollAs(t, h, token, other.id, "NNP", "gate-1", nil); code != http.StatusForbidden {
		t.Errorf("gate-2 redeeming gate-1's rekey token: %d; want 403", code)
	}
	_, newKey, _ := ed25519.GenerateKey(rand.Reader)
	if code, we := enrollAs(t, h, token, gate.id, "NNP", "gate-1", newKey); code != http.StatusOK {
		t.Fatalf("rekey: %d %+v", code, we)
	}
	got, _ := h.Store().Terminal(ctx, gate.id)
	if !got.PublicKey.Equal(newKey.Public()) || got.Name != "gate-1" || got.LastSeq != held.LastSeq || got.Events != held.Events {
		t.Errorf("after rekey: name %q, new key %v, last seq %d events %d; want gate-1, true, %d, %d",
			got.Name, got.PublicKey.Equal(newKey.Public()), got.LastSeq, got.Events, held.LastSeq, held.Events)
	}
	// The old key no longer signs for gate-1.
	gate.sell("cash")
	if err := gate.sync(); terminal.ErrorKind(err) != terminal.EUNAUTHORIZED {
		t.Errorf("sync with the replaced key: %v; want unauthorized", err)
	}
}

// TestEveryDoubleUseReported: the report names a pass let in at two lanes,
// a pass used after its sale was voided, and a settlement naming a pass the
// hub had not received that turns out to be another site's (which settles
// nothing: the pass stays unsettled where it was sold).
func TestEveryDoubleUseReported(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	gate := newTerm(t, h, "gate-1", 0)
	laneA := newTerm(t, h, "lane-a", 0)
	laneB := newTerm(t, h, "lane-b", 0)
	amb := newTermAt(t, h, "AMB", "gate-1", 0)
	syncAll(t, gate, laneA, laneB, amb)

	twice := gate.sell("cash")
	voided := gate.sell("cash")
	deferred := gate.sell("defer")
	for _, lane := range []*termEnv{laneA, laneB} { // both offline: neither knows of the other's scan
		if _, err := lane.db.UsePass(ctx, lane.admin, twice.Pass); err != nil {
			t.Fatalf("%s lets in the pass: %v", lane.name, err)
		}
	}
	if _, err := gate.db.Void(ctx, gate.admin, voided.ID, "wrong vehicle"); err != nil {
		t.Fatal(err)
	}
	// lane-a has not heard of the void yet.
	if _, err := laneA.db.UsePass(ctx, laneA.admin, voided.Pass); err != nil {
		t.Fatalf("lane-a lets in the voided pass before it hears: %v", err)
	}
	// AMB settles NNP's deferred pass, by id, before NNP's gate syncs.
	amb.mustSync()
	state, _ := h.Store().Terminal(ctx, amb.id)
	sid := uuid.Must(uuid.NewV7()).String()
	doc, _ := json.Marshal(terminal.Settlement{ID: sid, PassID: deferred.ID, Site: "AMB", Tenders: []terminal.Tender{{Kind: terminal.TenderCash, Currency: "KES", Amount: 100}}})
	b, _ := json.Marshal(terminal.PassSettled{SettlementID: sid, PassID: deferred.ID, IssuerTerminal: "gate-1", Settlement: doc})
	e := terminal.Event{Seq: state.LastSeq + 1, ID: uuid.Must(uuid.NewV7()).String(), Terminal: amb.id, Type: terminal.EventPassSettled, At: c.Now(), Actor: "admin", Payload: b, PrevHash: state.LastHash}
	e.Hash = e.ComputeHash()
	if code, _, we := postEvents(t, h, amb, []terminal.Event{e}, nil); code != http.StatusOK {
		t.Fatalf("a settlement of a pass the hub has not received: %d %+v; want taken (lanes settle offline)", code, we)
	}
	syncAll(t, laneA, laneB, gate)

	r, err := h.Hub().Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]hub.Conflict{}
	for _, c := range r.Conflicts {
		got[c.Kind+" "+c.PassID] = c
	}
	if c, ok := got["used_twice "+twice.ID]; !ok || len(c.Uses) != 2 || c.Uses[0].Terminal == c.Uses[1].Terminal {
		t.Errorf("used_twice: %+v (found %v); want lane-a and lane-b", c, ok)
	}
	if c, ok := got["used_after_void "+voided.ID]; !ok || len(c.Uses) != 1 || c.Uses[0].Terminal != "lane-a" {
		t.Errorf("used_after_void: %+v (found %v); want lane-a's use", c, ok)
	}
	if c, ok := got["forbidden_reference "+deferred.ID]; !ok || c.Site != "AMB" {
		t.Errorf("forbidden_reference: %+v (found %v); want AMB's settlement of NNP's pass", c, ok)
	}
	if len(r.Conflicts) != 3 {
		t.Errorf("conflicts: %+v; want exactly those three", r.Conflicts)
	}
	var stillUnsettled bool
	for _, u := range r.Unsettled {
		stillUnsettled = stillUnsettled || u.SaleID == deferred.ID && u.Site == "NNP"
	}
	if !stillUnsettled {
		t.Errorf("NNP's deferred pass is no longer unsettled after AMB's settlement: %+v", r.Unsettled)
	}
}

// TestStolenTerminalCutOff: `lango-hub terminal revoke` reaches every lane
// of the site through the feed; from then on each refuses as revoked the
// revoked terminal's passes that the hub had not received before the
// revocation, and honours those it had. Other terminals' passes are not
// touched.
func TestStolenTerminalCutOff(t *testing.T) {
	ctx := context.Background()
	h := newHub(t, &clock{})
	stolen := newTerm(t, h, "gate-1", 0)
	gate2 := newTerm(t, h, "gate-2", 0)
	lanes := []*termEnv{newTerm(t, h, "exit-1", 0), newTerm(t, h, "exit-2", 0)}
	synced := stolen.sell("cash")
	stolen.mustSync()
	unsynced := stolen.sell("cash") // sold (or forged) after the last sync
	other := gate2.sell("cash")
	gate2.mustSync()

	if err := h.Hub().RevokeTerminal(ctx, "NNP", "gate-1"); err != nil {
		t.Fatal(err)
	}
	forged := stolen.sell("cash") // the thief goes on issuing passes
	for _, lane := range lanes {
		lane.mustSync()
		for _, c := range []struct {
			name    string
			pass    string
			revoked bool
		}{{"synced before the revocation", synced.Pass, false}, {"never received", unsynced.Pass, true}, {"issued after", forged.Pass, true}, {"gate-2's", other.Pass, false}} {
			pc, err := lane.db.CheckPass(ctx, c.pass)
			if err != nil {
				t.Fatal(err)
			}
			got := pc.Refusal != nil && pc.Refusal.Reason == pass.Revoked
			if got != c.revoked || !c.revoked && pc.Refusal != nil {
				t.Errorf("%s: pass %s: refusal %v; want revoked %v", lane.name, c.name, pc.Refusal, c.revoked)
			}
		}
	}
	// The revoked terminal itself is refused by the hub.
	if err := stolen.sync(); wireCode(err) != wire.CodeRevoked {
		t.Errorf("the revoked terminal syncs: %v; want revoked", err)
	}
	// A second exchange brings nothing new and changes nothing.
	lanes[0].mustSync()
	if pc, _ := lanes[0].db.CheckPass(ctx, synced.Pass); pc.Refusal != nil {
		t.Errorf("after another exchange the honoured pass is refused: %v", pc.Refusal)
	}
}

// TestRevocationCutShortIsRefused: a revocation whose honoured set does not
// hash to its digest (an id slipped in on the way) is refused by the
// terminal, which records nothing of it.
func TestRevocationCutShortIsRefused(t *testing.T) {
	ctx := context.Background()
	h := newHub(t, &clock{})
	stolen := newTerm(t, h, "gate-1", 0)
	lane := newTerm(t, h, "exit-1", 0)
	stolen.sell("cash")
	stolen.mustSync()
	forged := stolen.sell("cash")
	if err := h.Hub().RevokeTerminal(ctx, "NNP", "gate-1"); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+h.path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE revocations SET honoured = honoured || ? || char(10)`, forged.ID); err != nil {
		t.Fatal(err)
	}
	if err := lane.sync(); !strings.Contains(fmt.Sprint(err), "digest") {
		t.Fatalf("sync with a tampered revocation: %v; want refused for its digest", err)
	}
	var n int
	lane.db.SQL().QueryRow(`SELECT count(*) FROM revoked_issuers`).Scan(&n)
	if n != 0 {
		t.Errorf("%d revoked issuers recorded from a tampered revocation", n)
	}
}
