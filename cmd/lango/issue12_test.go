package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lango-pos/lango/terminal/pass"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// storeChecksum hashes every row of every table of the terminal's store.
func (c *cli) storeChecksum() string {
	c.t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(c.data, "lango.db")+"?mode=ro")
	if err != nil {
		c.t.Fatal(err)
	}
	defer db.Close()
	var tables []string
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		c.t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	h := sha256.New()
	for _, tb := range tables {
		r, err := db.Query(`SELECT * FROM "` + tb + `"`)
		if err != nil {
			c.t.Fatal(err)
		}
		cols, _ := r.Columns()
		var lines []string
		for r.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := r.Scan(ptrs...); err != nil {
				c.t.Fatal(err)
			}
			lines = append(lines, fmt.Sprintf("%#v", vals))
		}
		r.Close()
		slices.Sort(lines)
		fmt.Fprintf(h, "%s %d %s\n", tb, len(lines), strings.Join(lines, "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// refusedSame is refused with exit status want and a message that starts
// with msg (nothing before it: the card desk once put "the card but the
// payment could not be recorded" before every refusal), and wants the
// store unchanged.
func (c *cli) refusedSame(want int, msg string, args ...string) {
	c.t.Helper()
	before := c.storeChecksum()
	code, _, errs := c.run(args...)
	if code != want || !strings.HasPrefix(errs, "lango: "+msg) || strings.Count(errs, "\n") != 1 {
		c.t.Errorf("lango %s: exit %d, stderr %q; want %d and one line starting %q", strings.Join(args, " "), code, errs, want, "lango: "+msg)
	}
	if c.storeChecksum() != before {
		c.t.Errorf("lango %s changed the store", strings.Join(args, " "))
	}
}

func TestCLICatalogueVersionWithEnDashDoesNotStopASite(t *testing.T) {
	c := newCLI(t)
	b, err := os.ReadFile(catalogue("kws.json"))
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "kws-en-dash.json")
	os.WriteFile(bad, []byte(strings.Replace(string(b), `"KWS-2024.1"`, `"KWS–2024.1"`, 1)), 0o600)
	c.refused(1, `catalogue file is not valid: version "KWS–2024.1"`, "init", "--site", "NNP", "--terminal", "gate-1", "--catalogue", bad)
	if _, err := os.Stat(filepath.Join(c.data, "lango.db")); err == nil {
		t.Error("a refused init left a store behind")
	}
	c.refused(1, "not printable ASCII", "catalogue", "show", "--file", bad, "--json")
}

func TestCLISaleInputsOfIssue12(t *testing.T) {
	c := newCLI(t)
	c.initNNP()
	c.ok("shift", "open", "--as", "admin", "--float", "KES=1000")

	// Plate without a vehicle line: recorded on the sale and the pass.
	var s struct {
		ID      string         `json:"id"`
		State   string         `json:"state"`
		Vehicle string         `json:"vehicle"`
		Pass    string         `json:"pass"`
		Tenders []any          `json:"tenders"`
		Totals  map[string]int `json:"totals"`
	}
	out := c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=2", "--item", "EAC-CHILD=3", "--vehicle", "KCB456Z", "--pay", "defer", "--json")
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("sell --json: %v: %s", err, out)
	}
	p, err := pass.ParseText(s.Pass)
	if err != nil || p.Plate != "KCB456Z" || p.SeatBand != "" || s.Vehicle != "KCB456Z" || s.State != "deferred" {
		t.Errorf("sale %+v, pass %+v, %v; want KCB456Z on both, deferred", s, p, err)
	}
	if out := c.ok("pass", "verify", s.Pass); !strings.Contains(out, "KCB456Z") {
		t.Errorf("pass verify: %q; want the plate", out)
	}

	// Refused, nothing stored.
	c.refusedSame(1, `the plate " - - " has no letters or digits`, "sell", "--as", "admin", "--item", "EAC-ADULT=1", "--item", "CAR=1", "--vehicle", " - - ", "--pay", "cash")
	many := []string{"sell", "--as", "admin"}
	for range 20 {
		many = append(many, "--item", "EAC-ADULT=500")
	}
	c.refusedSame(1, "EAC-ADULT: 10000 in this sale (on 20 lines); at most 500", append(many, "--pay", "defer")...)

	// Free entry: no --pay, --pay cash, --pay cash:KES=0.
	for _, pay := range [][]string{nil, {"--pay", "cash"}, {"--pay", "cash:KES=0"}} {
		out := c.ok(append([]string{"sell", "--as", "admin", "--item", "EAC-UNDER5=2", "--json"}, pay...)...)
		s.Pass = ""
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatal(err)
		}
		if s.State != "paid" || len(s.Tenders) != 0 || !strings.HasPrefix(s.Pass, "LG1:") {
			t.Errorf("free entry %v: %+v; want paid, no tenders, a pass", pay, s)
		}
	}
	// Without --pay a sale that costs something is a usage error.
	c.refusedSame(2, "sell needs --pay TENDER: KES ", "sell", "--as", "admin", "--item", "EAC-ADULT=1")

	var z struct {
		Visitors int `json:"visitors"`
		Sales    int `json:"sales"`
	}
	if err := json.Unmarshal([]byte(c.ok("shift", "close", "--as", "admin", "--counted", "KES=1000", "--supervisor", "admin", "--open-passes", "1", "--json")), &z); err != nil {
		t.Fatal(err)
	}
	if z.Visitors != 11 || z.Sales != 4 {
		t.Errorf("Z-report visitors %d on %d sales; want 11 on 4 (5 + 3 × 2 under-fives)", z.Visitors, z.Sales)
	}
}

// The full disk through the command line: exit 3 and the message, the store
// unchanged; selling resumes when there is room. The disk is made full with
// max_page_count on the store connection the command uses.
func TestCLIFullDiskIsExit3(t *testing.T) {
	c := newCLI(t)
	c.initNNP()
	c.ok("shift", "open", "--as", "admin", "--float", "KES=1000")
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(c.data, "lango.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pages int64
	if err := db.SQL().QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+2)); err != nil {
		t.Fatal(err)
	}
	sell := func() (int, string, string) {
		var out, errb bytes.Buffer
		m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
			Getenv: func(k string) string { return c.env[k] }, IsTerminal: func() bool { return false }, db: db}
		code := m.Run(ctx, []string{"--data", c.data, "sell", "--as", "admin", "--item", "INT-ADULT=2", "--item", "TOUR-VAN=1", "--vehicle", "KDA 123A", "--pay", "defer", "--json"})
		return code, out.String(), errb.String()
	}
	sold := 0
	for ; sold < 500; sold++ {
		before := c.storeChecksum()
		code, _, errs := sell()
		if code == 0 {
			continue
		}
		if code != 3 || errs != "lango: the disk is full: this sale was not recorded and nothing was lost; free space and try again\n" {
			t.Errorf("exit %d, stderr %q; want 3 and the disk-full message", code, errs)
		}
		if c.storeChecksum() != before {
			t.Error("the refused sale changed the store")
		}
		break
	}
	if sold == 500 {
		t.Fatal("500 sales went through a full disk")
	}
	if _, err := db.SQL().ExecContext(ctx, `PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := sell(); code != 0 {
		t.Fatalf("sell after freeing space: exit %d, %s", code, errs)
	}
	var sales []json.RawMessage
	if err := json.Unmarshal([]byte(c.ok("sales", "--json")), &sales); err != nil || len(sales) != sold+1 {
		t.Errorf("sales: %d, %v; want %d", len(sales), err, sold+1)
	}
}
