package sqlite_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
	"github.com/lango-pos/lango/terminal/ticket"
)

var updateCorpus = flag.Bool("update", false, "rewrite testdata/events/v1.jsonl from the writers of this code")

const corpusPath = "../../testdata/events/v1.jsonl"

// corpusEvents drives one terminal through every kind of event it writes
// and returns the first event of each type, as stored.
func corpusEvents(t *testing.T) []terminal.Event {
	ctx := context.Background()
	f := newTerminal(t, map[string]string{"printer": "emulator:" + t.TempDir()})
	db, admin := f.db, f.admin
	iss := issuer(t, f)
	if _, err := db.AddOperator(ctx, admin, "kamau", "attendant", "8642"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetOperatorPIN(ctx, admin, "kamau", "9753"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		db.Authenticate(ctx, "kamau", "0000") // locks kamau: operator.locked
	}
	if _, err := db.Unlock(ctx, admin, "kamau"); err != nil { // operator.unlocked
		t.Fatal(err)
	}
	if _, err := db.DisableOperator(ctx, admin, "kamau"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetSetting(ctx, "admin", "language", "sw"); err != nil {
		t.Fatal(err)
	}
	paid, err := db.Sell(ctx, admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 2}}, Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}, iss)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.UsePass(ctx, admin, paid.Sale.Pass); err != nil {
		t.Fatal(err)
	}
	deferred, err := db.Sell(ctx, admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1}, {Code: "CAR", Qty: 1}}, Vehicle: "KDA 123A",
		Tenders: []terminal.TenderRequest{{Kind: terminal.TenderDefer}}}, iss)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Settle(ctx, admin, deferred.Sale.Pass, []terminal.TenderRequest{{Kind: terminal.TenderCash}}); err != nil {
		t.Fatal(err)
	}
	mpesa, _ := terminal.ParseTender("mpesa:SAB1234567")
	third, err := db.Sell(ctx, admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-CHILD", Qty: 1}}, Vehicle: "KCB 456Z", Tenders: []terminal.TenderRequest{mpesa}}, iss)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Reprint(ctx, admin, third.Sale.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Refund(ctx, admin, paid.Sale.ID, "visitor left"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Void(ctx, admin, third.Sale.ID, "keyed twice"); err != nil {
		t.Fatal(err)
	}
	if err := db.ApplyTickets(ctx, "hub", []ticket.Change{prepaid("KWS-2025-0001234567", 1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UseTicket(ctx, admin, "ECT:KWS-2025-0001234567", ticket.UseRequest{Party: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 3}},
		Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.RefuseHubCatalogue(ctx, 1704250800123, "KWS–2024.9", "catalogue file is not valid: version"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CloseShift(ctx, admin, terminal.Totals{"KES": 500000}); err != nil {
		t.Fatal(err)
	}
	// Enrolled with a hub (an authority made here, as a hub's would be).
	auth, err := pass.NewAuthority(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := db.TerminalKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := db.Now()
	cert, err := auth.Certify("NNP", "gate-1", key.Public().(ed25519.PublicKey), now.Add(-time.Hour), now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	certPEM, _ := cert.MarshalPEM()
	authPEM, _ := pass.MarshalPublicKeyPEM(auth.PublicKey())
	if err := db.Enrolled(ctx, certPEM, authPEM, "http://hub.example:8420"); err != nil {
		t.Fatal(err)
	}
	evs, err := db.Events(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var out []terminal.Event
	seen := map[string]bool{}
	for _, e := range evs {
		if !seen[e.Type] {
			seen[e.Type] = true
			out = append(out, e)
		}
	}
	return out
}

// TestEventCorpus: a corpus of every event type as this release writes it
// (testdata/events/v1.jsonl, reviewed when written) keeps its hash and
// decodes into the typed payload of its type, strictly: terminals in the
// field will upload these bytes for years.
func TestEventCorpus(t *testing.T) {
	if *updateCorpus {
		var b bytes.Buffer
		for _, e := range corpusEvents(t) {
			line, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(line)
			b.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.FromSlash(corpusPath), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(filepath.FromSlash(corpusPath))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var types []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e terminal.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		types = append(types, e.Type)
		if e.ComputeHash() != e.Hash {
			t.Errorf("%s (seq %d): the hash no longer matches its bytes", e.Type, e.Seq)
		}
		if _, err := terminal.DecodePayload(e.Type, e.Payload); err != nil {
			t.Errorf("%s: %v\n%s", e.Type, err, e.Payload)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, typ := range terminal.EventTypes() {
		if !slices.Contains(types, typ) {
			t.Errorf("the corpus has no %s event", typ)
		}
	}
	// And this code's writers still write what the typed payloads read.
	for _, e := range corpusEvents(t) {
		if _, err := terminal.DecodePayload(e.Type, e.Payload); err != nil {
			t.Errorf("written now: %s: %v", e.Type, err)
		}
	}
}
