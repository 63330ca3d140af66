package main

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lango-pos/lango/sync/hub/bank"
)

func bankFixture(name string) string {
	return filepath.Join("..", "..", "testdata", "bank", filepath.FromSlash(name))
}

// TestBankImportCommand: lango-hub bank import reads a camt.053 and a CSV
// statement, says so, changes nothing the second time, refuses bad files
// with one line and exit 1 leaving bank.db as it was, and the report gains
// its bank section.
func TestBankImportCommand(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := run(t, "bank", "import", "--data", dir, "--json", bankFixture("kcb-2024-01-03.camt053.xml"))
	var imp struct {
		Bank    string `json:"bank"`
		Credits int    `json:"credits"`
		New     int    `json:"new"`
		Known   bool   `json:"known"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &imp) != nil || imp.Bank != "KCB" || imp.New != 3 || imp.Known {
		t.Fatalf("camt.053 import: exit %d, %s %s", code, out, errs)
	}
	csvArgs := []string{"bank", "import", "--data", dir, "--bank", "eqty", "--account", "0170299834511", bankFixture("eqty-2024-01-03.csv")}
	if code, out, errs := run(t, csvArgs...); code != 0 || !strings.Contains(out, "imported statement sha256:") || !strings.Contains(out, "4 credits, 4 new, 1 debits") {
		t.Fatalf("CSV import: exit %d, %q %q", code, out, errs)
	}
	size := func() map[string]int {
		l, err := bank.OpenLedger(context.Background(), filepath.Join(dir, "bank.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		n, err := l.Counts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := size()
	if code, out, _ := run(t, csvArgs...); code != 0 || !strings.HasPrefix(out, "already imported") || !strings.Contains(out, "0 new") {
		t.Errorf("CSV again: exit %d, %q; want already imported, 0 new", code, out)
	}
	huge := filepath.Join(t.TempDir(), "huge.camt053.xml")
	if err := os.WriteFile(huge, []byte("<?xml version=\"1.0\"?>"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, 100<<20); err != nil { // 100 MB, sparse
		t.Fatal(err)
	}
	for _, c := range []struct {
		code int
		msg  string
		args []string
	}{
		{1, "larger than 16 MB", []string{huge}},
		{1, "not camt.053 XML", []string{bankFixture("bad/malformed.camt053.xml")}},
		{1, "appears twice", []string{bankFixture("bad/duplicate-entry.camt053.xml")}},
		{1, "the account is in KES", []string{bankFixture("bad/wrong-currency.camt053.xml")}},
		{1, "needs --bank", []string{bankFixture("eqty-2024-01-03.csv")}},
		{1, "cannot read", []string{bankFixture("missing.xml")}},
		{1, "bank code", []string{"--bank", "K!", bankFixture("eqty-2024-01-03.csv")}},
		{2, "takes 1 argument", nil},
	} {
		code, out, errs := run(t, append([]string{"bank", "import", "--data", dir}, c.args...)...)
		if code != c.code || out != "" || !strings.HasPrefix(errs, "lango-hub: ") || !strings.Contains(errs, c.msg) || strings.Count(errs, "\n") != 1 {
			t.Errorf("bank import %v: exit %d, stdout %q, stderr %q; want %d and one line with %q", c.args, code, out, errs, c.code, c.msg)
		}
	}
	if after := size(); !maps.Equal(after, before) {
		t.Errorf("refused imports changed bank.db: %v → %v", before, after)
	}
	code, out, errs = run(t, "report", "--data", dir, "--json")
	var r struct {
		Bank *struct {
			Unclaimed []struct {
				Reference string `json:"reference"`
			} `json:"unclaimed"`
		} `json:"bank"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Bank == nil || len(r.Bank.Unclaimed) != 7 {
		t.Errorf("report: exit %d %s %s; want a bank section with the 7 credits unclaimed (no terminal yet)", code, out, errs)
	}
	if code, out, _ := run(t, "report", "--data", dir); code != 0 || !strings.Contains(out, "bank: 0 matched, 0 amount mismatches, 0 unknown at the bank, 0 pending, 7 credits unclaimed") ||
		!strings.Contains(out, "unclaimed KCB SCHOOLTRIPDEPOSIT KES 12,000.00 1108472635 booked 2024-01-03") {
		t.Errorf("text report: exit %d\n%s", code, out)
	}
}
