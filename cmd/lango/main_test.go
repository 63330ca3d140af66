package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// TestMain lets tests run this binary as lango itself (LANGO_TEST_MAIN=1),
// for the tests that kill the terminal.
func TestMain(m *testing.M) {
	if os.Getenv("LANGO_TEST_MAIN") == "1" {
		args := os.Args[1:]
		mm := NewMain()
		code := mm.Run(context.Background(), args)
		mm.Close()
		if f := os.Getenv("LANGO_TEST_PEAK"); f != "" {
			writePeakRSS(f) // for BenchmarkGrowth
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// cli runs lango in process with its own data folder and environment.
type cli struct {
	t    *testing.T
	data string
	env  map[string]string
}

func newCLI(t *testing.T) *cli {
	return &cli{t: t, data: t.TempDir(), env: map[string]string{"LANGO_PIN": "1234"}}
}

// run returns the exit status, stdout and stderr of one command line.
func (c *cli) run(args ...string) (int, string, string) {
	c.t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv:     func(k string) string { return c.env[k] },
		IsTerminal: func() bool { return false },
	}
	defer m.Close()
	code := m.Run(context.Background(), append([]string{"--data", c.data}, args...))
	return code, out.String(), errb.String()
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	code, out, errs := c.run(args...)
	if code != 0 {
		c.t.Fatalf("lango %s: exit %d; stderr: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

// refused runs a command that must fail with status want and a one-line
// "lango: " message containing msg.
func (c *cli) refused(want int, msg string, args ...string) {
	c.t.Helper()
	code, _, errs := c.run(args...)
	if code != want {
		c.t.Errorf("lango %s: exit %d; want %d (stderr %q)", strings.Join(args, " "), code, want, errs)
	}
	lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
	if !strings.HasPrefix(errs, "lango: ") || !strings.Contains(errs, msg) {
		c.t.Errorf("lango %s: stderr %q; want one line starting 'lango: ' containing %q", strings.Join(args, " "), errs, msg)
	}
	if len(lines) != 1 {
		c.t.Errorf("lango %s: stderr has %d lines; want 1", strings.Join(args, " "), len(lines))
	}
}

func catalogue(name string) string { return filepath.Join("..", "..", "testdata", "catalogues", name) }

func (c *cli) initNNP(extra ...string) {
	c.t.Helper()
	c.ok(append([]string{"init", "--site", "NNP", "--terminal", "gate-1", "--catalogue", catalogue("kws.json")}, extra...)...)
}

func (c *cli) rowCounts() map[string]int {
	c.t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(c.data, "lango.db"))
	if err != nil {
		c.t.Fatal(err)
	}
	defer db.Close()
	out := map[string]int{}
	for _, t := range []string{"sales", "mpesa_codes", "events", "shifts", "operators", "settings", "print_jobs", "settlements", "pass_marks"} {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM " + t).Scan(&n); err != nil {
			c.t.Fatal(err)
		}
		out[t] = n
	}
	return out
}

func TestCLIFlow(t *testing.T) {
	c := newCLI(t)
	c.initNNP()
	var settings map[string]string
	if err := json.Unmarshal([]byte(c.ok("config", "show", "--json")), &settings); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"printer", "pdq", "scanner", "hub", "language", "mode"} {
		if _, ok := settings[k]; !ok {
			t.Errorf("config show lacks %q: %v", k, settings)
		}
	}
	c.ok("config", "set", "language", "sw")
	// A printer with software flow control on a clone profile: the store
	// once refused the flow option the printer takes.
	if out := c.ok("config", "set", "printer", "serial:/dev/ttyUSB0?baud=19200&profile=clone80-512&flow=xonxoff"); !strings.Contains(out, "flow=xonxoff") {
		t.Errorf("config set printer: %q", out)
	}
	c.ok("config", "set", "printer", "none")
	c.env["LANGO_NEW_PIN"] = "5678"
	c.ok("operator", "add", "--as", "admin", "--name", "wanjiru", "--role", "attendant")
	// A new PIN for wanjiru, and back: the old one is refused in between.
	c.env["LANGO_NEW_PIN"] = "8642"
	if out := c.ok("operator", "pin", "--as", "admin", "--name", "wanjiru"); !strings.Contains(out, "wanjiru has a new PIN") {
		t.Errorf("operator pin: %q", out)
	}
	c.env["LANGO_PIN"] = "5678"
	c.refused(1, "wrong PIN", "shift", "open", "--as", "wanjiru", "--float", "KES=0")
	c.env["LANGO_PIN"], c.env["LANGO_NEW_PIN"] = "1234", "5678"
	c.ok("operator", "pin", "--as", "admin", "--name", "wanjiru")
	c.refused(1, "no operator named", "operator", "pin", "--as", "admin", "--name", "nobody")
	c.env["LANGO_NEW_PIN"] = "2468"
	c.ok("operator", "add", "--as", "admin", "--name", "leaver", "--role", "attendant")
	if out := c.ok("operator", "disable", "--as", "admin", "--name", "leaver"); !strings.Contains(out, "leaver disabled") {
		t.Errorf("operator disable: %q", out)
	}
	c.env["LANGO_PIN"] = "2468"
	c.refused(1, "disabled", "shift", "open", "--as", "leaver", "--float", "KES=0")
	c.env["LANGO_PIN"], c.env["LANGO_NEW_PIN"] = "1234", "5678"
	c.refused(1, "cannot disable themselves", "operator", "disable", "--as", "admin", "--name", "admin")

	var cat struct {
		Version string
		Sites   []struct{ Code, Name string }
		Items   []struct {
			Code   string
			Name   string
			Prices json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(c.ok("catalogue", "show", "--json")), &cat); err != nil {
		t.Fatal(err)
	}
	if cat.Version != "KWS-2024.1" || len(cat.Sites) != 15 || len(cat.Items) < 12 {
		t.Errorf("catalogue show: version %q, %d sites, %d items", cat.Version, len(cat.Sites), len(cat.Items))
	}

	c.env["LANGO_PIN"] = "5678"
	c.ok("shift", "open", "--as", "wanjiru", "--float", "KES=5000")
	out := c.ok("sell", "--as", "wanjiru", "--item", "EAC-ADULT=2", "--item", "EAC-CHILD=2", "--item", "CAR=1",
		"--vehicle", "KCB 123A", "--pay", "cash:KES=6000", "--json")
	var sale struct {
		ID      string
		State   string
		Lines   []struct{ Unit, Total map[string]int64 }
		Totals  map[string]int64
		Tenders []struct {
			Kind   string
			Amount map[string]int64
			Change map[string]int64
		}
		Pass  string
		Print struct{ Status, Job string }
	}
	if err := json.Unmarshal([]byte(out), &sale); err != nil {
		t.Fatalf("sell --json: %v\n%s", err, out)
	}
	if sale.State != "paid" || sale.Totals["KES"] != 530000 || sale.Tenders[0].Change["KES"] != 70000 || !strings.HasPrefix(sale.Pass, "LG1:") {
		t.Errorf("sale = %+v", sale)
	}
	if len(sale.Lines) != 3 || sale.Lines[0].Unit["KES"] != 200000 || sale.Lines[0].Total["KES"] != 400000 {
		t.Errorf("lines = %+v; want money objects, 2 × KES 2,000.00 first", sale.Lines)
	}
	if sale.Print.Status != "none" {
		t.Errorf("print status = %q; want none (no printer)", sale.Print.Status)
	}
	// The pass verifies at this terminal.
	var pv struct {
		Valid bool
		State string
		Pass  struct{ Plate string }
	}
	if err := json.Unmarshal([]byte(c.ok("pass", "verify", "--json", sale.Pass)), &pv); err != nil {
		t.Fatal(err)
	}
	if !pv.Valid || pv.State != "paid" || pv.Pass.Plate != "KCB123A" {
		t.Errorf("pass verify = %+v", pv)
	}
	deferred := c.ok("sell", "--as", "wanjiru", "--item", "INT-ADULT=2", "--item", "INT-CHILD=3", "--item", "TOUR-VAN=1", "--vehicle", "KDA 001X", "--pay", "defer", "--json")
	var d struct {
		ID, State, Pass string
	}
	json.Unmarshal([]byte(deferred), &d)
	if d.State != "deferred" {
		t.Errorf("deferred sale state %q", d.State)
	}
	// The supervisor voids it: the pass is refused as revoked, exit 1.
	c.env["LANGO_PIN"] = "1234"
	c.ok("void", "--as", "admin", d.ID, "--reason", "wrong vehicle")
	code, jout, _ := c.run("pass", "verify", "--json", d.Pass)
	var ref struct {
		Valid  bool
		Reason string
	}
	json.Unmarshal([]byte(jout), &ref)
	if code != 1 || ref.Valid || ref.Reason != "revoked" {
		t.Errorf("verify voided pass: exit %d %+v; want 1, revoked", code, ref)
	}
	var sales []struct{ ID, State string }
	json.Unmarshal([]byte(c.ok("sales", "--json")), &sales)
	if len(sales) != 2 || sales[1].State != "voided" {
		t.Errorf("sales = %+v", sales)
	}
	c.ok("audit", "verify")
	c.env["LANGO_PIN"] = "5678"
	var z struct {
		Tenders []struct {
			Tender   string
			Currency string
			Amount   int64
		}
		Expected map[string]int64 `json:"expected_cash"`
		Counted  map[string]int64 `json:"counted_cash"`
		Variance map[string]int64
		Sales    int
		Voided   int
	}
	if err := json.Unmarshal([]byte(c.ok("shift", "close", "--as", "wanjiru", "--counted", "KES=10300", "--json")), &z); err != nil {
		t.Fatal(err)
	}
	if z.Expected["KES"] != 1030000 || z.Variance["KES"] != 0 || z.Sales != 1 || z.Voided != 1 || len(z.Tenders) != 1 || z.Tenders[0].Amount != 530000 {
		t.Errorf("Z = %+v", z)
	}
	c.refused(1, "no open shift to close", "shift", "close", "--as", "wanjiru", "--counted", "KES=0")
}

func TestCLIRefusals(t *testing.T) {
	c := newCLI(t)
	c.initNNP()
	c.ok("shift", "open", "--as", "admin", "--float", "KES=1000")
	c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "mpesa:SG722NMVXQ")
	before := c.rowCounts()
	for _, tt := range []struct {
		code int
		msg  string
		args []string
	}{
		{1, `unknown item "NOPE"`, []string{"sell", "--as", "admin", "--item", "NOPE=1", "--pay", "cash"}},
		{1, "at least 1", []string{"sell", "--as", "admin", "--item", "EAC-ADULT=0", "--pay", "cash"}},
		{1, "at least 1", []string{"sell", "--as", "admin", "--item", "EAC-ADULT=-2", "--pay", "cash"}},
		{1, "at most 500", []string{"sell", "--as", "admin", "--item", "EAC-ADULT=99999999", "--pay", "cash"}},
		{1, "not a whole number", []string{"sell", "--as", "admin", "--item", "EAC-ADULT=two", "--pay", "cash"}},
		{1, "M-PESA code", []string{"sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "mpesa:SG72"}},
		{1, "already used on sale 1", []string{"sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "mpesa:sg722nmvxq"}},
		{1, "short of the total", []string{"sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "cash:KES=100"}},
		{1, "is not an amount", []string{"sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "cash:KES=abc"}},
		{1, "enter the vehicle plate", []string{"sell", "--as", "admin", "--item", "EAC-ADULT=1", "--item", "CAR=1", "--pay", "cash"}},
		{1, "vehicle plate", []string{"sell", "--as", "admin", "--item", "EAC-ADULT=1", "--vehicle", "KCB 123A 4567 8901", "--pay", "cash"}},
		{1, "no integrated PDQ", []string{"sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "card"}},
		{1, "unknown operator or wrong PIN", []string{"sell", "--as", "nobody", "--item", "EAC-ADULT=1", "--pay", "cash"}},
		{1, "malformed", []string{"pass", "verify", "not-a-pass"}},
		{1, "no sale", []string{"void", "--as", "admin", "0190aaaa-0000-7000-8000-000000000000", "--reason", "x"}},
		{1, "language must be en or sw", []string{"config", "set", "language", "fr"}},
		{1, "printer", []string{"config", "set", "printer", "serial:/dev/ttyUSB0?baud=fast"}},
		{1, `unknown printer profile "nope"`, []string{"config", "set", "printer", "serial:/dev/ttyUSB0?profile=nope"}},
		{1, `unknown printer profile "nope"`, []string{"config", "set", "printer", "emulator:/tmp/paper?profile=nope"}},
		{1, `baud "12345"`, []string{"config", "set", "pdq", "zvt:/dev/ttyS0?baud=12345"}},
		{1, "already has a shift open", []string{"shift", "open", "--as", "admin", "--float", "KES=1"}},
		{2, "unknown command", []string{"frobnicate"}},
		{2, "sell needs --item", []string{"sell", "--as", "admin"}},
		{2, "flag provided but not defined", []string{"sell", "--colour", "red"}},
		{1, "already holds a terminal", []string{"init", "--site", "NNP", "--terminal", "gate-2", "--catalogue", catalogue("kws.json")}},
	} {
		c.refused(tt.code, tt.msg, tt.args...)
	}
	// A wrong PIN is refused with exit 1.
	c.env["LANGO_PIN"] = "9999"
	c.refused(1, "wrong PIN", "sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "cash")
	after := c.rowCounts()
	for k, n := range before {
		if after[k] != n {
			t.Errorf("refused commands changed %s: %d → %d rows", k, n, after[k])
		}
	}
	// No PIN at all, and no terminal to prompt on: a usage error.
	delete(c.env, "LANGO_PIN")
	c.refused(2, "set LANGO_PIN", "shift", "close", "--as", "admin", "--counted", "KES=1000")
}

func TestCLIInitRefusesCorruptCatalogue(t *testing.T) {
	c := newCLI(t)
	bad := filepath.Join(t.TempDir(), "bad.json")
	b, _ := os.ReadFile(catalogue("kws.json"))
	os.WriteFile(bad, b[:len(b)/3], 0o600)
	c.refused(1, "catalogue file is not valid", "init", "--site", "NNP", "--terminal", "gate-1", "--catalogue", bad)
	if _, err := os.Stat(filepath.Join(c.data, "lango.db")); err == nil {
		t.Error("a refused init left a store behind")
	}
	c.refused(1, "catalogue file is not valid", "catalogue", "show", "--file", bad, "--json")
}

// TestCLIAuditVerifyFindsAlteredRow: altering one stored row makes
// `lango audit verify` fail at that record.
func TestCLIAuditVerifyFindsAlteredRow(t *testing.T) {
	c := newCLI(t)
	c.initNNP()
	c.ok("shift", "open", "--as", "admin", "--float", "KES=1000")
	var ids []string
	for i := 0; i < 3; i++ {
		var s struct{ ID string }
		json.Unmarshal([]byte(c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "cash", "--json")), &s)
		ids = append(ids, s.ID)
	}
	c.ok("audit", "verify")
	db, err := sql.Open("sqlite", filepath.Join(c.data, "lango.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE sales SET vehicle = 'KZZ 999Z' WHERE id = ?`, ids[1]); err != nil {
		t.Fatal(err)
	}
	db.Close()
	c.refused(1, "sales row "+ids[1], "audit", "verify")
}

func TestCLIPrintsToEmulator(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	c.initNNP("--printer", "emulator:"+out)
	c.ok("shift", "open", "--as", "admin", "--float", "KES=1000")
	var s struct {
		Pass  string
		Print struct{ Status, Job string }
	}
	json.Unmarshal([]byte(c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=2", "--item", "CAR=1", "--vehicle", "KCB 999Z", "--pay", "cash", "--json")), &s)
	if s.Print.Status != "printed" || s.Print.Job == "" {
		t.Fatalf("print = %+v; want printed", s.Print)
	}
	pngs, _ := filepath.Glob(filepath.Join(out, "*.png"))
	if len(pngs) != 1 {
		t.Fatalf("%d PNGs in %s; want 1", len(pngs), out)
	}
	decodeQR(t, pngs[0], s.Pass)
	// A reprint is a second job, marked COPY.
	c.ok("reprint", "--as", "admin", strings.TrimSpace(firstSaleID(t, c)))
	pngs, _ = filepath.Glob(filepath.Join(out, "*.png"))
	if len(pngs) != 2 {
		t.Errorf("%d PNGs after reprint; want 2", len(pngs))
	}
	// Nothing waits.
	if got := c.ok("print", "--pending"); !strings.Contains(got, "0 printed, 0 waiting") {
		t.Errorf("print --pending: %q", got)
	}
}

func firstSaleID(t *testing.T, c *cli) string {
	var sales []struct{ ID string }
	json.Unmarshal([]byte(c.ok("sales", "--json")), &sales)
	if len(sales) == 0 {
		t.Fatal("no sales")
	}
	return sales[0].ID
}

// TestCLIMissingPrinterPort: a missing port is a clear message; the sale
// completes and its job waits for `lango print --pending`.
func TestCLIMissingPrinterPort(t *testing.T) {
	c := newCLI(t)
	c.initNNP("--printer", "serial:/dev/lango-no-such-port?profile=generic58")
	c.ok("shift", "open", "--as", "admin", "--float", "KES=1000")
	var s struct {
		ID    string
		State string
		Print struct{ Status, Job, Error string }
	}
	out := c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "cash", "--json")
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if s.State != "paid" || s.Print.Status != "queued" || s.Print.Job == "" || !strings.Contains(s.Print.Error, "/dev/lango-no-such-port") {
		t.Fatalf("sell with a missing printer port = %+v; want paid, print queued with a message naming the port", s)
	}
	c.refused(3, "1 job waits in the spool, not lost", "print", "--pending")
	if n := c.rowCounts()["sales"]; n != 1 {
		t.Errorf("%d sales; want 1", n)
	}
}

// TestCLIAuditVerifyNamesEveryEditedTable: editing one row of the
// operators (a role), shifts (a float), settlements or pass marks makes
// `lango audit verify` fail, naming that table's row; the store as Lango
// left it verifies.
func TestCLIAuditVerifyNamesEveryEditedTable(t *testing.T) {
	for _, tc := range []struct {
		table, edit string
	}{
		{"operators", `UPDATE operators SET role = 'supervisor' WHERE name = 'kamau'`},
		{"shifts", `UPDATE shifts SET float = '{"KES":9900000}'`},
		{"settlements", `UPDATE settlements SET at = '2024-01-01T00:00:00.000000000Z'`},
		{"pass_marks", `UPDATE pass_marks SET ref = 'forged' WHERE mark = 'settled'`},
	} {
		t.Run(tc.table, func(t *testing.T) {
			c := newCLI(t)
			c.initNNP()
			c.env["LANGO_NEW_PIN"] = "8642"
			c.ok("operator", "add", "--as", "admin", "--name", "kamau", "--role", "attendant")
			delete(c.env, "LANGO_NEW_PIN")
			c.ok("shift", "open", "--as", "admin", "--float", "KES=1000")
			var sale struct{ ID, Pass string }
			json.Unmarshal([]byte(c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=1", "--vehicle", "KDA 123A", "--pay", "defer", "--json")), &sale)
			c.ok("settle", "--as", "admin", sale.Pass, "--pay", "cash", "--json")
			c.ok("audit", "verify")
			db, err := sql.Open("sqlite", filepath.Join(c.data, "lango.db"))
			if err != nil {
				t.Fatal(err)
			}
			r, err := db.Exec(tc.edit)
			if n, _ := r.RowsAffected(); err != nil || n != 1 {
				t.Fatalf("%s: %v, %d rows", tc.edit, err, n)
			}
			db.Close()
			c.refused(1, tc.table+" row ", "audit", "verify")
		})
	}
}

// TestCLIVoidAndRefundBySaleNumber: the number every screen and slip shows
// names the sale as its id does.
func TestCLIVoidAndRefundBySaleNumber(t *testing.T) {
	c := newCLI(t)
	c.initNNP()
	c.ok("shift", "open", "--as", "admin", "--float", "KES=1000")
	var a, b struct {
		ID     string
		Number int64
	}
	json.Unmarshal([]byte(c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "cash", "--json")), &a)
	json.Unmarshal([]byte(c.ok("sell", "--as", "admin", "--item", "EAC-CHILD=1", "--pay", "cash", "--json")), &b)
	var voided struct{ ID, State string }
	json.Unmarshal([]byte(c.ok("void", "--as", "admin", fmt.Sprint(b.Number), "--reason", "keyed twice", "--json")), &voided)
	if voided.ID != b.ID || voided.State != "voided" {
		t.Errorf("void of sale number %d: %+v; want sale %s voided", b.Number, voided, b.ID)
	}
	var refund struct {
		RefundOf string `json:"refund_of"`
	}
	json.Unmarshal([]byte(c.ok("refund", "--as", "admin", fmt.Sprint(a.Number), "--reason", "visitor left", "--json")), &refund)
	if refund.RefundOf != a.ID {
		t.Errorf("refund of sale number %d: refund_of %q; want %s", a.Number, refund.RefundOf, a.ID)
	}
	c.refused(1, "no sale number 99 on this terminal", "void", "--as", "admin", "99", "--reason", "nope")
}

// TestCLIRunWithoutDisplaySaysSo: `lango run` with no display is one
// line and exit 3, not a GLFW panic.
func TestCLIRunWithoutDisplaySaysSo(t *testing.T) {
	bin := buildLango(t)
	code, out, errs := runEnv(t, bin, []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}, "--data", t.TempDir(), "run")
	if code != 3 || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "lango: no display") {
		t.Errorf("run without a display: exit %d, stdout %q, stderr %q; want exit 3 and one line", code, out, errs)
	}
}
