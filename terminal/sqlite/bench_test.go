package sqlite_test

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// BenchmarkRawCommit is the physical limit a sale is measured against: one
// single-row INSERT committed with the same pragmas as the store (WAL,
// synchronous=FULL), on the same disk. Each commit waits for an fsync.
func BenchmarkRawCommit(b *testing.B) {
	db := openRaw(b)
	b.ReportAllocs()
	for b.Loop() {
		rawInsert(b, db)
	}
}

// openRaw opens a bare database with the store's pragmas and one table.
func openRaw(b *testing.B) *sql.DB {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "raw.db")+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	return db
}

func rawInsert(b *testing.B, db *sql.DB) {
	if _, err := db.Exec(`INSERT INTO t (v) VALUES ('a sale-sized row of about one hundred bytes, to be fair to the raw insert ........')`); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSaleAgainstRaw is the 2× budget measured as one number. Run
// one after the other, the two benchmarks above differ by ±30 % from run
// to run on the 2-core machine, whose disk is shared: here raw commits and
// sales alternate in blocks of 500, so both see the same minutes of the
// disk, and the medians of each are reported with their ratio. (Blocks,
// not turns: a raw commit made between two sales waits on their flush,
// which would flatter the ratio.)
func BenchmarkSaleAgainstRaw(b *testing.B) {
	raw := openRaw(b)
	f := newTerminal(b, nil)
	ctx := context.Background()
	req := terminal.SaleRequest{Lines: familyCar(), Vehicle: "KCB 123A", Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}
	var rawTimes, saleTimes []time.Duration
	const block = 500
	i := 0
	for b.Loop() {
		t0 := time.Now()
		if i/block%2 == 0 {
			rawInsert(b, raw)
			rawTimes = append(rawTimes, time.Since(t0))
		} else {
			if _, err := f.db.Sell(ctx, f.admin, req, nil); err != nil {
				b.Fatal(err)
			}
			saleTimes = append(saleTimes, time.Since(t0))
		}
		i++
	}
	if len(saleTimes) == 0 {
		return // the first, calibrating round of b.Loop
	}
	r, s := median(rawTimes), median(saleTimes)
	b.ReportMetric(float64(r.Microseconds()), "raw-µs")
	b.ReportMetric(float64(s.Microseconds()), "sale-µs")
	b.ReportMetric(float64(s)/float64(r), "sale/raw")
	b.ReportMetric(float64(mean(saleTimes))/float64(mean(rawTimes)), "mean-sale/raw")
}

func mean(d []time.Duration) time.Duration {
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return sum / time.Duration(len(d))
}

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
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
