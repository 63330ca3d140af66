package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// BenchmarkGrowth is issue 19's growth benchmark: a store grown through the
// store's own SellSigned (passes signed, one commit a sale, 2,000 sales a
// day) to LANGO_GROWTH_SALES sales (default 100,000), and one of 10 sales
// (with LANGO_GROWTH_COMPACT set, passes without the certificate),
// each then asked the same commands as a separate lango process (this
// test binary, LANGO_TEST_MAIN=1): a 10-sale shift's close, sales since
// the last hour (the supervisor screen's query), every sale as JSON, and
// the audit. Each round runs a command on both stores, the order swapped
// every round, so the two see the same load of a shared machine; it
// reports the medians of each store's wall times, their ratio (large ÷
// small: issue 19's 1.2× goal) and the large store's peak resident memory.
// Then the hub acknowledges everything and the stores are archived with
// the default retention (LANGO_GROWTH_NOARCHIVE=1 skips that step).
//
// LANGO_GROWTH_DIR keeps the grown stores there, and a later run reuses
// them (growing a million sales takes the better part of an hour). Not
// part of make test:
//
//	LANGO_GROWTH_SALES=1000000 go test ./cmd/lango -run '^$' -bench Growth -benchtime 3x -timeout 3h
func BenchmarkGrowth(b *testing.B) {
	big := 100000
	if v := os.Getenv("LANGO_GROWTH_SALES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10 {
			b.Fatalf("LANGO_GROWTH_SALES=%q: a number of sales, at least 10", v)
		}
		big = n
	}
	type store struct {
		n      int
		data   string
		eighth time.Time
	}
	var stores [2]store
	for i, n := range []int{10, big} {
		data, eighth := growStore(b, n)
		stores[i] = store{n, data, eighth}
		b.Logf("%d sales: data folder %.1f MB, %.0f bytes a sale", n, folderMB(b, data), folderMB(b, data)*(1<<20)/float64(n))
	}
	type command struct {
		name string
		args func(s store) []string
	}
	fixed := func(args ...string) func(store) []string { return func(store) []string { return args } }
	// alternate runs c on both stores, round by round, and reports.
	alternate := func(c command) {
		b.Run(c.name, func(b *testing.B) {
			var walls, cpus [2][]time.Duration
			var peak [2]float64
			round := 0
			for b.Loop() {
				for k := range 2 {
					i := (k + round) % 2
					s := stores[i]
					if c.name == "ShiftClose" {
						b.StopTimer()
						lango(b, s.data, "shift", "open", "--as", "admin", "--float", "KES=0")
						for range 10 {
							lango(b, s.data, "sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "cash")
						}
						b.StartTimer()
					}
					wall, rss, cpu := lango(b, s.data, c.args(s)...)
					walls[i] = append(walls[i], wall)
					cpus[i] = append(cpus[i], cpu)
					peak[i] = max(peak[i], rss)
				}
				round++
			}
			small, large := medianDuration(walls[0]), medianDuration(walls[1])
			b.ReportMetric(float64(small.Microseconds())/1000, "ms-small")
			b.ReportMetric(float64(large.Microseconds())/1000, "ms-large")
			b.ReportMetric(float64(large)/float64(small), "large/small")
			// The processes' CPU time (user + system): on a loaded
			// machine the wall time is mostly waiting for a core.
			b.ReportMetric(float64(medianDuration(cpus[1]))/float64(medianDuration(cpus[0])), "cpu-large/small")
			b.ReportMetric(peak[1], "MB-peak-large")
		})
	}
	for _, c := range []command{
		{"ShiftClose", fixed("shift", "close", "--as", "admin", "--counted", "KES=0", "--counted", "USD=0")},
		{"SalesSince", func(s store) []string {
			return []string{"sales", "--json", "--since", s.eighth.UTC().Format(time.RFC3339Nano), "--until", s.eighth.Add(time.Hour).UTC().Format(time.RFC3339Nano)}
		}},
		{"SalesJSON", fixed("sales", "--json")},
		{"AuditVerify", fixed("audit", "verify")},
	} {
		alternate(c)
	}
	if os.Getenv("LANGO_GROWTH_NOARCHIVE") == "1" {
		return
	}
	// Then the hub acknowledges everything and the store is archived with
	// the default retention (a year: at 2,000 sales a day, what is older
	// than 730,000 sales); the audit runs again across the archive
	// boundary.
	for _, s := range stores {
		ackAll(b, s.data)
	}
	for _, name := range []string{"Archive", "AuditAfterArchive"} {
		args := []string{"archive", "--json"}
		if name == "AuditAfterArchive" {
			args = []string{"audit", "verify"}
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				for _, s := range stores {
					wall, rss, _ := lango(b, s.data, args...)
					b.ReportMetric(wall.Seconds()*1000, fmt.Sprintf("ms-%d", s.n))
					b.ReportMetric(rss, fmt.Sprintf("MB-peak-%d", s.n))
				}
			}
			b.ReportMetric(folderMB(b, stores[1].data), "MB-folder-large")
		})
	}
	s := stores[1]
	b.Logf("%d sales, archived with the default retention: data folder %.1f MB (archive/ %.1f MB)", s.n, folderMB(b, s.data), folderMB(b, filepath.Join(s.data, "archive")))
}

func medianDuration(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}

// ackAll records that a hub holds every event of the store in data.
func ackAll(b *testing.B, data string) {
	b.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(data, "lango.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st, err := db.SyncState(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.SyncAcked(ctx, "growth-hub", st.LastSeq); err != nil {
		b.Fatal(err)
	}
}

// growStore makes a terminal whose store holds n sales, 2,000 a day until
// a minute ago, through SellSigned, and returns its folder and the time of
// its eighth sale from the end.
func growStore(b *testing.B, n int) (string, time.Time) {
	b.Helper()
	ctx := context.Background()
	data := b.TempDir()
	if keep := os.Getenv("LANGO_GROWTH_DIR"); keep != "" { // kept, and reused
		data = filepath.Join(keep, strconv.Itoa(n))
		if t, err := os.ReadFile(filepath.Join(data, "eighth")); err == nil {
			eighth, err := time.Parse(time.RFC3339Nano, string(t))
			if err != nil {
				b.Fatalf("%s: %v", data, err)
			}
			b.Logf("%d sales: reusing the store grown in %s", n, data)
			return data, eighth
		}
		if err := os.MkdirAll(data, 0o700); err != nil {
			b.Fatal(err)
		}
	}
	db, err := sqlite.Open(ctx, filepath.Join(data, "lango.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	step := 24 * time.Hour / 2000
	at := time.Now().Add(-time.Minute - time.Duration(n)*step)
	var eighth time.Time
	db.Now = func() time.Time { return at }
	cat, err := os.ReadFile(catalogue("kws.json"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.Init(ctx, terminal.InitRequest{Site: "NNP", Name: "gate-1", Catalogue: cat, AdminPIN: "1234"}); err != nil {
		b.Fatal(err)
	}
	admin, err := db.Operator(ctx, "admin")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.OpenShift(ctx, admin, terminal.Totals{"KES": 0}); err != nil {
		b.Fatal(err)
	}
	if os.Getenv("LANGO_GROWTH_COMPACT") != "" {
		// As in the field once the hub's feed promises every verifier of
		// the site holds this terminal's certificate (issue 20): passes
		// leave it out.
		iss, err := db.Issuer(ctx, at)
		if err != nil {
			b.Fatal(err)
		}
		if err := db.SetCompactKeys(ctx, []string{iss.Certificate().KeyID().String()}); err != nil {
			b.Fatal(err)
		}
	}
	req := terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 2}, {Code: "EAC-CHILD", Qty: 2}, {Code: "CAR", Qty: 1}},
		Vehicle: "KCB 123A", Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}
	for i := range n {
		at = at.Add(step)
		if _, err := db.SellSigned(ctx, admin, req); err != nil {
			b.Fatalf("sale %d: %v", i, err)
		}
		if i == n-8 {
			eighth = at
		}
		if i%2000 == 1999 { // a shift a day
			if _, err := db.CloseShift(ctx, admin, terminal.Totals{"KES": 0}); err != nil {
				b.Fatal(err)
			}
			if _, err := db.OpenShift(ctx, admin, terminal.Totals{"KES": 0}); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := db.CloseShift(ctx, admin, terminal.Totals{"KES": 0}); err != nil {
		b.Fatal(err)
	}
	// Written last: a store whose growth was cut short is not reused.
	if err := os.WriteFile(filepath.Join(data, "eighth"), []byte(eighth.Format(time.RFC3339Nano)), 0o600); err != nil {
		b.Fatal(err)
	}
	return data, eighth
}

// lango runs one command as its own process on data and returns its wall
// time, peak resident memory in MB and CPU time (user and system).
func lango(b *testing.B, data string, args ...string) (wall time.Duration, peakMB float64, cpu time.Duration) {
	b.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--data", data}, args...)...)
	peak := filepath.Join(b.TempDir(), "peak")
	cmd.Env = append(os.Environ(), "LANGO_TEST_MAIN=1", "LANGO_PIN=1234", "LANGO_TEST_PEAK="+peak)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr // stdout is /dev/null: the listing is not the measure
	start := time.Now()
	err := cmd.Run()
	wall = time.Since(start)
	if err != nil {
		b.Fatalf("lango %v: %v: %s", args, err, &stderr)
	}
	// The process's own high-water mark (VmHWM), which it writes as it
	// exits: wait4's ru_maxrss would count this parent's memory, which the
	// child shared until it exec'd.
	kb, err := os.ReadFile(peak)
	if err != nil {
		b.Fatal(err)
	}
	n, err := strconv.ParseFloat(string(kb), 64)
	if err != nil {
		b.Fatalf("peak %q: %v", kb, err)
	}
	return wall, n / 1024, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// writePeakRSS writes the process's peak resident memory in kB (VmHWM of
// /proc/self/status) to path.
func writePeakRSS(path string) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			os.WriteFile(path, []byte(strings.TrimSuffix(strings.TrimSpace(v), " kB")), 0o600)
		}
	}
}

func folderMB(b *testing.B, dir string) float64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return float64(n) / (1 << 20)
}
