// Package hubtest is the conformance suite of the hub's Store interface:
// every implementation (the embedded SQLite store today, PostgreSQL next)
// runs StoreSemantics and must behave the same.
package hubtest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
)

// NewStore makes an empty store for one subtest; the suite closes it.
type NewStore func(t *testing.T) hub.Store

var t0 = time.Date(2024, 1, 3, 6, 0, 0, 0, time.UTC)

// StoreSemantics runs every behaviour of hub.Store against stores made by
// newStore.
func StoreSemantics(t *testing.T, newStore NewStore) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, hub.Store)
	}{
		{"HubIDAndAuthorities", hubIDAndAuthorities},
		{"Enrollment", enrollment},
		{"Relay", relay},
		{"Apply", apply},
		{"Authorization", authorization},
		{"Feed", feed},
		{"Quarantine", quarantine},
		{"Revocation", revocation},
		{"Catalogues", catalogues},
		{"Conflicts", conflicts},
		{"Backup", backup},
		{"Forwarding", forwarding},
		{"ForwardVoidFirst", forwardVoidFirst},
		{"Tickets", tickets},
		{"CertificateHolds", certificateHolds},
		{"MpesaLedger", mpesaLedger},
		{"ConcurrentApply", concurrentApply},
		{"ConcurrentRedeem", concurrentRedeem},
		{"ReportFromState", reportFromState},
		{"ReportCraftedSales", reportCraftedSales},
		{"MoneySections", moneySections},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			defer s.Close()
			c.fn(t, s)
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// enroll enrolls a new terminal name at site and returns it.
func enroll(t *testing.T, s hub.Store, site, name string) hub.Terminal {
	t.Helper()
	ctx := context.Background()
	tok := uuid.NewString()
	must(t, s.AddEnrollment(ctx, hub.Enrollment{TokenHash: tok, Site: site, Name: name, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	term, err := s.RedeemEnrollment(ctx, tok, hub.Terminal{ID: uuid.Must(uuid.NewV7()).String(), Site: site, Name: name, PublicKey: pub, Certificate: "cert"}, t0)
	must(t, err)
	return term
}

// chain makes n events of terminal id after (seq, prev), of type typ with
// payload from payload(i).
func chain(id string, seq int64, prev string, n int, typ string, payload func(i int) string) []terminal.Event {
	out := make([]terminal.Event, n)
	for i := range out {
		e := terminal.Event{Seq: seq + int64(i) + 1, ID: uuid.Must(uuid.NewV7()).String(), Terminal: id, Type: typ, At: t0.Add(time.Duration(i) * time.Second),
			Actor: "admin", Payload: []byte(payload(i)), PrevHash: prev}
		e.Hash = e.ComputeHash()
		out[i], prev = e, e.Hash
	}
	return out
}

func sales(site string) func(int) string {
	return func(int) string { return fmt.Sprintf(`{"id":%q,"site":%q}`, uuid.Must(uuid.NewV7()).String(), site) }
}

func hubIDAndAuthorities(t *testing.T, s hub.Store) {
	ctx := context.Background()
	id, err := s.HubID(ctx)
	must(t, err)
	if again, _ := s.HubID(ctx); id == "" || again != id {
		t.Fatalf("hub id %q then %q", id, again)
	}
	for i, kid := range []string{"k-old", "k-new"} {
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		must(t, s.AddAuthorityKey(ctx, hub.AuthorityKey{KeyID: kid, Site: "NNP", Private: priv, CreatedAt: t0.Add(time.Duration(i) * time.Hour)}))
	}
	keys, err := s.AuthorityKeys(ctx, "NNP")
	must(t, err)
	if len(keys) != 2 || keys[0].KeyID != "k-new" || keys[1].KeyID != "k-old" {
		t.Errorf("authority keys %+v; want k-new then k-old", keys)
	}
	if other, _ := s.AuthorityKeys(ctx, "AMB"); len(other) != 0 {
		t.Errorf("AMB has keys %+v", other)
	}
	must(t, s.Ping(ctx))
}

func enrollment(t *testing.T, s hub.Store) {
	ctx := context.Background()
	add := func(tok, name, rekey string, expires time.Time) {
		must(t, s.AddEnrollment(ctx, hub.Enrollment{TokenHash: tok, Site: "NNP", Name: name, TerminalID: rekey, CreatedAt: t0, ExpiresAt: expires}))
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	gate := hub.Terminal{ID: uuid.Must(uuid.NewV7()).String(), Site: "NNP", Name: "gate-1", PublicKey: pub, Certificate: "c1"}
	add("t1", "gate-1", "", t0.Add(time.Hour))
	if _, err := s.RedeemEnrollment(ctx, "nope", gate, t0); !errors.Is(err, hub.ErrTokenInvalid) {
		t.Errorf("unknown token: %v", err)
	}
	wrong := gate
	wrong.Name = "gate-2"
	if _, err := s.RedeemEnrollment(ctx, "t1", wrong, t0); !errors.Is(err, hub.ErrTokenSite) {
		t.Errorf("token for another name: %v", err)
	}
	got, err := s.RedeemEnrollment(ctx, "t1", gate, t0)
	must(t, err)
	if got.ID != gate.ID || got.Name != "gate-1" || !got.PublicKey.Equal(pub) {
		t.Errorf("enrolled %+v", got)
	}
	if again, err := s.RedeemEnrollment(ctx, "t1", gate, t0.Add(time.Minute)); err != nil || again.ID != gate.ID {
		t.Errorf("the same enrollment again: %+v, %v; want the stored terminal", again, err)
	}
	other := gate
	other.ID = uuid.Must(uuid.NewV7()).String()
	if _, err := s.RedeemEnrollment(ctx, "t1", other, t0); !errors.Is(err, hub.ErrTokenUsed) {
		t.Errorf("a spent token for another terminal: %v", err)
	}
	add("t2", "gate-1", "", t0.Add(time.Hour))
	pub2, _, _ := ed25519.GenerateKey(rand.Reader)
	takeover := hub.Terminal{ID: gate.ID, Site: "NNP", Name: "gate-1", PublicKey: pub2, Certificate: "c2"}
	if _, err := s.RedeemEnrollment(ctx, "t2", takeover, t0); !errors.Is(err, hub.ErrTerminalEnrolled) {
		t.Errorf("a new-terminal token under an enrolled id: %v", err)
	}
	if _, err := s.RedeemEnrollment(ctx, "t2", other, t0); !errors.Is(err, hub.ErrNameTaken) {
		t.Errorf("a second terminal named gate-1: %v", err)
	}
	add("t3", "gate-1", "", t0)
	if _, err := s.RedeemEnrollment(ctx, "t3", hub.Terminal{ID: uuid.Must(uuid.NewV7()).String(), Site: "NNP", Name: "gate-1", PublicKey: pub2, Certificate: "c"}, t0.Add(time.Second)); !errors.Is(err, hub.ErrTokenExpired) {
		t.Errorf("an expired token: %v", err)
	}
	add("r1", "gate-1", uuid.Must(uuid.NewV7()).String(), t0.Add(time.Hour))
	if _, err := s.RedeemEnrollment(ctx, "r1", takeover, t0); !errors.Is(err, hub.ErrTokenTerminal) {
		t.Errorf("a rekey token for another id: %v", err)
	}
	add("r2", "gate-1", gate.ID, t0.Add(time.Hour))
	re, err := s.RedeemEnrollment(ctx, "r2", takeover, t0)
	must(t, err)
	if !re.PublicKey.Equal(pub2) || re.Certificate != "c2" || re.Name != "gate-1" {
		t.Errorf("rekeyed: %+v", re)
	}
	if _, err := s.Terminal(ctx, uuid.NewString()); !errors.Is(err, hub.ErrNotFound) {
		t.Errorf("unknown terminal: %v", err)
	}
	ts, err := s.Terminals(ctx)
	must(t, err)
	if len(ts) != 1 || ts[0].ID != gate.ID {
		t.Errorf("terminals %+v", ts)
	}
	// A site's terminals are its own, in the same order.
	amb := enroll(t, s, "AMB", "gate-1")
	exit := enroll(t, s, "NNP", "exit-1")
	for site, want := range map[string][]string{"NNP": {exit.ID, gate.ID}, "AMB": {amb.ID}, "TSV": nil} {
		ts, err := s.SiteTerminals(ctx, site)
		must(t, err)
		var got []string
		for _, x := range ts {
			got = append(got, x.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("terminals of %s: %v; want %v", site, got, want)
		}
	}
}

func apply(t *testing.T, s hub.Store) {
	ctx := context.Background()
	term := enroll(t, s, "NNP", "gate-1")
	evs := chain(term.ID, 0, "", 10, terminal.EventSaleCreated, sales("NNP"))
	res, err := s.Apply(ctx, term.ID, evs[:6], t0)
	must(t, err)
	if res.Applied != 6 || res.LastSeq != 6 || res.LastHash != evs[5].Hash {
		t.Fatalf("apply: %+v", res)
	}
	// Overlapping: 4 held, 4 new.
	res, err = s.Apply(ctx, term.ID, evs[2:10], t0)
	must(t, err)
	if res.Applied != 4 || res.Duplicates != 4 || res.LastSeq != 10 {
		t.Errorf("overlapping batch: %+v", res)
	}
	// A gap.
	more := chain(term.ID, 10, evs[9].Hash, 4, terminal.EventShiftOpened, func(int) string { return `{}` })
	var gap *hub.GapError
	if _, err := s.Apply(ctx, term.ID, more[2:], t0); !errors.As(err, &gap) || gap.LastSeq != 10 {
		t.Errorf("a gap: %v", err)
	}
	// A fork: another event at a held seq.
	forked := chain(term.ID, 8, evs[7].Hash, 2, terminal.EventShiftOpened, func(int) string { return `{"x":1}` })
	var fork *hub.ForkError
	if _, err := s.Apply(ctx, term.ID, forked, t0); !errors.As(err, &fork) || fork.Seq != 9 {
		t.Errorf("a fork: %v", err)
	}
	// A broken chain is kept, with a conflict.
	more[0].Hash = more[0].ComputeHash()
	more[1].PrevHash = "00" + more[1].PrevHash[2:]
	res, err = s.Apply(ctx, term.ID, more, t0)
	must(t, err)
	if res.Applied != 4 || len(res.Conflicts) == 0 || res.Conflicts[0].Kind != "broken_chain" {
		t.Errorf("broken chain: %+v", res)
	}
	held, err := s.TerminalEvents(ctx, term.ID, 0, 100)
	must(t, err)
	if len(held) != 14 || held[13].Seq != 14 || !held[0].Equal(&evs[0]) {
		t.Errorf("terminal events: %d, last %d", len(held), held[len(held)-1].Seq)
	}
	if after, _ := s.TerminalEvents(ctx, term.ID, 12, 1); len(after) != 1 || after[0].Seq != 13 {
		t.Errorf("events after 12, limit 1: %+v", after)
	}
	if got, _ := s.Terminal(ctx, term.ID); got.LastSeq != 14 || got.Events != 14 {
		t.Errorf("terminal after apply: last seq %d, events %d", got.LastSeq, got.Events)
	}
	if _, err := s.Apply(ctx, uuid.NewString(), evs[:1], t0); !errors.Is(err, hub.ErrNotFound) {
		t.Errorf("unknown terminal: %v", err)
	}
	must(t, s.RevokeTerminal(ctx, "NNP", "gate-1", t0))
	if _, err := s.Apply(ctx, term.ID, chain(term.ID, 14, held[13].Hash, 1, terminal.EventShiftOpened, func(int) string { return `{}` }), t0); !errors.Is(err, hub.ErrRevoked) {
		t.Errorf("a revoked terminal: %v", err)
	}
	var n int
	must(t, s.ScanEvents(ctx, []string{terminal.EventSaleCreated}, func(e hub.StoredEvent) error {
		if e.Site != "NNP" || e.Name != "gate-1" {
			return fmt.Errorf("scanned %+v", e)
		}
		n++
		return nil
	}))
	if n != 10 {
		t.Errorf("scanned %d sales; want 10", n)
	}
}

func authorization(t *testing.T, s hub.Store) {
	ctx := context.Background()
	gate := enroll(t, s, "NNP", "gate-1")
	amb := enroll(t, s, "AMB", "gate-1")
	mine := chain(gate.ID, 0, "", 1, terminal.EventSaleCreated, sales("NNP"))
	theirs := chain(amb.ID, 0, "", 1, terminal.EventSaleCreated, sales("AMB"))
	_, err := s.Apply(ctx, gate.ID, mine, t0)
	must(t, err)
	_, err = s.Apply(ctx, amb.ID, theirs, t0)
	must(t, err)
	saleID := func(e terminal.Event) string { return string(e.Payload[7:43]) }
	void := func(id string) []terminal.Event {
		return chain(gate.ID, 1, mine[0].Hash, 1, terminal.EventSaleVoided, func(int) string { return `{"sale_id":"` + id + `"}` })
	}
	var fe *hub.ForbiddenError
	if _, err := s.Apply(ctx, gate.ID, void(saleID(theirs[0])), t0); !errors.As(err, &fe) {
		t.Errorf("voiding another site's sale: %v; want forbidden", err)
	}
	if _, err := s.Apply(ctx, gate.ID, void(saleID(mine[0])), t0); err != nil {
		t.Errorf("voiding its own sale: %v", err)
	}
	// The same sale twice in one batch of its own terminal is one record;
	// another terminal's sale with that id is refused, and nothing of its
	// batch is stored.
	held, _ := s.TerminalEvents(ctx, gate.ID, 0, 10)
	again := sales("NNP")(0)
	twice := chain(gate.ID, 2, held[len(held)-1].Hash, 2, terminal.EventSaleCreated, func(int) string { return again })
	if _, err := s.Apply(ctx, gate.ID, twice, t0); err != nil {
		t.Errorf("a sale sent twice in its own chain: %v", err)
	}
	before, _ := s.Counts(ctx)
	if _, err := s.Apply(ctx, amb.ID, chain(amb.ID, 1, theirs[0].Hash, 1, terminal.EventSaleCreated, func(int) string {
		return strings.Replace(again, `"NNP"`, `"AMB"`, 1)
	}), t0); !errors.As(err, &fe) {
		t.Errorf("another terminal's sale with a held id: %v; want forbidden", err)
	}
	if after, _ := s.Counts(ctx); after["events"] != before["events"] || after["records"] != before["records"] {
		t.Errorf("a refused batch changed the counts: %v, then %v", before, after)
	}
}

func feed(t *testing.T, s hub.Store) {
	ctx := context.Background()
	a := enroll(t, s, "NNP", "a")
	b := enroll(t, s, "NNP", "b")
	enroll(t, s, "AMB", "c")
	pass := func(int) string { return `{"pass_id":"` + uuid.Must(uuid.NewV7()).String() + `"}` }
	evA := chain(a.ID, 0, "", 5, terminal.EventPassUsed, pass)
	evA = append(evA, chain(a.ID, 5, evA[4].Hash, 1, terminal.EventShiftOpened, func(int) string { return `{}` })...)
	_, err := s.Apply(ctx, a.ID, evA, t0)
	must(t, err)
	page, err := s.Feed(ctx, "NNP", b.ID, map[string]int64{}, 3)
	must(t, err)
	if len(page.Events) != 3 || !page.More || page.Events[0].Terminal != a.ID {
		t.Fatalf("first page: %d events, more %v", len(page.Events), page.More)
	}
	cursors := map[string]int64{}
	for _, c := range page.Cursors {
		cursors[c.TerminalID] = c.Seq
	}
	if cursors[a.ID] != 3 {
		t.Errorf("cursor after the first page: %v", cursors)
	}
	page, err = s.Feed(ctx, "NNP", b.ID, cursors, 10)
	must(t, err)
	if len(page.Events) != 2 || page.More {
		t.Errorf("second page: %d events (the shift is not a feed type), more %v", len(page.Events), page.More)
	}
	for _, c := range page.Cursors {
		if c.TerminalID == a.ID && c.Seq != 6 {
			t.Errorf("a's cursor at the end: %d; want 6 (past the shift)", c.Seq)
		}
	}
	if own, _ := s.Feed(ctx, "NNP", a.ID, map[string]int64{}, 10); len(own.Events) != 0 {
		t.Errorf("a's own events came back in its feed: %d", len(own.Events))
	}
	if amb, _ := s.Feed(ctx, "AMB", uuid.NewString(), map[string]int64{}, 10); len(amb.Events) != 0 {
		t.Errorf("AMB's feed has NNP's events: %d", len(amb.Events))
	}
}

func quarantine(t *testing.T, s hub.Store) {
	ctx := context.Background()
	a := enroll(t, s, "NNP", "a")
	evs := chain(a.ID, 0, "", 2, terminal.EventPassUsed, func(int) string { return `{"pass_id":"` + uuid.Must(uuid.NewV7()).String() + `"}` })
	res, err := s.Apply(ctx, a.ID, evs, t0, hub.EventFlag{Seq: 1, Kind: hub.FlagQuarantine, Reason: "unreadable"})
	must(t, err)
	if res.Applied != 2 || len(res.Conflicts) != 1 || res.Conflicts[0].Kind != hub.FlagQuarantine {
		t.Errorf("apply with a quarantined event: %+v", res)
	}
	page, _ := s.Feed(ctx, "NNP", uuid.NewString(), map[string]int64{}, 10)
	if len(page.Events) != 1 || page.Events[0].Seq != 2 {
		t.Errorf("feed: %+v; want only the event not quarantined", page.Events)
	}
	held, _ := s.TerminalEvents(ctx, a.ID, 0, 10)
	if len(held) != 2 || !held[0].Equal(&evs[0]) {
		t.Errorf("the quarantined event is not given back as sent: %+v", held)
	}
}

func revocation(t *testing.T, s hub.Store) {
	ctx := context.Background()
	a := enroll(t, s, "NNP", "gate-1")
	evs := chain(a.ID, 0, "", 3, terminal.EventSaleCreated, sales("NNP"))
	_, err := s.Apply(ctx, a.ID, evs, t0)
	must(t, err)
	must(t, s.RevokeTerminal(ctx, "NNP", "gate-1", t0.Add(time.Hour)))
	if err := s.RevokeTerminal(ctx, "NNP", "gate-1", t0); !errors.Is(err, hub.ErrNotFound) {
		t.Errorf("revoking again: %v", err)
	}
	rs, err := s.Revocations(ctx, "NNP", 0, 10)
	must(t, err)
	if len(rs) != 1 || rs[0].TerminalID != a.ID || len(rs[0].Honoured) != 3 || len(rs[0].KeyIDs) == 0 || rs[0].Digest != wire.HonouredDigest(rs[0].Honoured) {
		t.Fatalf("revocations: %+v", rs)
	}
	if later, _ := s.Revocations(ctx, "NNP", rs[0].N, 10); len(later) != 0 {
		t.Errorf("revocations after the last: %+v", later)
	}
	if got, _ := s.Terminal(ctx, a.ID); !got.Revoked() {
		t.Error("the terminal is not revoked")
	}
}

func catalogues(t *testing.T, s hub.Store) {
	ctx := context.Background()
	if _, ok, err := s.LatestCatalogue(ctx, "NNP"); ok || err != nil {
		t.Errorf("a catalogue before any publication: %v %v", ok, err)
	}
	must(t, s.PublishCatalogue(ctx, hub.Catalogue{Site: "NNP", Seq: 10, Version: "v1", Body: []byte("{}"), Signature: []byte("s"), KeyID: "k", PublishedAt: t0}))
	if err := s.PublishCatalogue(ctx, hub.Catalogue{Site: "NNP", Seq: 10, Version: "v2", Body: []byte("{}"), Signature: []byte("s"), KeyID: "k", PublishedAt: t0}); terminal.ErrorKind(err) != terminal.ECONFLICT {
		t.Errorf("a publication not above the last: %v", err)
	}
	must(t, s.PublishCatalogue(ctx, hub.Catalogue{Site: "NNP", Seq: 11, Version: "v2", Body: []byte(`{"a":1}`), Signature: []byte("s"), KeyID: "k", PublishedAt: t0}))
	c, ok, err := s.LatestCatalogue(ctx, "NNP")
	must(t, err)
	if !ok || c.Seq != 11 || c.Version != "v2" || string(c.Body) != `{"a":1}` {
		t.Errorf("latest: %+v", c)
	}
}

func conflicts(t *testing.T, s hub.Store) {
	ctx := context.Background()
	c := hub.Conflict{Kind: "forbidden_reference", Site: "NNP", TerminalID: "t", Seq: 4, Reason: "r", At: t0}
	must(t, s.AddConflict(ctx, c))
	must(t, s.AddConflict(ctx, c)) // the same again: once
	c.Reason = "another"
	must(t, s.AddConflict(ctx, c))
	got, err := s.Conflicts(ctx)
	must(t, err)
	if len(got) != 2 || got[0].Reason != "r" || got[1].Reason != "another" {
		t.Errorf("conflicts: %+v", got)
	}
}

func backup(t *testing.T, s hub.Store) {
	ctx := context.Background()
	enroll(t, s, "NNP", "gate-1")
	path := filepath.Join(t.TempDir(), "backup")
	must(t, s.Backup(ctx, path))
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Errorf("backup: %v, %v", fi, err)
	}
	counts, err := s.Counts(ctx)
	must(t, err)
	if counts["terminals"] != 1 || counts["enrollments"] != 1 {
		t.Errorf("counts %v", counts)
	}
}

// relay: a relay token enrolls a terminal row marked Relay (kept through a
// rekey); a terminal token never does; a relay is no peer in its site's
// feed.
func relay(t *testing.T, s hub.Store) {
	ctx := context.Background()
	tok := uuid.NewString()
	must(t, s.AddEnrollment(ctx, hub.Enrollment{TokenHash: tok, Site: "NNP", Name: "hq", Relay: true, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	r, err := s.RedeemEnrollment(ctx, tok, hub.Terminal{ID: uuid.Must(uuid.NewV7()).String(), Site: "NNP", Name: "hq", PublicKey: pub, Certificate: "cert"}, t0)
	must(t, err)
	if !r.Relay {
		t.Fatalf("a relay token enrolled %+v; want Relay set", r)
	}
	if got, err := s.Terminal(ctx, r.ID); err != nil || !got.Relay {
		t.Errorf("Terminal(relay) = %+v, %v; want Relay set", got, err)
	}
	a := enroll(t, s, "NNP", "a")
	if a.Relay {
		t.Errorf("a terminal token enrolled a relay: %+v", a)
	}
	rekey := uuid.NewString()
	must(t, s.AddEnrollment(ctx, hub.Enrollment{TokenHash: rekey, Site: "NNP", Name: "hq", TerminalID: r.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	pub2, _, _ := ed25519.GenerateKey(rand.Reader)
	r2, err := s.RedeemEnrollment(ctx, rekey, hub.Terminal{ID: r.ID, Site: "NNP", Name: "hq", PublicKey: pub2, Certificate: "cert2"}, t0)
	must(t, err)
	if !r2.Relay || !r2.PublicKey.Equal(pub2) {
		t.Errorf("after a rekey: %+v; want Relay kept and the new key", r2)
	}
	page, err := s.Feed(ctx, "NNP", a.ID, map[string]int64{}, 10)
	must(t, err)
	for _, c := range page.Cursors {
		if c.TerminalID == r.ID {
			t.Errorf("the relay is a peer in the site feed: %+v", page.Cursors)
		}
	}
	page, err = s.Feed(ctx, "NNP", r.ID, map[string]int64{}, 10)
	must(t, err)
	if len(page.Cursors) != 1 || page.Cursors[0].TerminalID != a.ID {
		t.Errorf("the relay's feed peers: %+v; want terminal a only", page.Cursors)
	}
}

// concurrentApply: batches of one terminal's chain applied at once from
// several goroutines (as from several hub processes) store every event
// exactly once, in order: each is applied by exactly one of them.
func concurrentApply(t *testing.T, s hub.Store) {
	ctx := context.Background()
	term := enroll(t, s, "NNP", "gate-1")
	evs := chain(term.ID, 0, "", 60, terminal.EventSaleCreated, sales("NNP"))
	var mu sync.Mutex
	applied, dups := 0, 0
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each worker sends the chain from the start in batches of
			// 10+w, retrying from the hub's last seq after a gap.
			size := 10 + w
			for next := int64(1); next <= 60; {
				end := min(next-1+int64(size), 60)
				res, err := s.Apply(ctx, term.ID, evs[next-1:end], t0)
				var gap *hub.GapError
				if errors.As(err, &gap) {
					next = gap.LastSeq + 1
					continue
				}
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
				mu.Lock()
				applied += res.Applied
				dups += res.Duplicates
				mu.Unlock()
				next = res.LastSeq + 1
			}
		}()
	}
	wg.Wait()
	if applied != 60 {
		t.Errorf("applied %d events in all (%d duplicates); want each of the 60 applied once", applied, dups)
	}
	held, err := s.TerminalEvents(ctx, term.ID, 0, 100)
	must(t, err)
	if len(held) != 60 {
		t.Fatalf("the hub holds %d events; want 60", len(held))
	}
	for i := range held {
		if !held[i].Equal(&evs[i]) {
			t.Fatalf("event %d is not the one sent", i+1)
		}
	}
	if got, _ := s.Terminal(ctx, term.ID); got.LastSeq != 60 || got.Events != 60 {
		t.Errorf("terminal: last seq %d, events %d; want 60, 60", got.LastSeq, got.Events)
	}
	if c, _ := s.Counts(ctx); c["events"] != 60 || c["records"] != 60 {
		t.Errorf("counts %v; want 60 events and 60 records", c)
	}
}

// concurrentRedeem: one token redeemed at once by several new terminals
// enrolls exactly one of them.
func concurrentRedeem(t *testing.T, s hub.Store) {
	ctx := context.Background()
	must(t, s.AddEnrollment(ctx, hub.Enrollment{TokenHash: "tok", Site: "NNP", Name: "gate-1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pub, _, _ := ed25519.GenerateKey(rand.Reader)
			_, err := s.RedeemEnrollment(ctx, "tok", hub.Terminal{ID: uuid.Must(uuid.NewV7()).String(), Site: "NNP", Name: "gate-1", PublicKey: pub, Certificate: "c"}, t0)
			switch {
			case err == nil:
				mu.Lock()
				ok++
				mu.Unlock()
			case !errors.Is(err, hub.ErrTokenUsed):
				t.Errorf("redeem: %v; want ErrTokenUsed", err)
			}
		}()
	}
	wg.Wait()
	if ts, _ := s.Terminals(ctx); ok != 1 || len(ts) != 1 {
		t.Errorf("%d redemptions succeeded, %d terminals; want 1, 1", ok, len(ts))
	}
}
