package mpesa_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/hub/mpesa"
	"github.com/lango-pos/lango/sync/hub/mpesa/mpesatest"
	"github.com/lango-pos/lango/sync/hub/sqlite"
)

// confirm posts a C2B confirmation, as M-PESA does after a customer pays.
func confirm(t *testing.T, hubURL, code string, amount string) int {
	t.Helper()
	c := mpesa.Confirmation{TransactionType: "Pay Bill", TransID: code, TransTime: "20240103080000", TransAmount: amount,
		BusinessShortCode: "222222", BillRefNumber: "NNP", MSISDN: "2547 ***** 126", FirstName: "JOHN"}
	body, _ := json.Marshal(c)
	resp, err := http.Post(hubURL+"/mpesa/confirmation", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// newHub serves the callbacks over a hub store of its own (a real SQLite
// file): the ledger is the hub's.
func newHub(t *testing.T, allowed string) (*sqlite.Store, *httptest.Server) {
	t.Helper()
	l, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	cb := &mpesa.Callbacks{Ledger: l, Allowed: []netip.Prefix{netip.MustParsePrefix(allowed)}, ShortCodes: []string{"222222"}}
	mux := http.NewServeMux()
	mux.Handle("/mpesa/", cb)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return l, srv
}

func TestReconcile(t *testing.T) {
	ctx := context.Background()
	daraja := mpesatest.NewDaraja(t)
	ledger, hub := newHub(t, "127.0.0.0/8")
	at := time.Date(2024, 1, 3, 6, 0, 0, 0, time.UTC)
	tenders := []mpesa.Tender{
		{Code: "SAA0000001", Amount: 530000, Site: "NNP", Terminal: "gate-1", SaleID: "s1", At: at},  // matched by C2B
		{Code: "SAA0000002", Amount: 200000, Site: "NNP", Terminal: "gate-1", SaleID: "s2", At: at},  // C2B says 2,000.00 vs 200.00? mismatch
		{Code: "SAA0000003", Amount: 1036000, Site: "NNP", Terminal: "exit-1", SaleID: "s3", At: at}, // no C2B; Transaction Status finds it
		{Code: "SAA0000004", Amount: 50000, Site: "NNP", Terminal: "gate-1", SaleID: "s4", At: at},   // one code on two sales
		{Code: "SAA0000004", Amount: 50000, Site: "NNP", Terminal: "gate-2", SaleID: "s5", At: at},
		{Code: "SAA0000005", Amount: 70000, Site: "NNP", Terminal: "gate-2", SaleID: "s6", At: at}, // M-PESA never heard of it
	}
	for code, amt := range map[string]string{"SAA0000001": "5300.00", "SAA0000002": "2500", "SAA0000004": "500.00"} {
		if st := confirm(t, hub.URL, code, amt); st != http.StatusOK {
			t.Fatalf("confirmation of %s: %d", code, st)
		}
	}
	// A repeated delivery is acknowledged and changes nothing.
	if st := confirm(t, hub.URL, "SAA0000001", "9999.00"); st != http.StatusOK {
		t.Fatalf("repeat confirmation: %d", st)
	}
	daraja.Know("SAA0000003", 1036000)

	rep, err := mpesa.Reconcile(ctx, ledger, tenders)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[mpesa.Unknown] != 2 {
		t.Fatalf("before chasing: %v; want 2 unknown", rep.Counts)
	}
	client := mpesa.NewClient(mpesa.Config{BaseURL: daraja.URL(), ConsumerKey: mpesatest.ConsumerKey, ConsumerSecret: mpesatest.ConsumerSecret, Initiator: "lango", SecurityCredential: "x",
		ShortCode: "222222", ResultURL: hub.URL + "/mpesa/result", TimeoutURL: hub.URL + "/mpesa/timeout"}, nil)
	// Within the grace period nothing is asked.
	if n, err := mpesa.Chase(ctx, ledger, client, tenders, time.Hour, at.Add(30*time.Minute)); err != nil || n != 0 {
		t.Fatalf("chase within grace: %d, %v; want 0 asked", n, err)
	}
	if n, err := mpesa.Chase(ctx, ledger, client, tenders, time.Hour, at.Add(2*time.Hour)); err != nil || n != 2 {
		t.Fatalf("chase: %d, %v; want 2 asked", n, err)
	}
	daraja.Wait()
	rep, err = mpesa.Reconcile(ctx, ledger, tenders)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"SAA0000001": mpesa.Matched, "SAA0000002": mpesa.Mismatched, "SAA0000003": mpesa.Matched, "SAA0000004": mpesa.Duplicated, "SAA0000005": mpesa.Unknown}
	for _, ln := range rep.Lines {
		if ln.Status != want[ln.Code] {
			t.Errorf("%s: %s (%s); want %s", ln.Code, ln.Status, ln.Detail, want[ln.Code])
		}
	}
	for _, ln := range rep.Lines {
		switch ln.Code {
		case "SAA0000002":
			if ln.Paid != 250000 || ln.Recorded != 200000 {
				t.Errorf("mismatch line %+v", ln)
			}
		case "SAA0000003":
			if ln.Source != "status" {
				t.Errorf("SAA0000003 matched from %q; want the status result", ln.Source)
			}
		case "SAA0000004":
			if len(ln.Sales) != 2 || ln.Sales[0].Terminal == ln.Sales[1].Terminal {
				t.Errorf("duplicate line %+v; want the two terminals' sales", ln)
			}
		case "SAA0000005":
			if !strings.Contains(ln.Detail, "2001") {
				t.Errorf("unknown line detail %q; want M-PESA's answer", ln.Detail)
			}
		case "SAA0000001":
			if ln.Paid != 530000 {
				t.Errorf("repeat confirmation overwrote the first: %+v", ln)
			}
		}
	}
	// Asking again does not re-ask answered codes.
	if n, _ := mpesa.Chase(ctx, ledger, client, tenders, time.Hour, at.Add(3*time.Hour)); n != 0 {
		t.Errorf("second chase asked %d; want 0", n)
	}
}

func TestCallbacksRefuseBadInput(t *testing.T) {
	ctx := context.Background()
	ledger, hub := newHub(t, "127.0.0.0/8")
	good := `{"TransactionType":"Pay Bill","TransID":"SAA0000009","TransTime":"20240103080000","TransAmount":"100.00","BusinessShortCode":"222222","BillRefNumber":"NNP"}`
	for _, tt := range []struct {
		name, path, body string
	}{
		{"not JSON", "/mpesa/confirmation", "TransID=SAA0000009"},
		{"truncated", "/mpesa/confirmation", good[:40]},
		{"bad code", "/mpesa/confirmation", strings.Replace(good, "SAA0000009", "SAA-9", 1)},
		{"bad amount", "/mpesa/confirmation", strings.Replace(good, `"100.00"`, `"1e3"`, 1)},
		{"negative amount", "/mpesa/confirmation", strings.Replace(good, `"100.00"`, `"-100"`, 1)},
		{"bad time", "/mpesa/confirmation", strings.Replace(good, "20240103080000", "yesterday", 1)},
		{"another paybill", "/mpesa/confirmation", strings.Replace(good, `"222222"`, `"123456"`, 1)},
		{"trailing data", "/mpesa/confirmation", good + "{}"},
		{"oversize", "/mpesa/confirmation", `{"TransID":"` + strings.Repeat("A", 40000) + `"}`},
		{"result for no query", "/mpesa/result", `{"Result":{"ResultCode":0,"ConversationID":"AG_nope","TransactionID":"SAA0000009"}}`},
		{"unknown callback", "/mpesa/steal", good},
	} {
		resp, err := http.Post(hub.URL+tt.path, "application/json", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("%s: status %d; want 4xx", tt.name, resp.StatusCode)
		}
	}
	if n, _ := ledger.Counts(ctx); n["mpesa_payments"] != 0 || n["mpesa_queries"] != 0 {
		t.Fatalf("refused callbacks stored something: %v", n)
	}
	// From an address outside the allowed networks: refused, nothing stored.
	ledger2, hub2 := newHub(t, "196.201.214.0/24")
	if st := confirm(t, hub2.URL, "SAA0000010", "100"); st != http.StatusForbidden {
		t.Errorf("confirmation from loopback to a hub allowing only Safaricom: %d; want 403", st)
	}
	if n, _ := ledger2.Counts(ctx); n["mpesa_payments"] != 0 {
		t.Errorf("a refused caller's confirmation was stored")
	}
	// The good one is accepted.
	if st := confirm(t, hub.URL, "SAA0000011", "100"); st != http.StatusOK {
		t.Errorf("good confirmation: %d", st)
	}
}

// TestReconcileChecksPaybillAccountAndTime: a payment of the code and the
// amount matches only if it went to the tender's paybill, with the site's
// account reference, around the sale's time.
func TestReconcileChecksPaybillAccountAndTime(t *testing.T) {
	ctx := context.Background()
	st, _ := newHub(t, "127.0.0.0/8")
	at := time.Date(2024, 1, 3, 6, 0, 0, 0, time.UTC)
	pay := func(code, paybill, account string, when time.Time) {
		t.Helper()
		if _, err := st.AddMpesaPayment(ctx, mpesa.Payment{Code: code, Amount: 100000, Account: account, ShortCode: paybill, At: when, Source: "pull"}, when); err != nil {
			t.Fatal(err)
		}
	}
	pay("SWIN000001", "222222", "nnp ", at.Add(-10*time.Minute))
	pay("SWIN000002", "333333", "NNP", at.Add(-10*time.Minute))
	pay("SWIN000003", "222222", "AMB", at.Add(-10*time.Minute))
	pay("SWIN000004", "222222", "NNP", at.Add(-48*time.Hour))
	pay("SWIN000005", "222222", "NNP", at.Add(3*time.Hour))
	pay("SWIN000006", "333333", "NNP", at)
	var tenders []mpesa.Tender
	for i, paybill := range []string{"222222", "222222", "222222", "222222", "222222", "333333"} {
		tenders = append(tenders, mpesa.Tender{Code: fmt.Sprintf("SWIN%06d", i+1), Amount: 100000, Account: "NNP", Paybill: paybill, Site: "NNP", Terminal: "gate-1", SaleID: fmt.Sprint(i), At: at})
	}
	rep, err := mpesa.Reconcile(ctx, st, tenders)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"SWIN000001": mpesa.Matched, "SWIN000002": mpesa.Mismatched, "SWIN000003": mpesa.Mismatched,
		"SWIN000004": mpesa.Mismatched, "SWIN000005": mpesa.Mismatched, "SWIN000006": mpesa.Matched}
	detail := map[string]string{"SWIN000002": "paybill 333333", "SWIN000003": `"AMB"`, "SWIN000004": "outside the window", "SWIN000005": "outside the window"}
	for _, ln := range rep.Lines {
		if ln.Status != want[ln.Code] || !strings.Contains(ln.Detail, detail[ln.Code]) {
			t.Errorf("%s: %s (%s); want %s (%s)", ln.Code, ln.Status, ln.Detail, want[ln.Code], detail[ln.Code])
		}
	}
}

// TestPullRefusesABadPage: a page with a transaction that is not an
// M-PESA payment stores nothing of that page and leaves the cursor where
// it was, so the next run asks again (the pages before it are kept: each
// payment once); a good run pages to the end and moves it.
func TestPullRefusesABadPage(t *testing.T) {
	ctx := context.Background()
	st, _ := newHub(t, "127.0.0.0/8")
	daraja := mpesatest.NewDaraja(t)
	now := time.Date(2024, 1, 3, 12, 0, 0, 0, time.UTC)
	for i := 1; i <= 5; i++ {
		daraja.Pay(t, mpesatest.Payment{ShortCode: "222222", Code: fmt.Sprintf("SPAG%06d", i), Amount: int64(i) * 100, Account: "NNP", At: now.Add(-time.Duration(i) * time.Minute)})
	}
	daraja.Pay(t, mpesatest.Payment{ShortCode: "222222", Code: "not-a-code", Amount: 100, At: now.Add(-30 * time.Second)})
	client := mpesa.NewClient(mpesa.Config{BaseURL: daraja.URL(), ConsumerKey: mpesatest.ConsumerKey, ConsumerSecret: mpesatest.ConsumerSecret}, nil)
	if err := client.RegisterPull(ctx, "222222", "", ""); err != nil {
		t.Fatal(err)
	}
	p := &mpesa.Puller{Client: client, Ledger: st, ShortCodes: []string{"222222"}, Now: func() time.Time { return now }}
	n, err := p.Once(ctx)
	if err == nil || !strings.Contains(err.Error(), "not-a-code") {
		t.Fatalf("pull with a bad transaction: %d, %v; want refused naming it", n, err)
	}
	if _, ok, _ := st.MpesaPullCursor(ctx, "222222"); ok {
		t.Errorf("a failed run moved the cursor")
	}
	if _, ok, _ := st.MpesaPayment(ctx, "SPAG000001"); ok {
		t.Errorf("the bad page's good transaction was stored")
	}
	if n != 4 {
		t.Errorf("the failed run stored %d; want the 4 of the two good pages before it", n)
	}
	// Without the bad transaction (after the window): the fifth, once.
	p.Now = func() time.Time { return now.Add(-time.Minute) }
	if n, err := p.Once(ctx); err != nil || n != 1 {
		t.Fatalf("pull: %d, %v; want 1 new", n, err)
	}
	if c, ok, _ := st.MpesaPullCursor(ctx, "222222"); !ok || !c.Equal(now.Add(-time.Minute)) {
		t.Errorf("cursor %v, %v; want %v", c, ok, now.Add(-time.Minute))
	}
	if got, _, _ := st.MpesaPayment(ctx, "SPAG000003"); got.Amount != 300 || got.Source != "pull" || got.ShortCode != "222222" || got.Account != "NNP" {
		t.Errorf("pulled payment %+v", got)
	}
	// Again: the overlap asks again, nothing new.
	if n, err := p.Once(ctx); err != nil || n != 0 {
		t.Errorf("pull again: %d, %v; want 0 new", n, err)
	}
}
