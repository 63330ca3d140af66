package relay

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/client"
	"github.com/lango-pos/lango/sync/hub"
	hubsqlite "github.com/lango-pos/lango/sync/hub/sqlite"
	"github.com/lango-pos/lango/terminal"
)

// restartCentre stops the central hub abruptly and starts it again on
// the same file.
func (s *site) restartCentre() {
	s.t.Helper()
	ctx := context.Background()
	s.wan.handle(nil)
	s.laneWAN.handle(nil)
	s.wan.srv.CloseClientConnections()
	s.laneWAN.srv.CloseClientConnections()
	path := s.centre.Path()
	s.centre.Close()
	st, err := hubsqlite.Open(ctx, path)
	if err != nil {
		s.t.Fatal(err)
	}
	s.centre, s.hub = st, hub.New(st, hub.Options{Logger: discard()})
	srv := hub.NewServer(s.hub)
	s.wan.handle(srv)
	s.laneWAN.handle(srv)
}

// TestRandomizedPartitions (seeded; LANGO_RELAY_SEED=N replays one): four
// lanes, the relay and the centre; 400 steps of sales, settlements, voids
// and syncs at random lanes, with each link (relay ↔ centre, lanes ↔
// centre, lanes ↔ relay) cut and healed at random, the relay killed and
// restarted, once its data folder lost, and the centre restarted. After
// healing, the centre holds every event exactly once and every lane's
// feed is at the head of every other's.
func TestRandomizedPartitions(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("LANGO_RELAY_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d (LANGO_RELAY_SEED=%[1]d replays it)", seed)
	rng := rand.New(rand.NewPCG(seed, 14))
	ctx := context.Background()
	s := newSite(t, 20*time.Millisecond)
	var lanes []*lane
	for _, n := range []string{"entry-1", "entry-2", "exit-1", "exit-2"} {
		lanes = append(lanes, s.addLane(n, client.Config{BatchSize: 1 + rng.IntN(20)}))
	}
	var deferred []*terminal.Sale
	seller := map[string]*lane{}
	lostDisk := false
	for step := 0; step < 400; step++ {
		l := lanes[rng.IntN(len(lanes))]
		switch n := rng.IntN(100); {
		case n < 30:
			tender := "cash"
			if rng.IntN(3) == 0 {
				tender = "defer"
			}
			sale := l.sell(tender)
			seller[sale.ID] = l
			if tender == "defer" {
				deferred = append(deferred, sale)
			}
		case n < 40 && len(deferred) > 0:
			p := deferred[rng.IntN(len(deferred))]
			// Refused when this lane knows it settled: that is the point.
			l.db.Settle(ctx, l.admin, p.Pass, []terminal.TenderRequest{{Kind: terminal.TenderCash}})
		case n < 43 && len(deferred) > 0:
			p := deferred[rng.IntN(len(deferred))]
			seller[p.ID].db.Void(ctx, seller[p.ID].admin, p.ID, "random")
		case n < 75:
			if err := l.sync(); err != nil {
				switch terminal.ErrorKind(err) {
				case terminal.EUNAVAILABLE, terminal.EUNAUTHORIZED:
				default:
					t.Fatalf("step %d: %s sync: %v", step, l.name, err)
				}
			}
		case n < 83:
			s.wan.set(rng.IntN(2) == 0)
		case n < 89:
			s.laneWAN.set(rng.IntN(2) == 0)
		case n < 95:
			s.lan.set(rng.IntN(2) == 0)
		case n < 98:
			s.stopRelay()
			if !lostDisk && rng.IntN(4) == 0 {
				// The relay's disk dies: a new relay, empty, enrolled
				// anew under the same name once the dead one is revoked.
				lostDisk = true
				os.RemoveAll(s.dir)
				s.dir = filepath.Join(t.TempDir(), "relay")
				os.MkdirAll(s.dir, 0o700)
				s.wan.set(false)
				if err := s.hub.RevokeTerminal(ctx, "NNP", "hq"); err != nil {
					t.Fatal(err)
				}
				tok, err := s.hub.AddRelay(ctx, "NNP", "hq")
				if err != nil {
					t.Fatal(err)
				}
				s.startRelay()
				if err := s.relay.Enroll(ctx, tok); err != nil {
					t.Fatal(err)
				}
				s.relay.Start(ctx)
				continue
			}
			s.startRelay()
		default:
			s.restartCentre()
		}
	}
	s.wan.set(false)
	s.laneWAN.set(false)
	s.lan.set(false)
	// Healed: each lane syncs (retrying while the relay admits it) until
	// all are caught up, then again for the feed, until a round leaves
	// every lane's log as it found it (a lane may record events of its
	// own as it applies the feed, which the lanes before it in the round
	// have not fetched yet).
	heads := func() (n []int) {
		for _, l := range lanes {
			n = append(n, len(l.events()))
		}
		return n
	}
	for round, before := 0, heads(); round < 8; round++ {
		for _, l := range lanes {
			deadline := time.Now().Add(20 * time.Second)
			for {
				err := l.sync()
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after healing %s sync: %v", l.name, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		after := heads()
		if round >= 1 && slices.Equal(before, after) {
			break
		}
		before = after
	}
	s.waitCentre(30 * time.Second)
	s.checkExactlyOnce()
	for _, l := range lanes {
		cur, err := l.db.FeedCursors(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range lanes {
			if o == l {
				continue
			}
			if head := int64(len(o.events())); cur[o.id] != head {
				t.Errorf("%s's feed of %s is at %d; the head is %d", l.name, o.name, cur[o.id], head)
			}
		}
	}
}
