package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/client"
	"github.com/lango-pos/lango/sync/hub"
	hubsqlite "github.com/lango-pos/lango/sync/hub/sqlite"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// BenchmarkWeekOffline is issue 20's soak: a gate terminal enrolled with a
// hub that then goes down sells a week's traffic (LANGO_SOAK_SALES, default
// 50,000 sales: 50,000 events, 7 days, a shift a day, every pass signed)
// back to back in one process whose sync worker keeps retrying, as the
// kiosk's does; then the hub returns on the same address and the worker
// drains the queue. At the end of each day it logs the process's resident
// memory, the live Go heap, the data folder and that day's sale latency
// (median, 99th percentile, worst); then the drain's time and rate. The
// days are counted by sales, not by the clock: the terminal's clock is
// real, so every event is within its certificate's window and the hub's.
// Not part of make test:
//
//	go test ./cmd/lango -run '^$' -bench WeekOffline -benchtime 1x -timeout 1h -v
func BenchmarkWeekOffline(b *testing.B) {
	total := 50000
	if v := os.Getenv("LANGO_SOAK_SALES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 7 {
			b.Fatalf("LANGO_SOAK_SALES=%q: a number of sales, at least 7", v)
		}
		total = n
	}
	for b.Loop() {
		soakWeek(b, total)
	}
}

func soakWeek(b *testing.B, total int) {
	ctx := context.Background()
	dir := b.TempDir()
	os.MkdirAll(filepath.Join(dir, "hub"), 0o700)
	hubStore, err := hubsqlite.Open(ctx, filepath.Join(dir, "hub", "hub.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer hubStore.Close()
	h := hub.New(hubStore, hub.Options{Logger: slog.New(slog.DiscardHandler)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	srv := &http.Server{Handler: hub.NewServer(h)}
	go srv.Serve(ln)

	data := filepath.Join(dir, "terminal")
	os.MkdirAll(data, 0o700)
	db, err := sqlite.Open(ctx, filepath.Join(data, "lango.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	cat, err := os.ReadFile(catalogue("kws.json"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.Init(ctx, terminal.InitRequest{Site: "NNP", Name: "gate-1", Catalogue: cat, AdminPIN: "1234"}); err != nil {
		b.Fatal(err)
	}
	tok, err := h.AddTerminal(ctx, "NNP", "gate-1")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := client.Enroll(ctx, db, "http://"+addr, tok); err != nil {
		b.Fatal(err)
	}
	srv.Close() // the hub goes down for the week

	worker := client.New(db, client.Config{Logger: slog.New(slog.DiscardHandler), MinBackoff: time.Second, MaxBackoff: 30 * time.Second, ProbeEvery: time.Second})
	worker.Start(ctx)
	defer worker.Close()

	admin, err := db.Operator(ctx, "admin")
	if err != nil {
		b.Fatal(err)
	}
	req := terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 2}, {Code: "EAC-CHILD", Qty: 2}, {Code: "CAR", Qty: 1}},
		Vehicle: "KCB 123A", Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}
	perDay, sold := total/7, 0
	b.Logf("%-5s %8s %10s %9s %13s %9s %9s %9s", "day", "sales", "queued", "RSS MB", "live heap MB", "store MB", "p50 ms", "p99 ms")
	for day := 1; day <= 7; day++ {
		if _, err := db.OpenShift(ctx, admin, terminal.Totals{"KES": 0}); err != nil {
			b.Fatal(err)
		}
		n := perDay
		if day == 7 {
			n = total - 6*perDay
		}
		lat := make([]time.Duration, 0, n)
		for range n {
			start := time.Now()
			if _, err := db.SellSigned(ctx, admin, req); err != nil {
				b.Fatalf("day %d: %v", day, err)
			}
			lat = append(lat, time.Since(start))
			worker.Kick() // as the kiosk does after each sale: a failed attempt, the hub is down
		}
		sold += n
		if _, err := db.CloseShift(ctx, admin, terminal.Totals{"KES": 0}); err != nil {
			b.Fatal(err)
		}
		st, err := db.SyncState(ctx)
		if err != nil {
			b.Fatal(err)
		}
		slices.Sort(lat)
		runtime.GC() // the live heap, not the garbage of the day
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rss := vmRSS()
		p50, p99, worst := ms2(lat[len(lat)/2]), ms2(lat[len(lat)*99/100]), ms2(lat[len(lat)-1])
		store := folderMB(b, data)
		b.Logf("%-5d %8d %10d %9.1f %13.1f %9.1f %9.2f %9.2f (worst %.1f ms)", day, sold, st.Queued(), rss, float64(ms.HeapAlloc)/(1<<20), store, p50, p99, worst)
		b.ReportMetric(rss, "MB-rss-day"+strconv.Itoa(day))
		b.ReportMetric(p99, "ms-p99-day"+strconv.Itoa(day))
		if day == 7 {
			b.ReportMetric(store, "MB-store")
		}
	}

	// The hub returns on the same address; the worker notices within its
	// probe and drains.
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		b.Fatalf("the hub cannot listen on %s again: %v", addr, err)
	}
	srv = &http.Server{Handler: hub.NewServer(h)}
	go srv.Serve(ln)
	defer srv.Close()
	start := time.Now()
	for {
		st, err := db.SyncState(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if st.Queued() == 0 {
			break
		}
		if time.Since(start) > 30*time.Minute {
			b.Fatalf("after 30 minutes, %d events still queued", st.Queued())
		}
		time.Sleep(100 * time.Millisecond)
	}
	drain := time.Since(start)
	st, _ := db.SyncState(ctx)
	b.Logf("drain: %d events in %.1f s (%.0f events/s), from the hub's return to nothing queued", st.LastSeq, drain.Seconds(), float64(st.LastSeq)/drain.Seconds())
	b.ReportMetric(drain.Seconds(), "s-drain")
	rep, err := h.Report(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if len(rep.Terminals) != 1 || rep.Terminals[0].Events != st.LastSeq {
		b.Fatalf("the hub holds %+v; want one terminal with %d events", rep.Terminals, st.LastSeq)
	}
}

func ms2(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// vmRSS is the process's resident memory now, in MB (VmRSS).
func vmRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
