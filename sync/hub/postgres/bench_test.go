package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/hubtest"
	"github.com/lango-pos/lango/sync/hub/mpesa"
	"github.com/lango-pos/lango/sync/hub/postgres"
	"github.com/lango-pos/lango/terminal"
)

// Ingest benchmarks: the shape of a national backlog, in miniature.
const (
	benchTerminals = 8
	benchPerTerm   = 5000 // 40,000 events a run
	benchBatch     = 500
	benchWorkers   = 2 // the machine's cores
)

// benchPayload is a sale.created payload of the size of a real one (about
// 1,400 bytes), with its own sale id.
func benchPayload() json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"id":%q,"site":"NNP","note":"%s"}`, uuid.Must(uuid.NewV7()).String(), strings.Repeat("x", 1340)))
}

// benchChains makes terms chains of n sale events each, for terminals ids.
func benchChains(ids []string, n int) [][]terminal.Event {
	out := make([][]terminal.Event, len(ids))
	for i, id := range ids {
		prev := ""
		evs := make([]terminal.Event, n)
		for j := range evs {
			e := terminal.Event{Seq: int64(j + 1), ID: uuid.Must(uuid.NewV7()).String(), Terminal: id, Type: terminal.EventSaleCreated,
				At: t0.Add(time.Duration(j) * time.Second), Actor: "admin", Payload: benchPayload(), PrevHash: prev}
			e.Hash = e.ComputeHash()
			evs[j], prev = e, e.Hash
		}
		out[i] = evs
	}
	return out
}

// BenchmarkIngest measures Apply into PostgreSQL against the limit of the
// same server in the same run: a raw COPY of the same rows (the events
// table's columns) into a bare table with no key, no index and no check,
// one transaction per 500 rows, as many streams as Apply has workers.
//
//   - copy: the limit.
//   - apply: 8 terminals × 5,000 sale events in batches of 500, two
//     workers (the cores) applying different terminals' batches at once:
//     chain checked, duplicates looked for, records authorized and
//     inserted, exactly once by key and constraint, the terminal's row
//     FOR UPDATE.
//
// Each apply run is paired with copy runs just before and after it; x-copy
// is apply's rate over the mean copy rate.
//
// Run: go test ./sync/hub/postgres -run '^$' -bench Ingest -benchtime 1x -count 5
func BenchmarkIngest(b *testing.B) {
	b.Run("copy", func(b *testing.B) {
		var total time.Duration
		for range b.N {
			total += rawCopy(b)
		}
		b.ReportMetric(float64(benchTerminals*benchPerTerm*b.N)/total.Seconds(), "events/s")
	})
	// The same with the events table's keys, for the record: what the
	// exactly-once constraints cost on their own.
	b.Run("copy-keyed", func(b *testing.B) {
		var total time.Duration
		for range b.N {
			total += rawCopyInto(b, `; ALTER TABLE bare ADD PRIMARY KEY (terminal, seq); CREATE UNIQUE INDEX ON bare (id)`)
		}
		b.ReportMetric(float64(benchTerminals*benchPerTerm*b.N)/total.Seconds(), "events/s")
	})
	b.Run("apply", func(b *testing.B) {
		var total, raw time.Duration
		for range b.N {
			before := rawCopy(b)
			total += applyRun(b, nil)
			raw += (before + rawCopy(b)) / 2
		}
		n := float64(benchTerminals * benchPerTerm * b.N)
		b.ReportMetric(n/total.Seconds(), "events/s")
		b.ReportMetric(n/raw.Seconds(), "copy-events/s")
		b.ReportMetric(raw.Seconds()/total.Seconds(), "x-copy")
	})
}

// applyRun applies the benchmark's events into a fresh store (or into s,
// when given) and returns the time it took.
func applyRun(b *testing.B, s *postgres.Store) time.Duration {
	b.StopTimer()
	ctx := context.Background()
	if s == nil {
		s, _ = open(b)
		defer s.Close()
	}
	var ids []string
	for range benchTerminals {
		ids = append(ids, enroll(b, s, "b-"+uuid.NewString()[:8]).ID)
	}
	chains := benchChains(ids, benchPerTerm)
	b.StartTimer()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, benchWorkers)
	for w := range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(chains); i += benchWorkers {
				for j := 0; j < len(chains[i]); j += benchBatch {
					if _, err := s.Apply(ctx, ids[i], chains[i][j:j+benchBatch], t0); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return d
}

// rawCopy copies the same rows into a bare table and returns the time.
func rawCopy(b *testing.B) time.Duration { return rawCopyInto(b, "") }

// rawCopyInto is rawCopy with the bare table given extra DDL (its keys).
func rawCopyInto(b *testing.B, keys string) time.Duration {
	b.StopTimer()
	ctx := context.Background()
	s, _ := open(b)
	defer s.Close()
	if _, err := s.Pool().Exec(ctx, `CREATE TABLE bare (terminal bigint, seq bigint, id uuid, type text, at text, actor text, payload bytea, prev_hash text, hash text, received_at text)`+keys); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, benchTerminals)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	chains := benchChains(ids, benchPerTerm)
	recv := t0.Format(time.RFC3339Nano)
	cols := []string{"terminal", "seq", "id", "type", "at", "actor", "payload", "prev_hash", "hash", "received_at"}
	b.StartTimer()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, benchWorkers)
	for w := range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(chains); i += benchWorkers {
				for j := 0; j < len(chains[i]); j += benchBatch {
					rows := make([][]any, 0, benchBatch)
					for _, e := range chains[i][j : j+benchBatch] {
						u, _ := uuid.Parse(e.ID)
						rows = append(rows, []any{int64(i + 1), e.Seq, pgtype.UUID{Bytes: u, Valid: true}, e.Type, e.At.UTC().Format(time.RFC3339Nano), e.Actor, []byte(e.Payload), e.PrevHash, e.Hash, recv})
					}
					tx, err := s.Pool().Begin(ctx)
					if err == nil {
						_, err = tx.CopyFrom(ctx, pgx.Identifier{"bare"}, cols, pgx.CopyFromRows(rows))
					}
					if err == nil {
						err = tx.Commit(ctx)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return d
}

// BenchmarkIngestIntoFullHub measures Apply's cost as the table grows:
// the same 40,000 events applied into an empty hub and into one already
// holding LANGO_BENCH_HELD events (1,000,000 by default; the issue's
// 10,000,000 with LANGO_BENCH_HELD=10000000), loaded by COPY straight into
// the events table, its records and the report's state (fillHub)
// beforehand. The two alternate for LANGO_BENCH_ROUNDS rounds (3), each
// round a new empty hub, and the medians are reported (hubtest.AlternateRuns):
// x-empty is the full hub's rate over the empty one's. Then
// the report of the full hub: report-s is Hub.Report and its JSON, in
// this process; with LANGO_BENCH_HUB_BIN naming a built lango-hub,
// cli-report-s is `lango-hub report --database URL --json` run as a
// process (its start, the pool, the migrations' check included); with
// LANGO_BENCH_RESCAN=1, rescan-s is the old report that read every event.
//
// Run: go test ./sync/hub/postgres -run '^$' -bench IntoFullHub -benchtime 1x
func BenchmarkIngestIntoFullHub(b *testing.B) {
	held := 1_000_000
	if v := os.Getenv("LANGO_BENCH_HELD"); v != "" {
		held, _ = strconv.Atoi(v)
	}
	rounds := hubtest.Rounds()
	ctx := context.Background()
	var empty, full, report, cli, rescan time.Duration
	var size int
	for range b.N {
		b.StopTimer()
		s, url := open(b)
		start := time.Now()
		fillHub(b, s, held)
		b.Logf("loaded %d events in %v", held, time.Since(start).Round(time.Second))
		if _, err := s.Pool().Exec(ctx, `VACUUM ANALYZE`); err != nil {
			b.Fatal(err)
		}
		e, f := hubtest.AlternateRuns(b, rounds, func() time.Duration { return applyRun(b, nil) }, func() time.Duration { return applyRun(b, s) })
		empty, full = empty+e, full+f
		h := hub.New(s, hub.Options{})
		start = time.Now()
		r, err := h.Report(ctx)
		if err != nil {
			b.Fatal(err)
		}
		out, err := json.Marshal(r)
		if err != nil {
			b.Fatal(err)
		}
		report += time.Since(start)
		size = len(out)
		b.Logf("report: %d terminals, %d takings, %d unsettled, %d conflicts, M-PESA %v (%d lines), %d bytes", len(r.Terminals), len(r.Takings), len(r.Unsettled), len(r.Conflicts),
			r.Mpesa.Counts, len(r.Mpesa.Lines), size)
		if bin := os.Getenv("LANGO_BENCH_HUB_BIN"); bin != "" {
			cli += runReport(b, bin, url)
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
	b.ReportMetric(float64(size), "report-bytes")
	if cli > 0 {
		b.ReportMetric(cli.Seconds()/float64(b.N), "cli-report-s")
	}
	if rescan > 0 {
		b.ReportMetric(rescan.Seconds()/float64(b.N), "rescan-s")
	}
}

// runReport runs `lango-hub report --json` on the database at url and
// returns how long the process took.
func runReport(b *testing.B, bin, url string) time.Duration {
	data := b.TempDir()
	if err := os.WriteFile(filepath.Join(data, "authority.key"), testKey, 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "report", "--data", data, "--database", url, "--json")
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

// fillHub loads n events of 1,000 terminals (n/1000 each, hashes not
// chained: Apply looks only at each terminal's last) into s by COPY: real
// sale.created payloads (cash, every tenth by M-PESA with its own code,
// every thousandth deferred and owed), their records, the M-PESA ledger
// (a payment for 99 codes in 100) and the report's state as Apply and the
// ledger keep it, made by the same rules (hub.ReportBatch,
// hub.MpesaChanges) and copied in. Two workers, the cores.
func fillHub(b *testing.B, s *postgres.Store, n int) {
	ctx := context.Background()
	const terms = 1000
	per := n / terms
	type term struct {
		id string
		no int64
	}
	ts := make([]term, terms)
	for i := range ts {
		t := enroll(b, s, fmt.Sprintf("full-%d", i))
		ts[i].id = t.ID
		if err := s.Pool().QueryRow(ctx, `SELECT no FROM terminals WHERE id = $1`, t.ID).Scan(&ts[i].no); err != nil {
			b.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, terms)
	for w := range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < terms; i += benchWorkers {
				if err := fillTerminal(ctx, s, ts[i].id, ts[i].no, i, per); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

func fillTerminal(ctx context.Context, s *postgres.Store, id string, no int64, i, per int) error {
	events := make([]hub.StoredEvent, per)
	ids := make([]uuid.UUID, per)
	for j := range events {
		u := uuid.Must(uuid.NewV7())
		ids[j] = u
		at := t0.Add(time.Duration(j) * time.Second)
		sale := terminal.Sale{ID: u.String(), Number: int64(j + 1), Kind: "sale", Terminal: id, Site: "NNP", ShiftID: "shift", Operator: "wanjiru", At: at,
			State: terminal.SalePaid, CatalogueVersion: "2024-01", Lines: []terminal.Line{{Code: "ADULT-CIT", Qty: 2}}, Totals: terminal.Totals{"KES": 60000},
			Tenders: []terminal.Tender{{Kind: terminal.TenderCash, Currency: "KES", Amount: 100000, Change: 40000}}}
		switch {
		case j%1000 == 999:
			sale.State, sale.Due, sale.Vehicle = terminal.SaleDeferred, terminal.Totals{"KES": 60000}, "KDA 123X"
			sale.Tenders = []terminal.Tender{{Kind: terminal.TenderDefer, Currency: "KES", Amount: 60000}}
		case j%10 == 9:
			sale.Tenders = []terminal.Tender{{Kind: terminal.TenderMpesa, Currency: "KES", Amount: 60000, Reference: fmt.Sprintf("Q%03d%06d", i, j)}}
		}
		payload, err := json.Marshal(sale)
		if err != nil {
			return err
		}
		events[j] = hub.StoredEvent{Event: terminal.Event{Seq: int64(j + 1), ID: u.String(), Terminal: id, Type: terminal.EventSaleCreated, At: at, Actor: "wanjiru",
			Payload: payload, PrevHash: strings.Repeat("0", 64), Hash: strings.Repeat("1", 64)}, Site: "NNP", Name: fmt.Sprintf("full-%d", i)}
	}
	d := hub.NewReportBatch(events).Changes(nil)
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	k := 0
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"terminal", "seq", "id", "type", "at", "actor", "payload", "prev_hash", "hash", "received_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if k == per {
				return nil, nil
			}
			e := &events[k].Event
			k++
			return []any{no, e.Seq, ids[k-1], e.Type, e.At.UTC().Format(time.RFC3339Nano), e.Actor, []byte(e.Payload), e.PrevHash, e.Hash, "2024-01-03T06:00:00Z"}, nil
		})); err != nil {
		return err
	}
	rows := make([][]any, per)
	for j := range rows {
		rows[j] = []any{ids[j], hub.RecordSale, no}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"records"}, []string{"id", "kind", "terminal"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	rows = rows[:0]
	for _, f := range d.Facts {
		rows = append(rows, []any{f.Group, f.Key, f.Kind, f.Site, f.Terminal, f.Seq, int32(f.N), f.Body})
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"report_facts"}, []string{"grp", "key", "kind", "site", "terminal", "seq", "n", "body"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	rows = rows[:0]
	for _, u := range d.Unsettled {
		rows = append(rows, []any{u.Site, u.SaleID, u.Terminal, u.Seq, u.Body})
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"report_unsettled"}, []string{"site", "sale_id", "terminal", "seq", "body"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	// The M-PESA ledger: a payment for every code but one in a hundred
	// (the exceptions the report lists), and the codes' lines and totals
	// made by the same rules (hub.MpesaChanges).
	held := hub.MpesaHeld{Facts: map[string][]hub.ReportFact{}, Payments: map[string]mpesa.Payment{}}
	for _, f := range d.Facts {
		if f.Group == hub.FactMpesa {
			held.Facts[f.Key] = append(held.Facts[f.Key], f)
		}
	}
	rows = rows[:0]
	for k, code := range d.Mpesa {
		if k%100 == 99 {
			continue
		}
		at := held.Facts[code][0].Seq // the sale's second (fillTerminal's clock)
		p := mpesa.Payment{Code: code, Amount: 60000, Account: "NNP", At: t0.Add(time.Duration(at-1) * time.Second), Source: "c2b"}
		held.Payments[code] = p
		rows = append(rows, []any{p.Code, p.Amount, p.Account, p.ShortCode, p.At.UTC().Format("2006-01-02T15:04:05.000000000Z"), p.Source, "2024-01-03T06:00:00Z"})
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"mpesa_payments"}, []string{"code", "amount", "account", "short_code", "at", "source", "received_at"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	lines, deltas, err := hub.MpesaChanges(d.Mpesa, held)
	if err != nil {
		return err
	}
	rows = rows[:0]
	for _, c := range lines {
		var line any
		if c.Line != nil {
			line = c.Line
		}
		rows = append(rows, []any{c.Code, c.Terminal, c.Status, c.Paybill, c.Recorded, c.Paid, line})
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"report_mpesa_codes"}, []string{"code", "terminal", "status", "paybill", "recorded", "paid", "line"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	for _, m := range deltas {
		if _, err := tx.Exec(ctx, `INSERT INTO report_mpesa_totals (terminal, status, paybill, codes, recorded, paid) VALUES ($1, $2, $3, $4, $5, $6)`,
			m.Terminal, m.Status, m.Paybill, m.Codes, m.Recorded, m.Paid); err != nil {
			return err
		}
	}
	for _, t := range d.Takings {
		if _, err := tx.Exec(ctx, `INSERT INTO report_takings (terminal, site, tender, currency, amount, tenders) VALUES ($1, $2, $3, $4, $5, $6)`,
			t.Terminal, t.Site, t.Tender, t.Currency, t.Amount, t.Tenders); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE terminals SET last_seq = $1, last_hash = $2, events = $1 WHERE no = $3`, per, strings.Repeat("1", 64), no); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
