package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/lango-pos/lango/sync/client"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkNationalBacklog: the morning after a day-long outage. T
// terminals (LANGO_BENCH_TERMINALS, 2,000) of 14 sites, each with E queued sales
// (LANGO_BENCH_EVENTS, 500: real sale.created payloads, each its own sale
// id) drain at once, C at a time (LANGO_BENCH_CONCURRENCY, 64), through
// two real `lango-hub serve` processes on one PostgreSQL, each exchange to
// either hub at random. Everything shares this machine: the terminals'
// SQLite stores and HTTP clients, both hubs and PostgreSQL. Reported: the
// sustained rate, and the time the country's backlog (22,000 counters ×
// 300 events) would take at it.
//
// LANGO_BENCH_WARM=1 has each terminal sync twice, its whole site
// enrolled, before its sales are queued, as the field's terminals did long before
// the outage: the drain then leaves out what a terminal learns once in its
// life (every peer's certificate, operators and feed cursor; at 143
// terminals a site, some 30 µs of terminal CPU per event of the drain).
//
// Run: go test ./cmd/lango-hub -run '^$' -bench NationalBacklog -benchtime 1x
func BenchmarkNationalBacklog(b *testing.B) {
	terms := envInt("LANGO_BENCH_TERMINALS", 2000)
	perTerm := envInt("LANGO_BENCH_EVENTS", 500)
	conc := envInt("LANGO_BENCH_CONCURRENCY", 64)
	warm := os.Getenv("LANGO_BENCH_WARM") != ""
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		url := pgServer.NewDatabase(b)
		dataA, dataB := b.TempDir(), b.TempDir()
		if code, _, stderr := run(b, "migrate", "--data", dataA, "--database", url); code != 0 {
			b.Fatalf("migrate: %s", stderr)
		}
		key, _ := os.ReadFile(filepath.Join(dataA, "authority.key"))
		os.WriteFile(filepath.Join(dataB, "authority.key"), key, 0o600)
		procs := []*hubProcess{
			{t: b, data: dataA, listen: freeAddr(b), args: []string{"--database", url}},
			{t: b, data: dataB, listen: freeAddr(b), args: []string{"--database", url}},
		}
		// LANGO_BENCH_HUB_PROFILE=DIR: each hub writes a CPU profile of
		// its run to DIR/hub-0.pprof and DIR/hub-1.pprof.
		if dir := os.Getenv("LANGO_BENCH_HUB_PROFILE"); dir != "" {
			for i, p := range procs {
				p.env = append(p.env, "LANGO_HUB_CPUPROFILE="+filepath.Join(dir, fmt.Sprintf("hub-%d.pprof", i)))
			}
		}
		for _, p := range procs {
			p.start()
		}
		// The terminals, made four at a time and closed until they drain
		// (2,000 open stores would be 2,000 page caches).
		dir := b.TempDir()
		payload := samplePayload(b)
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, terms)
		sem := make(chan struct{}, 4)
		for i := range terms {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				site := benchSites[i%len(benchSites)]
				queue := perTerm
				if warm {
					queue = 0
				}
				errs <- makeQueuedTerminal(ctx, b, filepath.Join(dir, fmt.Sprintf("t%d.db", i)), site, fmt.Sprintf("counter-%d", i), procs, url, queue, payload)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		if warm {
			// Each terminal syncs twice with its whole site enrolled (the
			// first round uploads every terminal's own operators, the
			// second brings them to the others), as the field's did long
			// before the outage, then queues its sales: the drain leaves
			// out learning the site (the peers' certificates, operators
			// and cursors, once in a terminal's life).
			for round := range 2 {
				errs = make(chan error, terms)
				var learnt atomic.Int64
				for i := range terms {
					wg.Add(1)
					sem <- struct{}{}
					go func() {
						defer wg.Done()
						defer func() { <-sem }()
						path := filepath.Join(dir, fmt.Sprintf("t%d.db", i))
						if err := drainTerminal(ctx, path, procs, uint64(i)+uint64(round+1)<<32, &learnt); err != nil {
							errs <- err
							return
						}
						if round == 1 {
							errs <- queueSales(ctx, path, benchSites[i%len(benchSites)], perTerm, payload)
							return
						}
						errs <- nil
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		}
		b.Logf("%d terminals with %d queued events each made in %v", terms, perTerm, time.Since(start).Round(time.Second))
		settle()

		postgresCPU := clusterCPU(ctx, b, url)
		if os.Getenv("LANGO_BENCH_PGSS_RESET") != "" {
			// pg_stat_statements of the drain alone, on a cluster that
			// loads it (docs/BENCHMARKS.md says how).
			if conn, err := pgx.Connect(ctx, cmp.Or(os.Getenv("LANGO_TEST_DATABASE"), url)); err == nil {
				if _, err := conn.Exec(ctx, "SELECT pg_stat_statements_reset()"); err != nil {
					b.Logf("pg_stat_statements_reset: %v", err)
				}
				conn.Close(ctx)
			}
		}
		hubCPU0, pgCPU0 := procsCPU(procs), postgresCPU()
		selfCPU0 := selfCPU()
		stopProfile := drainProfile(b)
		b.StartTimer()
		start = time.Now()
		var drained atomic.Int64
		errs = make(chan error, terms)
		sem = make(chan struct{}, conc)
		for i := range terms {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				errs <- drainTerminal(ctx, filepath.Join(dir, fmt.Sprintf("t%d.db", i)), procs, uint64(i), &drained)
			}()
		}
		wg.Wait()
		d := time.Since(start)
		b.StopTimer()
		stopProfile()
		close(errs)
		for err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		selfD, hubD, pgD := selfCPU()-selfCPU0, procsCPU(procs)-hubCPU0, postgresCPU()-pgCPU0
		b.Logf("CPU during the drain of %v (× 2 cores): terminals (this process) %v, the two hubs %v, PostgreSQL %v, the rest other work on the machine",
			d.Round(time.Second), selfD.Round(time.Second), hubD.Round(time.Second), pgD.Round(time.Second))
		if la, err := os.ReadFile("/proc/loadavg"); err == nil {
			b.Logf("load average after the drain: %s", strings.TrimSpace(string(la)))
		}
		perEvent := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(terms*perTerm) }
		b.ReportMetric(perEvent(selfD), "µs-terminals/event")
		b.ReportMetric(perEvent(hubD), "µs-hubs/event")
		b.ReportMetric(perEvent(pgD), "µs-postgres/event")
		for _, p := range procs {
			p.stop()
		}
		pg := openPG(b, url, dataA)
		counts, _ := pg.Counts(ctx)
		n := int64(terms * perTerm)
		if counts["quarantine"] != 0 || counts["conflicts"] != 0 {
			b.Fatalf("counts %v: the benchmark's sales were not all clean", counts)
		}
		if drained.Load() < n || int64(counts["events"]) < n {
			b.Fatalf("drained %d, the hub holds %d events; want %d queued", drained.Load(), counts["events"], n)
		}
		rate := float64(n) / d.Seconds()
		b.ReportMetric(rate, "events/s")
		b.ReportMetric(d.Seconds(), "s-drain")
		b.ReportMetric(6_600_000/rate, "s-country")
		b.Logf("%d events in %v: %.0f events/s; 22,000 × 300 = 6.6 M events would take %v", n, d.Round(time.Millisecond), rate, time.Duration(6_600_000/rate*float64(time.Second)).Round(time.Second))
		pg.Close()
	}
}

// drainProfile writes a CPU profile of the drain alone (set-up left out)
// to the file LANGO_BENCH_DRAIN_CPUPROFILE names, if any; the returned
// function stops it.
func drainProfile(b *testing.B) func() {
	path := os.Getenv("LANGO_BENCH_DRAIN_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// settle flushes the page cache's dirty pages, so the timed drain does not
// pay for the set-up's writes.
func settle() { syscall.Sync() }

// benchSites are the sites of the KWS catalogue the terminals are spread
// over, as counters are over the country (round-robin: some 130 a site at
// 2,000 terminals).
var benchSites = []string{"NNP", "AMB", "LNK", "TSE", "TSW", "MERU", "KORA", "MTK", "HGT", "MEL", "SHH", "ORPH", "NSW", "KIS"}

// samplePayload is a real sale.created payload.
func samplePayload(b *testing.B) json.RawMessage {
	db, admin := newTerminal(b, "sample")
	sellOne(b, db, admin)
	evs, err := db.Events(context.Background(), 0, 100)
	if err != nil {
		b.Fatal(err)
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == terminal.EventSaleCreated {
			return evs[i].Payload
		}
	}
	b.Fatal("no sale")
	return nil
}

func withSaleID(payload json.RawMessage) (json.RawMessage, error) {
	var s struct{ ID string }
	if err := json.Unmarshal(payload, &s); err != nil || len(s.ID) != 36 {
		return nil, fmt.Errorf("sample payload's id: %q, %v", s.ID, err)
	}
	return bytes.Replace(payload, []byte(`"id":"`+s.ID+`"`), []byte(`"id":"`+uuid.Must(uuid.NewV7()).String()+`"`), 1), nil
}

// makeQueuedTerminal makes a terminal store at path, enrolls it (token
// and enrollment through either hub) and queues n sales.
func makeQueuedTerminal(ctx context.Context, b *testing.B, path, site, name string, procs []*hubProcess, url string, n int, payload json.RawMessage) error {
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Init(ctx, terminal.InitRequest{Site: site, Name: name, Catalogue: catalogue(b), AdminPIN: "1234"}); err != nil {
		return err
	}
	var out, errb bytes.Buffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, &errb
	m.Getenv = func(string) string { return "" }
	if code := m.Main(ctx, []string{"terminal", "add", "--data", procs[0].data, "--database", url, "--site", site, "--name", name}); code != 0 {
		return fmt.Errorf("terminal add %s: %s", name, &errb)
	}
	if _, err := client.Enroll(ctx, db, "http://"+procs[len(name)%2].listen, strings.TrimSpace(out.String())); err != nil {
		return fmt.Errorf("enroll %s: %w", name, err)
	}
	return appendSales(ctx, db, name, site, n, payload)
}

// queueSales queues n sales in the terminal store at path.
func queueSales(ctx context.Context, path, site string, n int, payload json.RawMessage) error {
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	return appendSales(ctx, db, path, site, n, payload)
}

func appendSales(ctx context.Context, db *sqlite.DB, name, site string, n int, payload json.RawMessage) error {
	var perr error
	err := db.AppendEventsForBenchmark(ctx, n, terminal.EventSaleCreated, func(int) json.RawMessage {
		p, err := withSaleID(payload)
		if err != nil {
			perr = err
		}
		return bytes.Replace(p, []byte(`"site":"NNP"`), []byte(`"site":"`+site+`"`), 1)
	})
	if err != nil || perr != nil {
		return fmt.Errorf("queue %s: %v %v", name, err, perr)
	}
	return nil
}

var catalogueOnce struct {
	sync.Once
	b []byte
}

func catalogue(b *testing.B) []byte {
	catalogueOnce.Do(func() {
		catalogueOnce.b, _ = os.ReadFile(filepath.Join("..", "..", "testdata", "catalogues", "kws.json"))
	})
	return catalogueOnce.b
}

// drainTerminal opens the terminal store at path and exchanges, with
// either hub at random, until nothing is queued.
func drainTerminal(ctx context.Context, path string, procs []*hubProcess, seed uint64, drained *atomic.Int64) error {
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(seed, 3))
	before, err := db.SyncState(ctx)
	if err != nil {
		return err
	}
	for i := 0; ; i++ {
		cfg := client.Config{HubURL: "http://" + procs[rng.IntN(len(procs))].listen, HTTPClient: &http.Client{Timeout: time.Minute}}
		err := client.New(db, cfg).Once(ctx)
		st, serr := db.SyncState(ctx)
		if serr != nil {
			return serr
		}
		if err == nil && st.Queued() == 0 {
			drained.Add(int64(before.Queued()))
			return nil
		}
		if i > 100 {
			return fmt.Errorf("%s not drained after %d exchanges: %v", path, i, err)
		}
	}
}

// procsCPU is the user and system time the hub processes have used.
func procsCPU(procs []*hubProcess) time.Duration {
	var d time.Duration
	for _, p := range procs {
		d += pidCPU(p.cmd.Process.Pid)
	}
	return d
}

// clusterCPU returns the user and system time of the PostgreSQL cluster
// at url, so far: its postmaster (with the backends that have ended,
// which it waited for) and every process it started. Only that cluster's:
// other engineers' clusters on the machine are not counted.
func clusterCPU(ctx context.Context, b *testing.B, url string) func() time.Duration {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	var backend int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		b.Fatal(err)
	}
	postmaster := statField(backend, 1) // ppid
	if postmaster <= 1 {
		b.Fatalf("no postmaster above backend %d", backend)
	}
	return func() time.Duration {
		d := pidCPU(postmaster) + time.Duration(statField(postmaster, 13)+statField(postmaster, 14))*10*time.Millisecond
		stats, _ := filepath.Glob("/proc/[0-9]*/stat")
		for _, st := range stats {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(st)))
			if statField(pid, 1) == postmaster {
				d += pidCPU(pid)
			}
		}
		return d
	}
}

// statField is field n of /proc/PID/stat counted from the one after the
// command (0 the state, 1 the parent, 11 utime, 12 stime, 13 cutime, 14
// cstime), or -1.
func statField(pid, n int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	v, err := strconv.Atoi(f[n])
	if err != nil {
		return -1
	}
	return v
}

func pidCPU(pid int) time.Duration {
	u, s := statField(pid, 11), statField(pid, 12)
	if u < 0 || s < 0 {
		return 0
	}
	return time.Duration(u+s) * 10 * time.Millisecond // USER_HZ 100
}

// selfCPU is this process's user and system time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
