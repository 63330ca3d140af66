package main

import (
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

// refusedSame is refused, and wants the store unchanged.
func (c *cli) refusedSame(want int, msg string, args ...string) {
	c.t.Helper()
	before := c.storeChecksum()
	c.refused(want, msg, args...)
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
	if err := json.Unmarshal([]byte(c.ok("shift", "close", "--as", "admin", "--counted", "KES=1000", "--json")), &z); err != nil {
		t.Fatal(err)
	}
	if z.Visitors != 11 || z.Sales != 4 {
		t.Errorf("Z-report visitors %d on %d sales; want 11 on 4 (5 + 3 × 2 under-fives)", z.Visitors, z.Sales)
	}
}
