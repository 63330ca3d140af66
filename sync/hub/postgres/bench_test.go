package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/lango-pos/lango/sync/hub"
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
						rows = append(rows, []any{int64(i + 1), e.Seq, u, e.Type, e.At.UTC().Format(time.RFC3339Nano), e.Actor, []byte(e.Payload), e.PrevHash, e.Hash, recv})
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
// the events table (and its records) beforehand. x-empty is the full
// hub's rate over the empty one's.
//
// Run: go test ./sync/hub/postgres -run '^$' -bench IntoFullHub -benchtime 1x
func BenchmarkIngestIntoFullHub(b *testing.B) {
	held := 1_000_000
	if v := os.Getenv("LANGO_BENCH_HELD"); v != "" {
		held, _ = strconv.Atoi(v)
	}
	ctx := context.Background()
	var empty, full time.Duration
	for range b.N {
		empty += applyRun(b, nil)
		b.StopTimer()
		s, _ := open(b)
		start := time.Now()
		fill(b, s, held)
		b.Logf("loaded %d events in %v", held, time.Since(start).Round(time.Second))
		if _, err := s.Pool().Exec(ctx, `VACUUM ANALYZE`); err != nil {
			b.Fatal(err)
		}
		full += applyRun(b, s)
		s.Close()
	}
	n := float64(benchTerminals * benchPerTerm * b.N)
	b.ReportMetric(n/empty.Seconds(), "empty-events/s")
	b.ReportMetric(n/full.Seconds(), "full-events/s")
	b.ReportMetric(empty.Seconds()/full.Seconds(), "x-empty")
}

// fill loads n events of 1,000 terminals (n/1000 each, hashes not
// chained: Apply looks only at each terminal's last) into s by COPY.
func fill(b *testing.B, s *postgres.Store, n int) {
	ctx := context.Background()
	const terms = 1000
	per := n / terms
	payload := []byte(benchPayload())
	for t := range terms {
		term := enroll(b, s, fmt.Sprintf("full-%d", t))
		var no int64
		if err := s.Pool().QueryRow(ctx, `SELECT no FROM terminals WHERE id = $1`, term.ID).Scan(&no); err != nil {
			b.Fatal(err)
		}
		seq := 0
		_, err := s.Pool().CopyFrom(ctx, pgx.Identifier{"events"}, []string{"terminal", "seq", "id", "type", "at", "actor", "payload", "prev_hash", "hash", "received_at"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if seq == per {
					return nil, nil
				}
				seq++
				return []any{no, int64(seq), uuid.Must(uuid.NewV7()), terminal.EventSaleCreated, "2024-01-03T06:00:00Z", "admin", payload, strings.Repeat("0", 64), strings.Repeat("1", 64), "2024-01-03T06:00:00Z"}, nil
			}))
		if err != nil {
			b.Fatal(err)
		}
		seq = 0
		if _, err := s.Pool().CopyFrom(ctx, pgx.Identifier{"records"}, []string{"id", "kind", "terminal"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if seq == per {
					return nil, nil
				}
				seq++
				return []any{uuid.Must(uuid.NewV7()), hub.RecordSale, no}, nil
			})); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Pool().Exec(ctx, `UPDATE terminals SET last_seq = $1, last_hash = $2, events = $1 WHERE no = $3`, per, strings.Repeat("1", 64), no); err != nil {
			b.Fatal(err)
		}
	}
}
