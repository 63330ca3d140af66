package sqlite_test

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// BenchmarkRawCommit is the physical limit a sale is measured against: one
// single-row INSERT committed with the same pragmas as the store (WAL,
// synchronous=FULL), on the same disk. Each commit waits for an fsync.
func BenchmarkRawCommit(b *testing.B) {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "raw.db")+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.Exec(`INSERT INTO t (v) VALUES ('a sale-sized row of about one hundred bytes, to be fair to the raw insert ........')`); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSale is a complete durable sale as issue 2 defines it: pricing,
// tendering, the sale row, its tenders and its chained event (the outbox and
// audit record), in one commit.
func BenchmarkSale(b *testing.B) { benchSale(b, nil) }

// BenchmarkSaleWithPrintJob adds what a gate with a printer also commits
// with each sale: its print job.
func BenchmarkSaleWithPrintJob(b *testing.B) {
	benchSale(b, map[string]string{"printer": "emulator:" + b.TempDir()})
}

func benchSale(b *testing.B, settings map[string]string) {
	f := newTerminal(b, settings)
	ctx := context.Background()
	req := terminal.SaleRequest{Lines: familyCar(), Vehicle: "KCB 123A", Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.db.Sell(ctx, f.admin, req, nil); err != nil {
			b.Fatal(err)
		}
	}
}
