package hub_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
)

// TestRandomized drives four terminals of a park and a hub through a
// seeded random mix of sales, settlements, voids, syncs, outages, cut
// answers, duplicated deliveries, hub kills (some in the middle of a
// batch), terminal power cuts, catalogue publications, operators added
// and a hub restored from a backup. After healing, the hub holds every
// event each terminal committed exactly once and in order, every terminal
// has the site feed up to the hub's head, and knows every operator added
// anywhere. LANGO_SYNC_SEED=N replays a run.
func TestRandomized(t *testing.T) {
	seeds := []uint64{20240103, 7, 42}
	if s := os.Getenv("LANGO_SYNC_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seeds = []uint64{n}
	}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { randomRun(t, seed, 600) })
	}
}

type soldPass struct {
	text string
	id   string
	by   *termEnv
}

func randomRun(t *testing.T, seed uint64, steps int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	c := &clock{}
	h := newHub(t, c)
	var terms []*termEnv
	for _, name := range []string{"gate-1", "gate-2", "exit-1", "exit-2"} {
		te := newTerm(t, h, name, time.Duration(rng.IntN(3)-1)*time.Duration(rng.IntN(30))*time.Hour)
		te.setBatch(1 + rng.IntN(12))
		terms = append(terms, te)
	}
	pick := func() *termEnv { return terms[rng.IntN(len(terms))] }
	var passes []soldPass
	var sales []soldPass
	var backups []string
	operators := map[string]string{} // name → id, added anywhere
	stats := map[string]int{}
	hookArmed := false
	for step := 0; step < steps; step++ {
		switch r := rng.IntN(100); {
		case r < 30:
			te := pick()
			tender := []string{"cash", "mpesa", "defer", "defer"}[rng.IntN(4)]
			s := te.sell(tender)
			if tender == "defer" {
				passes = append(passes, soldPass{s.Pass, s.ID, te})
			}
			sales = append(sales, soldPass{s.Pass, s.ID, te})
			stats["sell"]++
		case r < 38 && len(passes) > 0:
			p := passes[rng.IntN(len(passes))]
			te := pick()
			_, err := te.db.Settle(ctx, te.admin, p.text, []terminal.TenderRequest{{Kind: terminal.TenderCash}})
			if err == nil {
				stats["settle"]++
			}
		case r < 42 && len(sales) > 0:
			s := sales[rng.IntN(len(sales))]
			if _, err := s.by.db.Void(ctx, s.by.admin, s.id, "random void"); err == nil {
				stats["void"]++
			}
		case r < 70:
			te := pick()
			switch f := rng.IntN(20); {
			case f < 3:
				h.inject(fault{path: wire.PathEvents, kind: faultDropResponse})
			case f < 5:
				h.inject(fault{path: wire.PathEvents, kind: faultDuplicate})
			case f < 6:
				h.inject(fault{path: wire.PathFeed, kind: faultDropResponse})
			case f < 7:
				h.inject(fault{path: wire.PathState, kind: faultDropResponse})
			}
			if err := te.sync(); err != nil {
				if k := kindOf(err); k != terminal.EUNAVAILABLE {
					t.Fatalf("step %d: %s sync: unexpected %v (%s)", step, te.name, err, k)
				}
				stats["sync failed"]++
			} else {
				stats["sync"]++
			}
			h.mu.Lock()
			h.faults = nil
			h.mu.Unlock()
		case r < 76:
			h.mu.Lock()
			down := h.down
			h.mu.Unlock()
			h.setDown(!down)
			stats["outage toggled"]++
		case r < 80:
			h.restart()
			hookArmed = false
			stats["hub killed"]++
		case r < 84 && !hookArmed:
			// The hub will die inside the next batch it applies.
			at := 1 + rng.IntN(4)
			hookArmed = true
			h.Store().SetApplyHook(func(n int) error {
				if n == at {
					h.setDown(true)
					return errors.New("killed mid-batch")
				}
				return nil
			})
			stats["hub kill armed"]++
		case r < 89:
			pick().reopen()
			stats["terminal power cut"]++
		case r < 91:
			h.mu.Lock()
			up := !h.down
			h.mu.Unlock()
			if up {
				v := fmt.Sprintf(`"version": "KWS-R%d"`, step)
				if _, err := h.Hub().PublishCatalogue(ctx, "NNP", bytes.Replace(catalogue, []byte(`"version": "KWS-2024.1"`), []byte(v), 1)); err != nil {
					t.Fatal(err)
				}
				stats["catalogue"]++
			}
		case r < 95:
			h.mu.Lock()
			up := !h.down && h.store != nil
			h.mu.Unlock()
			if up {
				backups = append(backups, h.backup())
				stats["backup"]++
			}
		case r < 97 && len(backups) > 0:
			h.restore(backups[rng.IntN(len(backups))])
			hookArmed = false
			stats["hub restored"]++
		case r >= 97 && r < 99:
			te := pick()
			name := fmt.Sprintf("clerk%d", step)
			op, err := te.db.AddOperator(ctx, te.admin, name, "attendant", "4321")
			if err != nil {
				t.Fatal(err)
			}
			operators[name] = op.ID
			stats["operator added"]++
		}
		if hookArmed {
			h.mu.Lock()
			down := h.down
			h.mu.Unlock()
			if down { // the armed kill fired: the hub comes back
				h.restart()
				hookArmed = false
				stats["hub killed mid-batch"]++
			}
		}
	}
	// Heal: the network is back, the hub is up, no more faults.
	h.restart()
	for _, te := range terms {
		te.reopen()
	}
	syncAll(t, terms...)
	checkExactlyOnce(t, h, terms...)
	checkFeed(t, h, terms...)
	for _, te := range terms {
		if err := te.db.VerifyAudit(ctx); err != nil {
			t.Errorf("%s audit: %v", te.name, err)
		}
		for name, id := range operators {
			if op, err := te.db.Operator(ctx, name); err != nil || op.ID != id {
				t.Errorf("%s does not know operator %s (%s) after healing: %+v %v", te.name, name, id, op, err)
			}
		}
	}
	t.Logf("seed %d: %v", seed, stats)
}
