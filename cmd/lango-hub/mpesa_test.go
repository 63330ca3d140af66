package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/internal/sqlitefile"
	"github.com/lango-pos/lango/sync/hub/mpesa"
	"github.com/lango-pos/lango/sync/hub/mpesa/mpesatest"
	hubsqlite "github.com/lango-pos/lango/sync/hub/sqlite"
	"github.com/lango-pos/lango/terminal"
)

// oldLedger writes DIR/mpesa.db as hubs before the ledger joined the hub's
// database kept it: its own SQLite file, with one C2B payment and one
// answered status query.
func oldLedger(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", sqlitefile.DSN(filepath.Join(dir, "mpesa.db"), false))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE payments (code TEXT PRIMARY KEY, amount INTEGER NOT NULL, account TEXT NOT NULL, short_code TEXT NOT NULL,
			at TEXT NOT NULL, source TEXT NOT NULL, received_at TEXT NOT NULL) STRICT`,
		`CREATE TABLE queries (code TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, asked_at TEXT NOT NULL, result_code INTEGER,
			result_desc TEXT NOT NULL DEFAULT '', answered_at TEXT) STRICT`,
		`INSERT INTO payments VALUES ('SOLD000001', 530000, 'NNP', '222222', '2024-01-03T05:00:00.000000000Z', 'c2b', '2024-01-03T05:00:01.000000000Z')`,
		`INSERT INTO queries VALUES ('SOLD000002', 'AG_20240103_1', '2024-01-03T07:00:00.000000000Z', 2001, 'The initiator information is invalid.', '2024-01-03T07:00:02.000000000Z')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMpesaLedgerImportedOnce: a hub upgraded with its M-PESA ledger in
// DATA/mpesa.db carries it into the hub's database at the first command
// that opens the store, once: the file is set aside, and running again
// (or a payment delivered again) leaves one row per code.
func TestMpesaLedgerImportedOnce(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	oldLedger(t, data)
	for i := 0; i < 2; i++ {
		if code, _, stderr := run(t, "report", "--data", data, "--json"); code != 0 {
			t.Fatalf("report: %d %s", code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "mpesa.db")); !os.IsNotExist(err) {
		t.Errorf("the old ledger is still in place after its import: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "mpesa.db.imported")); err != nil {
		t.Errorf("the old ledger was not set aside: %v", err)
	}
	st, err := hubsqlite.Open(ctx, filepath.Join(data, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, ok, err := st.MpesaPayment(ctx, "SOLD000001")
	if err != nil || !ok || p.Amount != 530000 || p.ShortCode != "222222" || p.Source != "c2b" {
		t.Errorf("imported payment: %+v, %v, %v; want KES 5,300.00 to 222222 by C2B", p, ok, err)
	}
	q, ok, err := st.MpesaQuery(ctx, "SOLD000002")
	if err != nil || !ok || !q.Answered || q.ResultCode != 2001 || q.ConversationID != "AG_20240103_1" {
		t.Errorf("imported query: %+v, %v, %v; want answered 2001", q, ok, err)
	}
	n, err := st.Counts(ctx)
	if err != nil || n["mpesa_payments"] != 1 || n["mpesa_queries"] != 1 {
		t.Errorf("counts after two runs: %v, %v; want one payment and one query", n, err)
	}
}

// serveWithEnv runs `lango-hub serve --data DATA` in process with env as
// its environment.
func serveWithEnv(t *testing.T, data string, env map[string]string) string {
	t.Helper()
	srv := NewMain()
	var stderr bytes.Buffer
	srv.Stdout, srv.Stderr = &bytes.Buffer{}, &stderr
	srv.Getenv = func(k string) string { return env[k] }
	if err := srv.ParseFlags(context.Background(), []string{"serve", "--data", data, "--listen", "127.0.0.1:0", "--log-level", "error"}); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		stop()
		t.Fatalf("serve: %v\n%s", err, &stderr)
	}
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		srv.Close()
	})
	return "http://" + srv.Addr()
}

// mpesaReport is the report's mpesa section, read with the command: its
// lines (the codes not matched) by code, and its totals by status and
// paybill ("matched/222222").
func mpesaReport(t *testing.T, data string) (map[string]mpesa.Line, map[string]mpesa.Total) {
	t.Helper()
	code, out, stderr := run(t, "report", "--data", data, "--json")
	if code != 0 {
		t.Fatalf("report: %d %s", code, stderr)
	}
	var rep struct {
		Mpesa mpesa.Report `json:"mpesa"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	lines := map[string]mpesa.Line{}
	for _, ln := range rep.Mpesa.Lines {
		lines[ln.Code] = ln
	}
	totals := map[string]mpesa.Total{}
	for _, tt := range rep.Mpesa.Totals {
		totals[tt.Status+"/"+tt.Paybill] = tt
	}
	return lines, totals
}

// TestMpesaPullFindsLostCallback: two lanes sell with M-PESA; the paybill
// receives both payments, but Daraja's C2B callback of the second never
// reaches the hub. `lango-hub serve`, configured by environment, polls the
// Pull Transactions API of the stand-in, finds the payment (paged) and the
// report shows it matched, from the pull; the first, also pulled, stays
// one payment, matched from its callback.
func TestMpesaPullFindsLostCallback(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	daraja := mpesatest.NewDaraja(t)
	url := serveWithEnv(t, data, map[string]string{
		"LANGO_HUB_MPESA_ALLOW": "127.0.0.0/8", "LANGO_HUB_MPESA_SHORTCODE": "222222",
		"LANGO_DARAJA_URL": daraja.URL(), "LANGO_DARAJA_KEY": mpesatest.ConsumerKey, "LANGO_DARAJA_SECRET": mpesatest.ConsumerSecret,
		"LANGO_DARAJA_SHORTCODE": "222222", "LANGO_DARAJA_PULL_INTERVAL": "20ms",
	})
	gate := newLane(t, ctx, "gate-1", data, url, url)
	exit := newLane(t, ctx, "gate-2", data, url, url)
	s1 := gate.sell("mpesa:SPUL000001")
	s2 := exit.sell("mpesa:SPUL000002")
	gate.mustSync()
	exit.mustSync()

	// Other payments of the paybill, so the pull pages (two a page).
	daraja.ConfirmationURL = url + "/mpesa/confirmation"
	for _, p := range []mpesatest.Payment{
		{ShortCode: "222222", Code: "SOTH000001", Amount: 10000, Account: "NNP", At: time.Now().Add(-time.Hour)},
		{ShortCode: "222222", Code: "SPUL000001", Amount: s1.Totals["KES"], Account: "NNP", At: time.Now().Add(-time.Minute)},
		{ShortCode: "222222", Code: "SOTH000002", Amount: 20000, Account: "NNP", At: time.Now().Add(-time.Minute)},
	} {
		if st := daraja.Pay(t, p); st != 200 {
			t.Fatalf("callback of %s: %d", p.Code, st)
		}
	}
	daraja.DropCallbacks = true
	if st := daraja.Pay(t, mpesatest.Payment{ShortCode: "222222", Code: "SPUL000002", Amount: s2.Totals["KES"], Account: "NNP", At: time.Now()}); st != 0 {
		t.Fatalf("the dropped callback was posted: %d", st)
	}

	deadline := time.Now().Add(20 * time.Second)
	var lines map[string]mpesa.Line
	var totals map[string]mpesa.Total
	for {
		lines, totals = mpesaReport(t, data)
		if totals["matched/"].Codes == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Matched codes are not listed, only counted and summed.
	if ln, listed := lines["SPUL000002"]; listed {
		t.Errorf("the payment whose callback was lost: %+v; want matched", ln)
	}
	if tt := totals["matched/"]; tt.Codes != 2 || tt.Paid != s1.Totals["KES"]+s2.Totals["KES"] {
		t.Errorf("matched (the site sets no paybill): %+v; want both codes, paid in full", tt)
	}
	st, err := hubsqlite.Open(ctx, filepath.Join(data, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if p, _, err := st.MpesaPayment(ctx, "SPUL000002"); err != nil || p.Source != "pull" || p.ShortCode != "222222" {
		t.Errorf("the payment whose callback was lost: %+v, %v; want it from the pull, paid to 222222", p, err)
	}
	if p, _, err := st.MpesaPayment(ctx, "SPUL000001"); err != nil || p.Source != "c2b" {
		t.Errorf("the payment whose callback arrived: %+v, %v; want it from its callback", p, err)
	}
	if n, err := st.Counts(ctx); err != nil || n["mpesa_payments"] != 4 {
		t.Errorf("M-PESA payments held: %v, %v; want the paybill's 4, once each", n["mpesa_payments"], err)
	}
	if daraja.PullCount() < 3 {
		t.Errorf("%d pull queries; want the pages of at least one run (3)", daraja.PullCount())
	}
}

// TestSparePaybillReconciled: on an outage day a supervisor switches one
// lane to the site's spare paybill; its M-PESA tenders record the spare,
// and the hub, pulling both paybills, looks each tender up in its own
// paybill's payments: a payment to the spare matches a tender for the
// spare (its callback lost), one to the main paybill does not match a
// tender for the spare, and the other lane's tenders stay on the main.
func TestSparePaybillReconciled(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	daraja := mpesatest.NewDaraja(t)
	url := serveWithEnv(t, data, map[string]string{
		"LANGO_HUB_MPESA_ALLOW": "127.0.0.0/8", "LANGO_HUB_MPESA_SHORTCODE": "222222,333333",
		"LANGO_DARAJA_URL": daraja.URL(), "LANGO_DARAJA_KEY": mpesatest.ConsumerKey, "LANGO_DARAJA_SECRET": mpesatest.ConsumerSecret,
		"LANGO_DARAJA_PULL_SHORTCODES": "222222,333333", "LANGO_DARAJA_PULL_INTERVAL": "20ms",
	})
	spare := newLane(t, ctx, "gate-1", data, url, url)
	onMain := newLane(t, ctx, "gate-2", data, url, url)
	for _, l := range []*lane{spare, onMain} {
		if _, err := l.db.SetSetting(ctx, "admin", "mpesa_paybill", "222222 333333"); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := spare.db.SwitchPaybill(ctx, spare.admin, "spare"); err != nil || got != "333333" {
		t.Fatalf("switch to the spare: %q, %v", got, err)
	}
	s1 := spare.sell("mpesa:SSPR000001")
	s3 := spare.sell("mpesa:SSPR000003")
	s2 := onMain.sell("mpesa:SSPR000002")
	for _, s := range []struct {
		sale *terminal.Sale
		want string
	}{{s1, "333333"}, {s3, "333333"}, {s2, "222222"}} {
		if got := s.sale.Tenders[0].Paybill; got != s.want {
			t.Errorf("sale %d's tender records paybill %q; want %q", s.sale.Number, got, s.want)
		}
	}
	spare.mustSync()
	onMain.mustSync()

	daraja.ConfirmationURL = url + "/mpesa/confirmation"
	if st := daraja.Pay(t, mpesatest.Payment{ShortCode: "222222", Code: "SSPR000002", Amount: s2.Totals["KES"], Account: "NNP", At: time.Now()}); st != 200 {
		t.Fatalf("callback to the main paybill: %d", st)
	}
	// The wrong paybill: paid to the main one, the lane was on the spare.
	if st := daraja.Pay(t, mpesatest.Payment{ShortCode: "222222", Code: "SSPR000003", Amount: s3.Totals["KES"], Account: "NNP", At: time.Now()}); st != 200 {
		t.Fatalf("callback to the main paybill: %d", st)
	}
	daraja.DropCallbacks = true
	daraja.Pay(t, mpesatest.Payment{ShortCode: "333333", Code: "SSPR000001", Amount: s1.Totals["KES"], Account: "NNP", At: time.Now()})

	deadline := time.Now().Add(20 * time.Second)
	var lines map[string]mpesa.Line
	var totals map[string]mpesa.Total
	for {
		lines, totals = mpesaReport(t, data)
		if totals["matched/333333"].Codes == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Matched codes are counted by the paybill their tenders were for.
	if _, listed := lines["SSPR000001"]; listed || totals["matched/333333"].Codes != 1 {
		t.Errorf("tender for the spare, paid to it: %+v, totals %+v; want matched in the spare's payments", lines["SSPR000001"], totals)
	}
	if _, listed := lines["SSPR000002"]; listed || totals["matched/222222"].Codes != 1 {
		t.Errorf("tender for the main paybill: %+v, totals %+v; want matched in its payments", lines["SSPR000002"], totals)
	}
	if ln := lines["SSPR000003"]; ln.Status != mpesa.Mismatched || !strings.Contains(ln.Detail, "paybill 333333") {
		t.Errorf("tender for the spare, paid to the main paybill: %+v; want mismatched, naming the spare", ln)
	}
}

// TestMpesaLedgerIntoPostgres: an upgraded hub moving to PostgreSQL keeps
// its M-PESA ledger both ways: `migrate` imports the old DATA/mpesa.db
// into the database, and `copy --from` an embedded hub whose old ledger
// was never imported carries it across with the embedded store's rows.
func TestMpesaLedgerIntoPostgres(t *testing.T) {
	ctx := context.Background()
	check := func(t *testing.T, st mpesa.Ledger) {
		t.Helper()
		if p, ok, err := st.MpesaPayment(ctx, "SOLD000001"); err != nil || !ok || p.Amount != 530000 {
			t.Errorf("payment in PostgreSQL: %+v, %v, %v", p, ok, err)
		}
		if q, ok, err := st.MpesaQuery(ctx, "SOLD000002"); err != nil || !ok || !q.Answered || q.ResultCode != 2001 {
			t.Errorf("query in PostgreSQL: %+v, %v, %v", q, ok, err)
		}
	}
	t.Run("migrate", func(t *testing.T) {
		data := t.TempDir()
		oldLedger(t, data)
		url := pgServer.NewDatabase(t)
		for range 2 {
			if code, _, stderr := run(t, "migrate", "--data", data, "--database", url); code != 0 {
				t.Fatalf("migrate: %d %s", code, stderr)
			}
		}
		if _, err := os.Stat(filepath.Join(data, "mpesa.db.imported")); err != nil {
			t.Errorf("the old ledger was not set aside: %v", err)
		}
		check(t, openPG(t, url, data))
	})
	t.Run("copy", func(t *testing.T) {
		from, data := t.TempDir(), t.TempDir()
		es, err := hubsqlite.Open(ctx, filepath.Join(from, "hub.db"))
		if err != nil {
			t.Fatal(err)
		}
		es.Close()
		oldLedger(t, from)
		url := pgServer.NewDatabase(t)
		if code, _, stderr := run(t, "copy", "--from", from, "--data", data, "--database", url); code != 0 {
			t.Fatalf("copy: %d %s", code, stderr)
		}
		st := openPG(t, url, data)
		check(t, st)
		if n, err := st.Counts(ctx); err != nil || n["mpesa_payments"] != 1 || n["mpesa_queries"] != 1 {
			t.Errorf("counts after copy: %v, %v", n, err)
		}
	})
}

// TestMpesaPullSettingsRefused: a wrong Pull setting is refused with its
// name when the hub opens, before serve listens (exit 1).
func TestMpesaPullSettingsRefused(t *testing.T) {
	for _, c := range []struct{ key, value, msg string }{
		{"LANGO_DARAJA_PULL_INTERVAL", "soon", "LANGO_DARAJA_PULL_INTERVAL"},
		{"LANGO_DARAJA_PULL_INTERVAL", "-5m", "LANGO_DARAJA_PULL_INTERVAL"},
		{"LANGO_DARAJA_PULL_SHORTCODES", "222222,22-22", "LANGO_DARAJA_PULL_SHORTCODES"},
		{"LANGO_HUB_MPESA_SHORTCODE", "paybill", "LANGO_HUB_MPESA_SHORTCODE"},
	} {
		data := t.TempDir()
		env := map[string]string{"LANGO_DARAJA_URL": "http://127.0.0.1:1", "LANGO_DARAJA_SHORTCODE": "222222", c.key: c.value}
		var out, errb bytes.Buffer
		m := NewMain()
		m.Stdout, m.Stderr = &out, &errb
		m.Getenv = func(k string) string { return env[k] }
		code := m.Main(context.Background(), []string{"serve", "--data", data, "--listen", "127.0.0.1:0"})
		if code != 1 || !strings.Contains(errb.String(), c.msg) {
			t.Errorf("%s=%q: exit %d, %q; want 1 naming %s", c.key, c.value, code, errb.String(), c.msg)
		}
	}
}
