package bank_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/hub/bank"
	"github.com/lango-pos/lango/terminal"
)

func fixture(t *testing.T, name string) []byte { return fixtureBytes(t, name) }

func fixtureBytes(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "bank", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func eqty() bank.CSVConfig {
	c := bank.DefaultCSV()
	c.Bank, c.Account = "EQTY", "0170299834511"
	return c
}

func TestParseCamt053(t *testing.T) {
	st, err := bank.Parse(fixture(t, "kcb-2024-01-03.camt053.xml"), bank.CSVConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Bank != "KCB" || st.Account != "1108472635" || st.ID != "KCB-1108472635-20240103" || st.Currency != "KES" || st.Format != "camt.053" {
		t.Errorf("statement = %s %s %s %s %s; want KCB 1108472635 KCB-1108472635-20240103 KES camt.053", st.Bank, st.Account, st.ID, st.Currency, st.Format)
	}
	want := []bank.Entry{
		{Key: "KCB0001", Reference: "FT24003AAA01", Amount: 530000},
		{Key: "KCB0002", Reference: "FT24003AAA02", Amount: 500000},
		{Key: "KCB0003", Reference: "SCHOOLTRIPDEPOSIT", Amount: 1200000},
	}
	if len(st.Credits) != len(want) || st.Debits != 1 {
		t.Fatalf("credits = %+v, debits %d; want %d booked credits (the pending one left out) and 1 debit", st.Credits, st.Debits, len(want))
	}
	for i, w := range want {
		g := st.Credits[i]
		if g.Key != w.Key || g.Reference != w.Reference || g.Amount != w.Amount || g.Booked.Format("2006-01-02") != "2024-01-03" {
			t.Errorf("credit %d = %+v; want %+v booked 2024-01-03", i, g, w)
		}
	}
}

func TestParseCSV(t *testing.T) {
	st, err := bank.Parse(fixture(t, "eqty-2024-01-03.csv"), eqty())
	if err != nil {
		t.Fatal(err)
	}
	if st.Bank != "EQTY" || st.Currency != "KES" || !strings.HasPrefix(st.ID, "sha256:") || st.Debits != 1 || len(st.Credits) != 4 {
		t.Fatalf("statement = %+v; want EQTY KES, 4 credits, 1 debit", st)
	}
	if c := st.Credits[2]; c.Reference != "FT24003EEE03" || c.Amount != 530000 {
		t.Errorf("third credit = %+v; want FT24003EEE03 (spaces dropped, upper case) KES 5,300.00", c)
	}
	// Columns are configurable: the same rows under other names.
	renamed := strings.Replace(string(fixture(t, "eqty-2024-01-03.csv")), "Transaction Date,Value Date,Narration,Reference,Debit,Credit", "Posting Date;Value Date;Details;Cust Ref;Money Out;Money In", 1)
	renamed = regexp.MustCompile(`"(\d+),(\d{3}\.\d\d)"`).ReplaceAllString(renamed, "$1$2")
	renamed = strings.ReplaceAll(renamed, ",", ";")
	cfg := eqty()
	cfg.Date, cfg.Reference, cfg.Debit, cfg.Credit, cfg.Comma = "posting date", "Cust Ref", "Money Out", "Money In", ';'
	st2, err := bank.ParseCSV([]byte(renamed), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(st2.Credits) != 4 || st2.Credits[0].Amount != 530000 || st2.Credits[0].Reference != "FT24003EEE01" {
		t.Errorf("renamed columns: %+v", st2.Credits)
	}
}

// TestBadStatementsRefused: each bad statement is refused with a clear
// message, and the ledger is left as it was.
func TestBadStatementsRefused(t *testing.T) {
	ctx := context.Background()
	l, err := bank.OpenLedger(ctx, filepath.Join(t.TempDir(), "bank.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	good, err := bank.Parse(fixture(t, "kcb-2024-01-03.camt053.xml"), bank.CSVConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Import(ctx, good, time.Now()); err != nil {
		t.Fatal(err)
	}
	before, _ := l.Counts(ctx)
	dupID := eqty()
	dupID.ID = "Bank Ref"
	usd := eqty()
	usd.Currency = "USD"
	for _, c := range []struct {
		file string
		cfg  bank.CSVConfig
		kind string
		want string
	}{
		{"bad/wrong-currency.camt053.xml", bank.CSVConfig{}, terminal.EINVALID, `amount in "USD"; the account is in KES`},
		{"bad/duplicate-entry.camt053.xml", bank.CSVConfig{}, terminal.EINVALID, "entry KCB0001 appears twice"},
		{"bad/malformed.camt053.xml", bank.CSVConfig{}, terminal.EINVALID, "not camt.053 XML"},
		{"bad/amended.camt053.xml", bank.CSVConfig{}, terminal.ECONFLICT, "entry KCB0001 was imported before as FT24003AAA01 KES 5,300.00, now as FT24003AAA01 KES 5,400.00"},
		{"bad/wrong-currency.csv", eqty(), terminal.EINVALID, "line 2: a credit in USD; the account is in KES"},
		{"bad/duplicate-entry.csv", dupID, terminal.EINVALID, "entry EQ0001 appears twice"},
		{"bad/no-credit-column.csv", eqty(), terminal.EINVALID, `no "Transaction Date" column`},
		{"eqty-2024-01-03.csv", bank.CSVConfig{Currency: "KES", Date: "Transaction Date", Reference: "Reference", Credit: "Credit"}, terminal.EINVALID, "needs --bank"},
	} {
		st, err := bank.Parse(fixture(t, c.file), c.cfg)
		if err == nil {
			_, err = l.Import(ctx, st, time.Now())
		}
		if err == nil || terminal.ErrorKind(err) != c.kind || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %s containing %q", c.file, err, c.kind, c.want)
		}
		if strings.Contains(err.Error(), "internal error") {
			t.Errorf("%s: a bad statement is not an internal error: %v", c.file, err)
		}
	}
	// The same account in another currency.
	usdStmt, err := bank.Parse(fixture(t, "kcb-2024-01-03.camt053.xml"), bank.CSVConfig{})
	if err != nil {
		t.Fatal(err)
	}
	usdStmt.ID, usdStmt.Currency = "KCB-OTHER", "USD"
	if _, err := l.Import(ctx, usdStmt, time.Now()); terminal.ErrorKind(err) != terminal.ECONFLICT || !strings.Contains(err.Error(), "is in KES; this statement is in USD") {
		t.Errorf("an account's statement in another currency: %v; want ECONFLICT", err)
	}
	if after, _ := l.Counts(ctx); !maps.Equal(before, after) {
		t.Errorf("refused statements changed the ledger: %v → %v", before, after)
	}
}

// TestHugeStatementRefused: a 100 MB file is refused after reading at
// most MaxStatement+1 bytes of it.
func TestHugeStatementRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.xml")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(100 << 20); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = bank.ReadFile(f)
	if terminal.ErrorKind(err) != terminal.EINVALID || !strings.Contains(err.Error(), "larger than 16 MB") {
		t.Errorf("100 MB statement: %v; want EINVALID larger than 16 MB", err)
	}
	if pos, _ := f.Seek(0, 1); pos > bank.MaxStatement+1 {
		t.Errorf("read %d bytes of it; want at most %d", pos, bank.MaxStatement+1)
	}
}

// TestImportTwiceChangesNothing: the same statement imported again (camt
// and CSV) adds no row.
func TestImportTwiceChangesNothing(t *testing.T) {
	ctx := context.Background()
	l, err := bank.OpenLedger(ctx, filepath.Join(t.TempDir(), "bank.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, c := range []struct {
		file string
		cfg  bank.CSVConfig
		new  int
	}{{"kcb-2024-01-03.camt053.xml", bank.CSVConfig{}, 3}, {"eqty-2024-01-03.csv", eqty(), 4}} {
		st, err := bank.Parse(fixture(t, c.file), c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		first, err := l.Import(ctx, st, time.Now())
		if err != nil || first.New != c.new || first.Known {
			t.Fatalf("%s first import: %+v, %v; want %d new", c.file, first, err, c.new)
		}
		before, _ := l.Counts(ctx)
		again, err := l.Import(ctx, st, time.Now())
		if err != nil || again.New != 0 || !again.Known {
			t.Errorf("%s again: %+v, %v; want known, nothing new", c.file, again, err)
		}
		if after, _ := l.Counts(ctx); !maps.Equal(before, after) {
			t.Errorf("%s imported twice: %v → %v", c.file, before, after)
		}
	}
}
