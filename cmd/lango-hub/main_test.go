package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/client"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// run runs one lango-hub command in-process and returns its exit status,
// stdout and stderr.
func run(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, &errb
	m.Getenv = func(string) string { return "" }
	code := m.Main(context.Background(), args)
	return code, out.String(), errb.String()
}

// TestHubCommands: serve, enroll a terminal with a token from terminal
// add, sync, publish a catalogue, read the report, and shut down cleanly.
func TestHubCommands(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()

	srv := NewMain()
	var srvErr bytes.Buffer
	srv.Stdout, srv.Stderr = &bytes.Buffer{}, &srvErr
	if err := srv.ParseFlags(ctx, []string{"serve", "--data", data, "--listen", "127.0.0.1:0", "--log-level", "error"}); err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(sctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	hubURL := "http://" + srv.Addr()

	code, token, stderr := run(t, "terminal", "add", "--data", data, "--site", "nnp", "--name", "Gate-1")
	token = strings.TrimSpace(token)
	if code != 0 || len(token) < 20 || strings.Contains(token, "\n") {
		t.Fatalf("terminal add: %d %q %q", code, token, stderr)
	}

	cat, err := os.ReadFile(filepath.Join("..", "..", "testdata", "catalogues", "kws.json"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lango.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Init(ctx, terminal.InitRequest{Site: "NNP", Name: "gate-1", Catalogue: cat, AdminPIN: "1234"}); err != nil {
		t.Fatal(err)
	}
	admin, _ := db.Authenticate(ctx, "admin", "1234")
	if _, err := db.OpenShift(ctx, admin, terminal.Totals{"KES": 100000}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Enroll(ctx, db, hubURL, token); err != nil {
		t.Fatalf("enroll: %v", err)
	}
	if _, err := client.Enroll(ctx, db, hubURL, "not-a-token"); terminal.ErrorKind(err) != terminal.EUNAUTHORIZED {
		t.Errorf("enroll with a bad token: %v", err)
	}
	sale, err := db.Sell(ctx, admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 2}}, Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := client.New(db, client.Config{})
	if err := s.Once(ctx); err != nil {
		t.Fatalf("sync: %v", err)
	}

	newCat := filepath.Join(t.TempDir(), "kws-2.json")
	os.WriteFile(newCat, bytes.Replace(cat, []byte(`"version": "KWS-2024.1"`), []byte(`"version": "KWS-2024.2"`), 1), 0o600)
	if code, out, stderr := run(t, "catalogue", "publish", newCat, "--data", data, "--site", "NNP", "--json"); code != 0 || !strings.Contains(out, `"KWS-2024.2"`) {
		t.Fatalf("publish: %d %s %s", code, out, stderr)
	}
	if code, _, stderr := run(t, "catalogue", "publish", "--data", data, "--site", "NNP", newCat); code != 1 || !strings.HasPrefix(stderr, "lango-hub: ") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("publishing the same version again: %d %q; want 1 and one line", code, stderr)
	}
	if err := s.Once(ctx); err != nil {
		t.Fatal(err)
	}
	if c, _ := db.Catalogue(ctx); c.Version != "KWS-2024.2" {
		t.Errorf("terminal catalogue %s; want KWS-2024.2", c.Version)
	}
	st, err := s.Status(ctx)
	if err != nil || !st.Online || st.Queued != 0 || st.LastSuccess == nil {
		t.Errorf("status %+v %v", st, err)
	}
	b, _ := json.Marshal(st)
	for _, k := range []string{`"online":true`, `"queued":0`, `"oldest_unsynced":null`, `"last_success":"`, `"last_error":""`} {
		if !bytes.Contains(b, []byte(k)) {
			t.Errorf("status JSON %s lacks %s", b, k)
		}
	}

	code, out, stderr := run(t, "report", "--data", data, "--json")
	if code != 0 {
		t.Fatalf("report: %d %s", code, stderr)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, out)
	}
	rep := map[string][]map[string]any{}
	for _, k := range []string{"terminals", "takings", "unsettled", "conflicts"} {
		if v, ok := raw[k]; ok {
			var list []map[string]any
			if err := json.Unmarshal(v, &list); err != nil {
				t.Fatalf("report %s: %v", k, err)
			}
			rep[k] = list
		}
	}
	if _, ok := raw["mpesa"]; !ok {
		t.Errorf("report lacks the mpesa reconciliation")
	}
	for _, k := range []string{"terminals", "takings", "unsettled", "conflicts"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
	evs, _ := db.Events(ctx, 0, 1000)
	if tr := rep["terminals"]; len(tr) != 1 || tr[0]["site"] != "NNP" || tr[0]["name"] != "gate-1" || tr[0]["last_seq"] != float64(len(evs)) || tr[0]["events"] != float64(len(evs)) {
		t.Errorf("terminals = %v; want gate-1 with %d events", tr, len(evs))
	}
	if tk := rep["takings"]; len(tk) != 1 || tk[0]["tender"] != "cash" || tk[0]["currency"] != "KES" || tk[0]["amount"] != float64(sale.Sale.Totals["KES"]) {
		t.Errorf("takings = %v; want cash KES %d", tk, sale.Sale.Totals["KES"])
	}
	if code, out, _ := run(t, "report", "--data", data); code != 0 || !strings.Contains(out, "gate-1") {
		t.Errorf("text report: %d %s", code, out)
	}
	if code, out, _ := run(t, "terminal", "list", "--data", data, "--json"); code != 0 || !strings.Contains(out, `"gate-1"`) {
		t.Errorf("terminal list: %d %s", code, out)
	}
	backup := filepath.Join(t.TempDir(), "hub-backup.db")
	if code, _, stderr := run(t, "backup", "--data", data, backup); code != 0 {
		t.Errorf("backup: %d %s", code, stderr)
	}
	if code, _, _ := run(t, "backup", "--data", data, backup); code != 1 {
		t.Errorf("backup over an existing file: %d; want 1", code)
	}
	if code, _, _ := run(t, "terminal", "revoke", "--data", data, "--site", "NNP", "--name", "gate-1"); code != 0 {
		t.Errorf("revoke: %d", code)
	}
	if err := s.Once(ctx); terminal.ErrorKind(err) != terminal.EUNAUTHORIZED {
		t.Errorf("sync of a revoked terminal: %v", err)
	}

	// Graceful shutdown.
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v after shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	srv.Close()
}

func TestExitCodes(t *testing.T) {
	data := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, "command is required"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"terminal"}, 2, "subcommand"},
		{[]string{"terminal", "add", "--data", data, "--site", "NNP"}, 2, "--name"},
		{[]string{"terminal", "add", "--data", data, "--site", "NNP", "--name", "x", "--bogus"}, 2, "bogus"},
		{[]string{"catalogue", "publish", "--data", data, "--site", "NNP"}, 2, "argument"},
		{[]string{"terminal", "add", "--data", data, "--site", "N P", "--name", "x"}, 1, "site"},
		{[]string{"terminal", "revoke", "--data", data, "--site", "NNP", "--name", "nobody"}, 1, "no enrolled terminal"},
		{[]string{"catalogue", "publish", "--data", data, "--site", "NNP", filepath.Join(data, "missing.json")}, 1, "cannot read"},
		{[]string{"serve", "--data", data, "--listen", ln.Addr().String()}, 3, "cannot listen"},
	}
	for _, tt := range tests {
		code, _, stderr := run(t, tt.args...)
		if code != tt.code || !strings.HasPrefix(stderr, "lango-hub: ") || !strings.Contains(stderr, tt.msg) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("lango-hub %v: exit %d, stderr %q; want %d and one line about %q", tt.args, code, stderr, tt.code, tt.msg)
		}
	}
}
