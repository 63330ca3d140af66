package sqlite

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/hubtest"
	"github.com/lango-pos/lango/terminal"
)

var benchT0 = time.Date(2024, 1, 3, 6, 0, 0, 0, time.UTC)

const (
	benchTerminals = 8
	benchPerTerm   = 5000 // 40,000 events a run
	benchBatch     = 500
)

func benchEnroll(b *testing.B, s *Store, name string) hub.Terminal {
	ctx := context.Background()
	tok := uuid.NewString()
	if err := s.AddEnrollment(ctx, hub.Enrollment{TokenHash: tok, Site: "NNP", Name: name, CreatedAt: benchT0, ExpiresAt: benchT0.Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	t, err := s.RedeemEnrollment(ctx, tok, hub.Terminal{ID: uuid.Must(uuid.NewV7()).String(), Site: "NNP", Name: name, PublicKey: pub, Certificate: "c"}, benchT0)
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// benchSale is a real sale.created payload: cash, every tenth by M-PESA
// with a code of its own (prefix, i and j make it), every thousandth deferred and owed.
func benchSale(term string, prefix byte, i, j int) (string, []byte) {
	id := uuid.Must(uuid.NewV7()).String()
	at := benchT0.Add(time.Duration(j) * time.Second)
	s := terminal.Sale{ID: id, Number: int64(j + 1), Kind: "sale", Terminal: term, Site: "NNP", ShiftID: "shift", Operator: "wanjiru", At: at,
		State: terminal.SalePaid, CatalogueVersion: "2024-01", Lines: []terminal.Line{{Code: "ADULT-CIT", Qty: 2}}, Totals: terminal.Totals{"KES": 60000},
		Tenders: []terminal.Tender{{Kind: terminal.TenderCash, Currency: "KES", Amount: 100000, Change: 40000}}}
	switch {
	case j%1000 == 999:
		s.State, s.Due, s.Vehicle = terminal.SaleDeferred, terminal.Totals{"KES": 60000}, "KDA 123X"
		s.Tenders = []terminal.Tender{{Kind: terminal.TenderDefer, Currency: "KES", Amount: 60000}}
	case j%10 == 9:
		s.Tenders = []terminal.Tender{{Kind: terminal.TenderMpesa, Currency: "KES", Amount: 60000, Reference: fmt.Sprintf("%c%03d%06d", prefix, i%1000, j)}}
	}
	p, _ := json.Marshal(s)
	return id, p
}

// applyRun applies 8 terminals × 5,000 real sales in batches of 500 into
// s and returns the time it took.
func applyRun(b *testing.B, s *Store) time.Duration {
	b.StopTimer()
	ctx := context.Background()
	type chain struct {
		id     string
		events []terminal.Event
	}
	var chains []chain
	for i := range benchTerminals {
		t := benchEnroll(b, s, "b-"+uuid.NewString()[:8])
		prev := ""
		evs := make([]terminal.Event, benchPerTerm)
		for j := range evs {
			_, p := benchSale(t.ID, 'R', i, j)
			e := terminal.Event{Seq: int64(j + 1), ID: uuid.Must(uuid.NewV7()).String(), Terminal: t.ID, Type: terminal.EventSaleCreated,
				At: benchT0.Add(time.Duration(j) * time.Second), Actor: "wanjiru", Payload: p, PrevHash: prev}
			e.Hash = e.ComputeHash()
			evs[j], prev = e, e.Hash
		}
		chains = append(chains, chain{t.ID, evs})
	}
	b.StartTimer()
	start := time.Now()
	for _, c := range chains {
		for j := 0; j < len(c.events); j += benchBatch {
			if _, err := s.Apply(ctx, c.id, c.events[j:j+benchBatch], benchT0); err != nil {
				b.Fatal(err)
			}
		}
	}
	d := time.Since(start)
	b.StopTimer()
	return d
}

// BenchmarkIngestIntoFullHub is the embedded store's twin of the
// PostgreSQL one (sync/hub/postgres): 40,000 real sales applied into an
// empty hub and into one holding LANGO_BENCH_HELD events (1,000,000 by
// default) of 1,000 terminals, loaded straight into the events, records
// and report tables (the report's rows made by the same rules Apply uses,
// hub.ReportBatch), alternating for LANGO_BENCH_ROUNDS rounds (3, a new
// empty hub each) and reporting the medians (hubtest.AlternateRuns); then
// the report of the full hub (Hub.Report and its
// JSON), and with LANGO_BENCH_RESCAN=1 the old report that read every
// event.
//
// Run: go test ./sync/hub/sqlite -run '^$' -bench IntoFullHub -benchtime 1x
func BenchmarkIngestIntoFullHub(b *testing.B) {
	held := 1_000_000
	if v := os.Getenv("LANGO_BENCH_HELD"); v != "" {
		held, _ = strconv.Atoi(v)
	}
	rounds := hubtest.Rounds()
	ctx := context.Background()
	var empty, full, report, cli, rescan time.Duration
	for range b.N {
		data := b.TempDir()
		s, err := Open(ctx, filepath.Join(data, "hub.db"))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := fillHub(ctx, b, s, held); err != nil {
			b.Fatal(err)
		}
		b.Logf("loaded %d events in %v", held, time.Since(start).Round(time.Second))
		intoEmpty := func() time.Duration {
			e, err := Open(ctx, filepath.Join(b.TempDir(), "empty.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			return applyRun(b, e)
		}
		e, f := hubtest.AlternateRuns(b, rounds, intoEmpty, func() time.Duration { return applyRun(b, s) })
		empty, full = empty+e, full+f
		h := hub.New(s, hub.Options{})
		start = time.Now()
		r, err := h.Report(ctx)
		if err == nil {
			_, err = json.Marshal(r)
		}
		if err != nil {
			b.Fatal(err)
		}
		report += time.Since(start)
		b.Logf("report: %d terminals, %d takings, %d unsettled, %d conflicts, M-PESA %v (%d lines)", len(r.Terminals), len(r.Takings), len(r.Unsettled), len(r.Conflicts),
			r.Mpesa.Counts, len(r.Mpesa.Lines))
		if bin := os.Getenv("LANGO_BENCH_HUB_BIN"); bin != "" {
			cli += runReport(b, bin, data)
		}
		if os.Getenv("LANGO_BENCH_RESCAN") != "" {
			start = time.Now()
			old, err := h.RescanReport(ctx)
			if err == nil {
				_, err = json.Marshal(old)
			}
			if err != nil {
				b.Fatal(err)
			}
			rescan += time.Since(start)
		}
		s.Close()
	}
	n := float64(benchTerminals * benchPerTerm * b.N)
	b.ReportMetric(n/empty.Seconds(), "empty-events/s")
	b.ReportMetric(n/full.Seconds(), "full-events/s")
	b.ReportMetric(empty.Seconds()/full.Seconds(), "x-empty")
	b.ReportMetric(report.Seconds()/float64(b.N), "report-s")
	if cli > 0 {
		b.ReportMetric(cli.Seconds()/float64(b.N), "cli-report-s")
	}
	if rescan > 0 {
		b.ReportMetric(rescan.Seconds()/float64(b.N), "rescan-s")
	}
}

// runReport runs `lango-hub report --data DIR --json` on the embedded hub
// in data (the benchmark holds it open too: WAL, readers do not wait) and
// returns how long the process took; its peak memory is a metric.
func runReport(b *testing.B, bin, data string) time.Duration {
	cmd := exec.Command(bin, "report", "--data", data, "--json")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("lango-hub report: %v: %s", err, errb.String())
	}
	d := time.Since(start)
	var maxrss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		maxrss = ru.Maxrss // KiB on Linux
	}
	b.Logf("lango-hub report --json: %d bytes in %v, peak memory (max RSS) %d KiB", out.Len(), d, maxrss)
	b.ReportMetric(float64(maxrss)/1024, "cli-report-maxrss-MiB")
	return d
}

// fillHub loads n real sales of 1,000 terminals (hashes not chained:
// Apply looks only at each terminal's last) with their records and the
// report's state, in one transaction a terminal.
func fillHub(ctx context.Context, b *testing.B, s *Store, n int) error {
	const terms = 1000
	per := n / terms
	for i := range terms {
		name := fmt.Sprintf("full-%d", i)
		t := benchEnroll(b, s, name)
		err := s.write(ctx, func(tx *sql.Tx) error {
			var no int64
			if err := tx.QueryRowContext(ctx, `SELECT no FROM terminals WHERE id = ?`, t.ID).Scan(&no); err != nil {
				return err
			}
			ev, err := tx.PrepareContext(ctx, `INSERT INTO events (k, id, type, at, actor, payload, prev_hash, hash, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
			if err != nil {
				return err
			}
			defer ev.Close()
			rec, err := tx.PrepareContext(ctx, `INSERT INTO records (id, kind, terminal) VALUES (?, ?, ?)`)
			if err != nil {
				return err
			}
			defer rec.Close()
			pay, err := tx.PrepareContext(ctx, `INSERT INTO mpesa_payments (code, amount, account, short_code, at, source, received_at) VALUES (?, ?, 'NNP', '', ?, 'c2b', ?)`)
			if err != nil {
				return err
			}
			defer pay.Close()
			stored := make([]hub.StoredEvent, 0, per)
			zero, one := strings.Repeat("0", 64), strings.Repeat("1", 64)
			for j := range per {
				id, p := benchSale(t.ID, 'Q', i, j)
				eid := uuid.Must(uuid.NewV7()).String()
				at := benchT0.Add(time.Duration(j) * time.Second)
				if _, err := ev.ExecContext(ctx, eventKey(no, int64(j+1)), eid, terminal.EventSaleCreated, at.Format(time.RFC3339Nano), "wanjiru", p, zero, one, "2024-01-03T06:00:00Z"); err != nil {
					return err
				}
				k, _ := hub.RecordKey(id)
				if _, err := rec.ExecContext(ctx, k, hub.RecordSale, no); err != nil {
					return err
				}
				// M-PESA's payment of every code but one in a hundred (the
				// exceptions the report lists), before the state is kept.
				if j%1000 != 999 && j%10 == 9 && (j/10)%100 != 99 {
					if _, err := pay.ExecContext(ctx, fmt.Sprintf("Q%03d%06d", i%1000, j), 60000, at.Format(time.RFC3339Nano), "2024-01-03T06:00:00Z"); err != nil {
						return err
					}
				}
				stored = append(stored, hub.StoredEvent{Event: terminal.Event{Seq: int64(j + 1), ID: eid, Terminal: t.ID, Type: terminal.EventSaleCreated, At: at, Payload: p}, Site: "NNP", Name: name})
			}
			if err := keepReportStored(ctx, tx, stored); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE terminals SET last_seq = ?, last_hash = ?, events = ? WHERE no = ?`, per, one, per, no)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}
