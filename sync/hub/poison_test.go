package hub_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"maps"
	mathrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite/sqlitetest"
)

// queueRaw writes an event into te's outbox as an older release (or a bug)
// would have, chained after its last event, bypassing the store's checks.
func queueRaw(t *testing.T, te *termEnv, typ string, at time.Time, payload string) int64 {
	t.Helper()
	evs := te.events()
	last := evs[len(evs)-1]
	e := terminal.Event{Seq: last.Seq + 1, ID: uuid.Must(uuid.NewV7()).String(), Terminal: te.id, Type: typ, At: at, Actor: "admin", Payload: []byte(payload), PrevHash: last.Hash}
	e.Hash = e.ComputeHash()
	if _, err := te.db.SQL().Exec(`INSERT INTO events (seq, id, type, at, actor, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.ID, e.Type, at.UTC().Format("2006-01-02T15:04:05.000000000Z"), e.Actor, []byte(e.Payload), e.PrevHash, e.Hash); err != nil {
		t.Fatal(err)
	}
	return e.Seq
}

// sameEvents: the hub holds te's events exactly as te committed them, and
// te has nothing left queued.
func sameEvents(t *testing.T, h *hubEnv, te *termEnv) {
	t.Helper()
	local := te.events()
	got, err := h.Store().TerminalEvents(context.Background(), te.id, 0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(local) {
		t.Fatalf("the hub holds %d events of %s; it committed %d", len(got), te.name, len(local))
	}
	for i := range local {
		if !local[i].Equal(&got[i]) || got[i].ComputeHash() != got[i].Hash {
			t.Fatalf("event %d differs at the hub:\n got %+v\nwant %+v", i+1, got[i], local[i])
		}
	}
	st, err := te.db.SyncState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Queued() != 0 {
		t.Errorf("%s still has %d events queued", te.name, st.Queued())
	}
}

func cashTaken(r *hub.Report, site string) int64 {
	for _, tk := range r.Takings {
		if tk.Site == site && tk.Tender == "cash" && tk.Currency == "KES" {
			return tk.Amount
		}
	}
	return 0
}

// TestClockWrongOnceStillSyncs: a counter terminal whose clock reads 1970
// (a flat RTC battery) is refused at the counter with a clear message and
// records nothing; a queue written by an older release with a 1970 shift
// in it reaches the hub all the same, the event flagged, and every paid
// sale after it counts in the report.
func TestClockWrongOnceStillSyncs(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	te := newTerm(t, h, "counter-1", 0)
	te.mustSync()

	// This release: the sale is refused at the counter.
	te.skew = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).Sub(c.Now())
	before := len(te.events())
	iss, err := te.db.PassIssuer(ctx)
	if err == nil {
		_, err = te.db.Sell(ctx, te.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}, iss)
	}
	if terminal.ErrorKind(err) != terminal.EINVALID || !strings.Contains(terminal.ErrorMessage(err), "clock reads 1970-01-01") || !strings.Contains(err.Error(), "nothing was recorded") {
		t.Fatalf("a sale with the clock at 1970: %v; want refused, naming the clock", err)
	}
	if n := len(te.events()); n != before {
		t.Fatalf("the refused sale left %d events", n-before)
	}
	te.skew = 0

	// An older release's queue: a shift opened in 1970, then a day of
	// sales with the clock right.
	seq := queueRaw(t, te, terminal.EventShiftOpened, time.Date(1970, 1, 1, 0, 0, 5, 0, time.UTC), `{"float":{"KES":500000}}`)
	var paid int64
	for range 3 {
		s := te.sell("cash")
		paid += s.Totals["KES"]
	}
	te.mustSync()
	sameEvents(t, h, te)
	r, err := h.Hub().Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := cashTaken(r, "NNP"); got != paid {
		t.Errorf("cash in the report: %d; want every paid sale, %d", got, paid)
	}
	var flagged bool
	for _, c := range r.Conflicts {
		flagged = flagged || c.Kind == hub.FlagClock && c.Seq == seq && strings.Contains(c.Reason, "1970-01-01")
	}
	if !flagged {
		t.Errorf("conflicts: %+v; want clock_out_of_range at seq %d", r.Conflicts, seq)
	}
}

// TestUnreadableEventQuarantined: an event the hub cannot read (a sale
// whose site is not a string) is kept in the terminal's chain but applied
// nowhere, with a quarantined conflict; the events after it are applied,
// and the hub still gives back the terminal's chain as sent.
func TestUnreadableEventQuarantined(t *testing.T) {
	ctx := context.Background()
	h := newHub(t, &clock{})
	te := newTerm(t, h, "gate-1", 0)
	lane := newTerm(t, h, "exit-1", 0)
	te.mustSync()
	seq := queueRaw(t, te, terminal.EventSaleCreated, te.now(), `{"id":"`+uuid.Must(uuid.NewV7()).String()+`","site":5,"tenders":[{"kind":"cash","currency":"KES","amount":999900}]}`)
	voidable := te.sell("defer")
	if _, err := te.db.Void(ctx, te.admin, voidable.ID, "test"); err != nil {
		t.Fatal(err)
	}
	paid := te.sell("cash")
	te.mustSync()
	sameEvents(t, h, te)

	r, err := h.Hub().Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := cashTaken(r, "NNP"); got != paid.Totals["KES"] {
		t.Errorf("cash: %d; want only the readable sale's %d", got, paid.Totals["KES"])
	}
	var q bool
	for _, c := range r.Conflicts {
		q = q || c.Kind == hub.FlagQuarantine && c.Seq == seq
	}
	if !q {
		t.Errorf("conflicts %+v; want quarantined at %d", r.Conflicts, seq)
	}
	// The void after the quarantined event reached the other lane.
	lane.mustSync()
	if pc, err := lane.db.CheckPass(ctx, voidable.Pass); err != nil || pc.Refusal == nil {
		t.Errorf("the voided pass at exit-1: %+v, %v; want refused", pc, err)
	}
}

// TestBadCatalogueKeepsSiteSelling: a catalogue publication a terminal
// cannot use (here one that does not cover its site, as a hub of an older
// release published) is refused by the terminal, which keeps selling on its
// own and keeps syncing; sync status, and the hub's report, say so until a
// good publication replaces it.
func TestBadCatalogueKeepsSiteSelling(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	te := newTerm(t, h, "gate-1", 0)
	te.mustSync()
	keys, err := h.Store().AuthorityKeys(ctx, "NNP")
	if err != nil || len(keys) == 0 {
		t.Fatal(keys, err)
	}
	body := bytes.Replace(catalogue, []byte(`"code": "NNP",`), []byte(`"code": "XXX",`), 1)
	body = bytes.Replace(body, []byte(`"version": "`), []byte(`"version": "BAD-`), 1)
	seq := c.Now().UnixMilli()
	db, err := sql.Open("sqlite", "file:"+h.path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO catalogues (site, seq, version, body, signature, kid, published_at) VALUES ('NNP', ?, 'BAD', ?, ?, ?, ?)`,
		seq, body, ed25519.Sign(keys[0].Private, wire.CatalogueMessage("NNP", seq, body)), keys[0].KeyID, c.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}

	sold := te.sell("cash")
	if err := te.sync(); err != nil {
		t.Fatalf("sync with a bad catalogue published: %v; want it to go on", err)
	}
	sameEvents(t, h, te)
	st, _ := te.db.SyncState(ctx)
	if r := st.CatalogueRefused; r == nil || r.Seq != seq || !strings.Contains(r.Reason, "does not cover site NNP") {
		t.Fatalf("sync state: refused %+v; want publication %d, naming the site", r, seq)
	}
	// What `lango sync status --json` prints says so too.
	if status, err := te.syncer.Status(ctx); err != nil || status.CatalogueRefused == nil || status.CatalogueRefused.Seq != seq {
		t.Errorf("sync status: %+v, %v; want catalogue_refused of %d", status, err, seq)
	}
	if again := te.sell("cash"); again.Totals["KES"] != sold.Totals["KES"] {
		t.Errorf("after the refusal a sale costs %v; want the old catalogue's %v", again.Totals, sold.Totals)
	}
	te.mustSync()
	r, _ := h.Hub().Report(ctx)
	if len(r.CatalogueRefused) != 1 || r.CatalogueRefused[0].Terminal != "gate-1" || r.CatalogueRefused[0].Seq != seq {
		t.Fatalf("report: catalogue_refused %+v; want gate-1's refusal of %d", r.CatalogueRefused, seq)
	}

	good := bytes.Replace(catalogue, []byte(`"version": "`), []byte(`"version": "NEXT-`), 1)
	if _, err := h.Hub().PublishCatalogue(ctx, "NNP", good); err != nil {
		t.Fatal(err)
	}
	te.mustSync()
	if st, _ := te.db.SyncState(ctx); st.CatalogueRefused != nil {
		t.Errorf("after a good publication: refused %+v; want none", st.CatalogueRefused)
	}
	te.mustSync()
	if r, _ := h.Hub().Report(ctx); len(r.CatalogueRefused) != 0 {
		t.Errorf("report after a good publication: %+v; want none refused", r.CatalogueRefused)
	}
}

// TestRandomCataloguePublishedOrRefused: catalogues a careless
// administrator might write (sqlitetest.RandomCatalogue) are each either
// refused at publication, with a message and nothing stored, or taken by
// the site's terminal at its next sync and sold from.
func TestRandomCataloguePublishedOrRefused(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	te := newTerm(t, h, "gate-1", 0)
	te.mustSync()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := mathrand.New(mathrand.NewPCG(seed, 12))
	published, refused := 0, 0
	for i := 0; published < 25 && i < 600; i++ {
		body := sqlitetest.RandomCatalogue(r, "NNP", true)
		before, _ := h.Store().Counts(ctx)
		pub, err := h.Hub().PublishCatalogue(ctx, "NNP", body)
		if err != nil {
			refused++
			if k := terminal.ErrorKind(err); k == terminal.EINTERNAL || k == "" {
				t.Fatalf("publication refused as a %s error: %v\n%s", k, err, body)
			}
			if after, _ := h.Store().Counts(ctx); !maps.Equal(before, after) {
				t.Fatalf("a refused publication changed the store: %v → %v", before, after)
			}
			continue
		}
		published++
		te.mustSync()
		st, _ := te.db.SyncState(ctx)
		if st.CatalogueRefused != nil {
			t.Fatalf("the hub published %s but the terminal refused it: %s\n%s", pub.Version, st.CatalogueRefused.Reason, body)
		}
		cat, err := te.db.Catalogue(ctx)
		if err != nil || cat.Version != pub.Version {
			t.Fatalf("after sync the terminal sells on %v (%v); want %s", cat, err, pub.Version)
		}
		// It sells: one person of the first category and band the site
		// has a fee for.
		var line []terminal.LineRequest
		var tenders []terminal.TenderRequest // free entry needs none
		for _, cg := range cat.Categories {
			for _, b := range cat.AgeBands {
				l := []terminal.LineRequest{{Code: cg.Code + "-" + b.Code, Qty: 1}}
				if p, err := cat.Price(te.now(), "NNP", l); err == nil && line == nil {
					line = l
					if len(p.Totals.Clone().Clean()) > 0 {
						tenders = []terminal.TenderRequest{{Kind: terminal.TenderDefer}}
					}
				}
			}
		}
		if line == nil {
			continue // the class prices nobody this season: nothing to sell
		}
		iss, err := te.db.PassIssuer(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := te.db.Sell(ctx, te.admin, terminal.SaleRequest{Lines: line, Tenders: tenders}, iss); err != nil {
			t.Fatalf("catalogue %s published and taken, but %v does not sell: %v\n%s", pub.Version, line, err, body)
		}
	}
	t.Logf("%d published and sold from, %d refused at publication", published, refused)
	if published < 25 || refused == 0 {
		t.Fatalf("the generator made %d publishable and %d refused catalogues: it tests too little", published, refused)
	}
}
