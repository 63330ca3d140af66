package sqlite_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// oldStore copies testdata/pre0017.db.gz, a store made by the code before
// payloads were compressed (commit 0a9cfa0, testdata/pre0017_gen.go.txt:
// 17 events, JSON payloads, every previous hash stored; admin's shift open),
// to a file of its own and returns its path.
func oldStore(t testing.TB) string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "pre0017.db.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "lango.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// storedForms counts the events stored as the old code stored them (the
// payload as it is, the previous hash in the row) and as this code does
// (compressed, the previous hash left to the previous row).
func storedForms(t testing.TB, db *sqlite.DB) (old, compressed int) {
	t.Helper()
	if err := db.SQL().QueryRow(`SELECT count(*) FILTER (WHERE substr(payload, 1, 1) = CAST('{' AS BLOB) AND (prev_hash != '' OR seq = 1)),
		count(*) FILTER (WHERE substr(payload, 1, 1) = x'01' AND prev_hash = '') FROM events`).Scan(&old, &compressed); err != nil {
		t.Fatal(err)
	}
	return old, compressed
}

// TestStoreMadeBeforeCompression opens a store the code before migration
// 0017 made, sells into it with this code, and checks that the old and the
// new rows read back as the same bytes their hashes cover: the audit, the
// events sync would send, the sales, a void of an old sale, the Z-report
// over both, and an archive run across the two forms.
func TestStoreMadeBeforeCompression(t *testing.T) {
	ctx := context.Background()
	path := oldStore(t)
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var last string
	if err := db.SQL().QueryRow(`SELECT max(at) FROM events`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	start, _ := time.Parse(time.RFC3339Nano, last)
	var tick atomic.Int64
	db.Now = func() time.Time { return start.Add(time.Duration(tick.Add(1)) * time.Second) }
	if err := db.VerifyAudit(ctx); err != nil {
		t.Fatalf("audit of the old store: %v", err)
	}
	before, err := db.Events(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if old, compressed := storedForms(t, db); old != len(before) || compressed != 0 || old != 17 {
		t.Fatalf("the old store holds %d old-form and %d compressed events of %d; want 17, 0", old, compressed, len(before))
	}
	oldSales, err := db.Sales(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}

	admin, err := db.Authenticate(ctx, "admin", "1234")
	if err != nil {
		t.Fatal(err)
	}
	iss, err := db.PassIssuer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var made []*terminal.Sale
	for range 5 {
		res, err := db.Sell(ctx, admin, terminal.SaleRequest{Lines: familyCar(), Vehicle: "KCD 777B", Tenders: mustTender(t, "cash")}, iss)
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, res.Sale)
	}
	if _, err := db.Void(ctx, admin, oldSales[0].ID, "keyed twice"); err != nil { // an old document read, a new event written
		t.Fatalf("void of a sale the old code made: %v", err)
	}
	if _, err := db.Refund(ctx, admin, made[0].ID, "visitor left"); err != nil {
		t.Fatal(err)
	}
	old, compressed := storedForms(t, db)
	if old != 17 || compressed < 7 {
		t.Fatalf("after new sales: %d old-form, %d compressed events; want the 17 old ones kept and the new ones (at least 7) compressed", old, compressed)
	}

	if err := db.VerifyAudit(ctx); err != nil {
		t.Fatalf("audit across old and compressed rows: %v", err)
	}
	// What sync sends: every event's own bytes, hashing to its hash and
	// linking to the one before; the old events byte for byte as before.
	all, err := db.Events(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range all {
		if e.ComputeHash() != e.Hash {
			t.Errorf("event %d: its payload %.40q… does not hash to its hash", e.Seq, e.Payload)
		}
		if i > 0 && e.PrevHash != all[i-1].Hash {
			t.Errorf("event %d: previous hash %.12s; want %.12s", e.Seq, e.PrevHash, all[i-1].Hash)
		}
		if i < len(before) && !bytes.Equal(e.Payload, before[i].Payload) {
			t.Errorf("event %d of the old store reads differently now", e.Seq)
		}
	}
	for _, s := range append(oldSales[1:], made...) {
		got, err := db.Sale(ctx, s.ID)
		if err != nil {
			t.Fatalf("sale %d: %v", s.Number, err)
		}
		if got.Pass != s.Pass || got.Totals["KES"] != s.Totals["KES"] || got.Number != s.Number {
			t.Errorf("sale %d reads back as %d %v; want its document", s.Number, got.Number, got.Totals)
		}
	}
	z, err := db.CloseShift(ctx, admin, terminal.Totals{"KES": 0})
	if err != nil {
		t.Fatal(err)
	}
	// The old store: 6 paid + 1 deferred (settled) + 1 M-PESA sales, a
	// void, a refund; now 5 more, one of the old voided, one refunded.
	if z.Sales != len(oldSales)-1-2+5 || z.Voided != 2 || z.Refunds != 2 {
		t.Errorf("Z-report: %d sales, %d voided, %d refunds over %d old and 5 new rows", z.Sales, z.Voided, z.Refunds, len(oldSales))
	}

	if all, err = db.Events(ctx, 0, 1000); err != nil { // and the shift's close
		t.Fatal(err)
	}

	// The archive across both forms: every event but the head goes to a
	// file (as its own bytes), and the audit goes on from its checkpoint.
	st, err := db.SyncState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SyncAcked(ctx, "hub", st.LastSeq); err != nil {
		t.Fatal(err)
	}
	tick.Add(int64(3 * 24 * time.Hour / time.Second))
	res, err := db.Archive(ctx, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if res.Through != st.LastSeq-1 || res.Live != 1 {
		t.Fatalf("archive: through %d, %d live; want through %d, the head live", res.Through, res.Live, st.LastSeq-1)
	}
	if err := db.VerifyAudit(ctx); err != nil {
		t.Fatalf("audit across the archive of old and compressed rows: %v", err)
	}
	again, err := db.Events(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != len(all) {
		t.Fatalf("%d events from the archive and the store; want %d", len(again), len(all))
	}
	for i := range again {
		if !bytes.Equal(again[i].Payload, all[i].Payload) || again[i].Hash != all[i].Hash || again[i].PrevHash != all[i].PrevHash {
			t.Errorf("event %d reads differently from the archive", again[i].Seq)
		}
	}
	if got, err := db.Sale(ctx, made[1].ID); err != nil || got.Pass != made[1].Pass {
		t.Errorf("archived compressed sale: %v, %v", got, err)
	}
}

// BenchmarkPayloadCodec is the CPU a sale's payload costs to store
// compressed and to read back: a signed sale's document (a family car,
// the pass with its certificate) against the dictionary its tag made.
func BenchmarkPayloadCodec(b *testing.B) {
	f := newTerminal(b, nil)
	ctx := context.Background()
	iss := issuer(b, f)
	for range 2 { // the first made the dictionary, of itself
		if _, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Vehicle: "KCB 123A", Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}, iss); err != nil {
			b.Fatal(err)
		}
	}
	var stored []byte
	if err := f.db.SQL().QueryRow(`SELECT payload FROM events WHERE type = 'sale.created' ORDER BY seq DESC LIMIT 1`).Scan(&stored); err != nil {
		b.Fatal(err)
	}
	raw, err := sqlite.DecodePayload(f.db, stored)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		for b.Loop() {
			out, err := sqlite.EncodePayload(f.db, raw)
			if err != nil {
				b.Fatal(err)
			}
			n = len(out)
		}
		b.ReportMetric(float64(len(raw)), "raw-bytes")
		b.ReportMetric(float64(n), "stored-bytes")
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := sqlite.DecodePayload(f.db, stored); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestPayloadDictionaryAShift: the first sale of a shift makes its
// dictionary, once: sales alternating between two operators' shifts reuse
// theirs, and every stored form reads back as the document sold.
func TestPayloadDictionaryAShift(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	iss := issuer(t, f)
	if _, err := f.db.AddOperator(ctx, f.admin, "kamau", "attendant", "8642"); err != nil {
		t.Fatal(err)
	}
	kamau, err := f.db.Authenticate(ctx, "kamau", "8642")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.OpenShift(ctx, kamau, terminal.Totals{"KES": 0}); err != nil {
		t.Fatal(err)
	}
	dicts := func() (n int) {
		t.Helper()
		if err := f.db.SQL().QueryRow(`SELECT count(*) FROM payload_dicts`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var sold []*terminal.Sale
	sell := func(op *terminal.Operator) {
		t.Helper()
		res, err := f.db.Sell(ctx, op, terminal.SaleRequest{Lines: familyCar(), Vehicle: "KCB 123A", Tenders: mustTender(t, "cash")}, iss)
		if err != nil {
			t.Fatal(err)
		}
		sold = append(sold, res.Sale)
	}
	for range 5 {
		sell(f.admin)
		sell(kamau)
	}
	if n := dicts(); n != 2 {
		t.Fatalf("%d dictionaries after 10 sales in two shifts; want 2", n)
	}
	if _, err := f.db.CloseShift(ctx, f.admin, terminal.Totals{"KES": 0}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.OpenShift(ctx, f.admin, terminal.Totals{"KES": 0}); err != nil {
		t.Fatal(err)
	}
	sell(f.admin)
	if n := dicts(); n != 3 {
		t.Fatalf("%d dictionaries after a new shift's sale; want 3", n)
	}
	var raw, compressed int
	f.db.SQL().QueryRow(`SELECT count(*) FILTER (WHERE substr(payload, 1, 1) != x'01'), count(*) FILTER (WHERE substr(payload, 1, 1) = x'01') FROM events WHERE type = 'sale.created'`).Scan(&raw, &compressed)
	if raw != 0 || compressed != len(sold) {
		t.Errorf("sale events: %d stored as they are, %d compressed; want all %d compressed", raw, compressed, len(sold))
	}
	for _, s := range sold {
		got, err := f.db.Sale(ctx, s.ID)
		if err != nil || got.Pass != s.Pass || got.ShiftID != s.ShiftID {
			t.Fatalf("sale %d: %v %v", s.Number, got, err)
		}
	}
	if err := f.db.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestPayloadDictionaryOfAnotherProcess: a store open in one process (the
// kiosk) reads sales another process (the command line) compressed with a
// dictionary it made after the first one opened the store, in a listing
// too, whose rows hold the store's one connection while it reads them.
func TestPayloadDictionaryOfAnotherProcess(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	kiosk, err := sqlite.Open(ctx, f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer kiosk.Close()
	kiosk.Now = f.db.Now
	// The other process sells: the shift's first sale makes a dictionary
	// the kiosk has not read.
	var ids []string
	for range 3 {
		res, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Vehicle: "KCB 123A", Tenders: mustTender(t, "cash")}, issuer(t, f))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Sale.ID)
	}
	n := 0
	if err := kiosk.EachSale(ctx, terminal.SaleQuery{}, func(s *terminal.Sale) error {
		if s.ID != ids[n] || s.Pass == "" {
			t.Errorf("sale %d: %s; want %s with its pass", n, s.ID, ids[n])
		}
		n++
		return nil
	}); err != nil {
		t.Fatalf("the kiosk's listing: %v", err)
	}
	if n != len(ids) {
		t.Fatalf("the kiosk listed %d sales; want %d", n, len(ids))
	}
	if err := kiosk.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}

// FuzzDecodePayload: whatever bytes a payload row holds (damaged, edited),
// decoding gives bytes or an error, never a panic; a row that is not in
// the compressed form reads as it is.
func FuzzDecodePayload(f *testing.F) {
	fx := newTerminal(f, nil)
	ctx := context.Background()
	if _, err := fx.db.Sell(ctx, fx.admin, terminal.SaleRequest{Lines: familyCar(), Vehicle: "KCB 123A", Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}, nil); err != nil {
		f.Fatal(err)
	}
	var stored []byte
	if err := fx.db.SQL().QueryRow(`SELECT payload FROM events WHERE type = 'sale.created'`).Scan(&stored); err != nil {
		f.Fatal(err)
	}
	f.Add(stored)
	f.Add([]byte(`{"id":"x"}`))
	f.Add([]byte{0x01})
	f.Add([]byte{0x01, 0x01, 0xff, 0xff})
	f.Add([]byte{0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := sqlite.DecodePayload(fx.db, b)
		if len(b) > 0 && b[0] != 0x01 && (err != nil || !bytes.Equal(out, b)) {
			t.Fatalf("a row stored as it is reads as %q, %v", out, err)
		}
	})
}
