package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/client"
	"github.com/lango-pos/lango/sync/hub/forward"
	"github.com/lango-pos/lango/sync/platform/platformtest"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite/sqlitetest"
)

// TestHubProcessForwardsThroughKills: `lango-hub serve`, a real process
// configured by LANGO_HUB_PLATFORM_*, forwards a terminal's sales to the
// stand-in platform (slow, failing one request in ten and losing one answer
// in four after committing) and is killed with SIGKILL while it forwards,
// three times. Afterwards the stand-in holds each sale once, and
// `lango-hub report --json` says every bill is posted and none pending.
func TestHubProcessForwardsThroughKills(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	ctx := context.Background()
	data := t.TempDir()
	code, token, stderr := run(t, "terminal", "add", "--data", data, "--site", "NNP", "--name", "gate-1")
	if code != 0 {
		t.Fatalf("terminal add: %d %s", code, stderr)
	}
	plat := platformtest.New("KWS", "s3cret", time.Now, 3, nil)
	plat.SetFaults(platformtest.Faults{Delay: 15 * time.Millisecond, FailRate: 0.1, LoseRate: 0.25, RetryAfter: 1})
	ps := httptest.NewServer(plat.Handler())
	defer ps.Close()
	env := []string{"LANGO_HUB_PLATFORM_URL=" + ps.URL, "LANGO_HUB_PLATFORM_AGENCY=KWS", "LANGO_HUB_PLATFORM_SECRET=s3cret", "LANGO_HUB_PLATFORM_LEASE=2s"}
	p := &hubProcess{t: t, data: data, listen: freeAddr(t), env: env, logLevel: "warn"}
	p.start()
	defer func() {
		if p.cmd.ProcessState == nil {
			p.kill()
		}
	}()

	db, _ := sqlitetest.NewTerminal(t, nil)
	cfg := client.Config{HTTPClient: &http.Client{Timeout: 20 * time.Second}, MinBackoff: time.Millisecond}
	if _, err := client.EnrollWith(ctx, db, "http://"+p.listen, strings.TrimSpace(token), cfg); err != nil {
		t.Fatal(err)
	}
	admin, err := db.Operator(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	iss, err := db.PassIssuer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	const sales = 60
	for range sales {
		res, err := db.Sell(ctx, admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 2}, {Code: "CAR", Qty: 1}},
			Vehicle: "KDA 123A", Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}, iss)
		if err != nil {
			t.Fatal(err)
		}
		want[forward.BillRef("NNP", res.Sale.ID, 1, 1)] = true
	}
	if err := client.New(db, cfg).Once(ctx); err != nil {
		t.Fatal(err)
	}

	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("LANGO_KILL_SEED"); v != "" {
		fmt.Sscan(v, &seed)
	}
	t.Logf("seed %d (LANGO_KILL_SEED=%[1]d replays the kill times)", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	kills := 0
	for kills < 3 {
		from := plat.Counts().Bills
		for start := time.Now(); plat.Counts().Bills == from && plat.Counts().Bills < sales; time.Sleep(2 * time.Millisecond) {
			if time.Since(start) > time.Minute {
				t.Fatalf("the hub posted nothing for a minute: %+v\n%s", plat.Counts(), p.stderr)
			}
		}
		if plat.Counts().Bills >= sales {
			break
		}
		time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
		p.kill()
		kills++
		p.start()
	}
	if kills < 3 {
		t.Errorf("only %d kills before every bill was in; the test proved little", kills)
	}
	deadline := time.Now().Add(2 * time.Minute)
	var rep struct {
		Forwarded struct {
			Configured bool `json:"configured"`
			Posted     struct {
				Bills int `json:"bills"`
			} `json:"posted"`
			Pending struct {
				Bills int `json:"bills"`
			} `json:"pending"`
			Refused []json.RawMessage `json:"refused"`
		} `json:"forwarded"`
	}
	for {
		m := NewMain()
		var out, errb strings.Builder
		m.Stdout, m.Stderr = &out, &errb
		m.Getenv = func(k string) string {
			for _, kv := range env {
				if strings.HasPrefix(kv, k+"=") {
					return strings.TrimPrefix(kv, k+"=")
				}
			}
			return ""
		}
		if code := m.Main(ctx, []string{"report", "--data", data, "--json"}); code != 0 {
			t.Fatalf("report: %d %s", code, errb.String())
		}
		if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Forwarded.Posted.Bills == sales && rep.Forwarded.Pending.Bills == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 2 minutes the report says %+v; want %d bills posted\n%s", rep.Forwarded, sales, p.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.stop()
	c := plat.Counts()
	if c.Bills != sales || c.Conflicts != 0 || c.Invalid != 0 {
		t.Fatalf("stand-in counts %+v; want %d bills, no conflict or invalid", c, sales)
	}
	for _, ref := range plat.Refs() {
		if !want[ref] {
			t.Errorf("the stand-in holds %s, no sale of the terminal", ref)
		}
	}
	if !rep.Forwarded.Configured || len(rep.Forwarded.Refused) != 0 {
		t.Errorf("report forwarded %+v; want configured, nothing refused", rep.Forwarded)
	}
	t.Logf("%d kills; stand-in counts %+v", kills, c)
}
