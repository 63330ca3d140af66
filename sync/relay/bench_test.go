package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lango-pos/lango/sync/client"
	"github.com/lango-pos/lango/terminal"
)

// BenchmarkSettleToRefusal: with the WAN down, exit lane A settles a
// deferred pass (its sync worker kicked at once, as the kiosk does after a
// sale); exit lane B, whose worker syncs every interval, refuses it as
// settled. The time from A's commit to B's refusal, 100 times: median and
// worst (ms). The lanes' interval is 1 s; each settlement comes at a
// random moment of B's interval (seeded).
func BenchmarkSettleToRefusal(b *testing.B) {
	ctx := context.Background()
	const interval = time.Second
	for range b.N {
		s := newSite(b, 50*time.Millisecond)
		entry := s.addLane("entry-1", client.Config{})
		cfg := client.Config{Interval: interval, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
		x1, x2 := s.addLane("exit-1", cfg), s.addLane("exit-2", cfg)
		for _, l := range s.lanes {
			l.mustSync()
		}
		s.wan.set(true)
		s.laneWAN.set(true)
		x1.syncer.Start(ctx)
		x2.syncer.Start(ctx)
		var lat []time.Duration
		rng := rand.New(rand.NewPCG(14, 2))
		for range 100 {
			van := entry.sell("defer")
			time.Sleep(time.Duration(rng.Int64N(int64(interval))))
			start := time.Now()
			if _, err := x1.db.Settle(ctx, x1.admin, van.Pass, []terminal.TenderRequest{{Kind: terminal.TenderCash}}); err != nil {
				b.Fatal(err)
			}
			x1.syncer.Kick()
			for {
				pc, err := x2.db.CheckPass(ctx, van.Pass)
				if err != nil {
					b.Fatal(err)
				}
				if pc.State == "settled" {
					break
				}
				if time.Since(start) > 10*interval {
					b.Fatalf("exit 2 did not learn of the settlement in %v", 10*interval)
				}
				time.Sleep(2 * time.Millisecond)
			}
			lat = append(lat, time.Since(start))
		}
		x1.syncer.Close()
		x2.syncer.Close()
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
		b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "worst-ms")
		b.ReportMetric(float64(lat[0].Microseconds())/1000, "best-ms")
	}
}

// queue fills a lane's outbox with n sale.created events (a real sale's
// payload, each with its own id).
func queue(b *testing.B, l *lane, n int) {
	b.Helper()
	ctx := context.Background()
	sale := l.sell("cash")
	evs := l.events()
	payload := evs[len(evs)-1].Payload
	if err := l.db.AppendEventsForBenchmark(ctx, n, terminal.EventSaleCreated, func(int) json.RawMessage {
		return bytes.ReplaceAll(payload, []byte(sale.ID), []byte(uuid.Must(uuid.NewV7()).String()))
	}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRelayUpstream: 20,000 queued sales (about 1.5 KB each) drained
// by one lane straight into the centre, against the same drained into the
// relay with the WAN down and then forwarded by the relay when it returns.
// Reported: the direct drain's rate, the relay's LAN drain's, the relay's
// upstream rate, and upstream over direct.
func BenchmarkRelayUpstream(b *testing.B) {
	const n = 20000
	for range b.N {
		// Direct.
		s := newSite(b, 20*time.Millisecond)
		d := s.addLane("gate-1", client.Config{HTTPClient: &http.Client{Timeout: time.Minute}})
		d.mustSync()
		queue(b, d, n)
		d.syncer = client.New(d.db, client.Config{HubURL: s.laneWAN.URL(), HTTPClient: &http.Client{Timeout: time.Minute}, Logger: discard()})
		start := time.Now()
		d.mustSync()
		direct := time.Since(start)

		// Through the relay.
		r := newSite(b, 20*time.Millisecond)
		l := r.addLane("gate-1", client.Config{HTTPClient: &http.Client{Timeout: time.Minute}})
		l.mustSync()
		r.waitCentre(10 * time.Second)
		queue(b, l, n)
		r.wan.set(true)
		l.syncer = client.New(l.db, client.Config{HubURL: r.lan.URL(), HTTPClient: &http.Client{Timeout: time.Minute}, Logger: discard()})
		start = time.Now()
		l.mustSync()
		lan := time.Since(start)
		start = time.Now()
		r.wan.set(false)
		r.relay.Kick()
		r.waitCentre(5 * time.Minute)
		up := time.Since(start)
		r.checkExactlyOnce()
		b.ReportMetric(float64(n)/direct.Seconds(), "direct-ev/s")
		b.ReportMetric(float64(n)/lan.Seconds(), "lan-ev/s")
		b.ReportMetric(float64(n)/up.Seconds(), "upstream-ev/s")
		b.ReportMetric(direct.Seconds()/up.Seconds(), "upstream/direct")
	}
}
