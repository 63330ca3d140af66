package sqlite_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// enroll does what the hub does at enrollment: certify the terminal's key
// with the site authority and hand over the authority's public key.
func enroll(t testing.TB, f *fixture, auth *pass.Authority, name string) {
	t.Helper()
	ctx := context.Background()
	key, err := f.db.TerminalKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nb := outageDay.Truncate(time.Hour).Add(-24 * time.Hour)
	cert, err := auth.Certify("NNP", name, key.Public().(ed25519.PublicKey), nb, nb.Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	certPEM, _ := cert.MarshalPEM()
	authPEM, _ := pass.MarshalPublicKeyPEM(auth.PublicKey())
	if err := f.db.Enrolled(ctx, certPEM, authPEM, "http://127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
}

func sellPass(t testing.TB, f *fixture, tenders ...string) *terminal.Sale {
	t.Helper()
	ctx := context.Background()
	iss, err := f.db.PassIssuer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{
		Lines:   []terminal.LineRequest{{Code: "INT-ADULT", Qty: 2}, {Code: "INT-CHILD", Qty: 3}, {Code: "TOUR-VAN", Qty: 1}},
		Vehicle: "KDA 123A", Tenders: mustTender(t, tenders...)}, iss)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Sale.Pass, "LG1:") {
		t.Fatalf("pass = %q; want an LG1: pass", res.Sale.Pass)
	}
	return res.Sale
}

// TestTwoTerminalsSettle: A issues a deferred pass; B, which never synced
// with A and shares only the site authority, verifies and settles it; B
// refuses to settle it twice; A's void revokes it on A.
func TestTwoTerminalsSettle(t *testing.T) {
	ctx := context.Background()
	auth, err := pass.NewAuthority(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a := newTerminal(t, nil)
	b := newTerminalNamed(t, "exit-1")
	enroll(t, a, auth, "gate-1")
	enroll(t, b, auth, "exit-1")

	sale := sellPass(t, a, "defer")
	if sale.State != terminal.SaleDeferred {
		t.Fatalf("state = %s; want deferred", sale.State)
	}
	// B has never heard of this sale.
	if _, err := b.db.Sale(ctx, sale.ID); terminal.ErrorKind(err) != terminal.ENOTFOUND {
		t.Fatalf("B knows the sale: %v", err)
	}
	pc, err := b.db.CheckPass(ctx, sale.Pass)
	if err != nil || pc.Refusal != nil {
		t.Fatalf("B check: %v %v", err, pc.Refusal)
	}
	if pc.State != "deferred" || pc.Pass.Terminal != "gate-1" || pc.Pass.Plate != "KDA123A" || pc.Pass.People() != 5 || pc.Pass.SeatBand != "TOUR-VAN" {
		t.Errorf("B sees %+v", pc.Pass)
	}
	q, err := b.db.QuoteSettlement(ctx, sale.Pass)
	if err != nil {
		t.Fatal(err)
	}
	// 2 × USD 80 + 3 × USD 35 = USD 265; tour van KES 1,500.
	if q.Totals["USD"] != 26500 || q.Totals["KES"] != 150000 {
		t.Fatalf("quote = %v; want USD 265 + KES 1,500", q.Totals)
	}
	res, err := b.db.Settle(ctx, b.admin, sale.Pass, mustTender(t, "mpesa:SH11AAXYZ9"))
	if err != nil {
		t.Fatal(err)
	}
	st := res.Settlement
	// USD 265 at 129.50 = KES 34,317.50, plus KES 1,500 = KES 35,817.50
	if st.PassID != sale.ID || st.IssuerTerminal != "gate-1" || st.Tenders[0].Amount != 3581750 || st.SaleID != "" {
		t.Errorf("settlement = %+v", st)
	}
	if len(st.Conversions) != 1 || st.Conversions[0].Rate != "129.50" {
		t.Errorf("conversions = %+v; want the USD→KES rate recorded", st.Conversions)
	}
	before, _ := b.db.Counts(ctx)
	_, err = b.db.Settle(ctx, b.admin, sale.Pass, mustTender(t, "cash"))
	if pass.ReasonOf(err) != pass.AlreadyUsed {
		t.Fatalf("second settle: err = %v; want already_used", err)
	}
	after, _ := b.db.Counts(ctx)
	for k, n := range before {
		if after[k] != n {
			t.Errorf("refused settle changed %s: %d → %d", k, n, after[k])
		}
	}
	// B's Z-report counts the settlement.
	z, err := b.db.CloseShift(ctx, b.admin, terminal.Totals{"KES": 500000})
	if err != nil {
		t.Fatal(err)
	}
	if z.Settlements != 1 || len(z.Tenders) != 1 || z.Tenders[0].Amount != 3581750 {
		t.Errorf("B's Z: settlements %d tenders %+v", z.Settlements, z.Tenders)
	}

	// A voids the sale: its pass is revoked on A at once.
	if _, err := a.db.Void(ctx, a.admin, sale.ID, "driver cancelled"); err != nil {
		t.Fatal(err)
	}
	pc, err = a.db.CheckPass(ctx, sale.Pass)
	if err != nil || pc.Refusal == nil || pc.Refusal.Reason != pass.Revoked {
		t.Fatalf("A check after void: %v, refusal %v; want revoked", err, pc.Refusal)
	}
	if _, err := a.db.Settle(ctx, a.admin, sale.Pass, mustTender(t, "cash")); pass.ReasonOf(err) != pass.Revoked {
		t.Errorf("A settle after void: %v; want revoked", err)
	}
	for _, f := range []*fixture{a, b} {
		if err := f.db.VerifyAudit(ctx); err != nil {
			t.Errorf("audit: %v", err)
		}
	}
}

func TestPassRefusals(t *testing.T) {
	ctx := context.Background()
	a := newTerminal(t, nil)
	other := newTerminal(t, nil) // same site, its own local authority
	sale := sellPass(t, a, "cash")
	if sale.State != terminal.SalePaid {
		t.Fatal(sale.State)
	}
	// The issuing terminal trusts its own authority.
	if pc, err := a.db.CheckPass(ctx, sale.Pass); err != nil || pc.Refusal != nil || pc.State != "paid" {
		t.Fatalf("A check: %v %+v", err, pc)
	}
	// A terminal that does not trust A's authority refuses it.
	if pc, _ := other.db.CheckPass(ctx, sale.Pass); pc.Refusal == nil || pc.Refusal.Reason != pass.UnknownIssuer {
		t.Errorf("untrusted: refusal %v; want unknown_issuer", pc.Refusal)
	}
	// A paid pass has nothing to settle.
	if _, err := a.db.Settle(ctx, a.admin, sale.Pass, mustTender(t, "cash")); err == nil || !strings.Contains(err.Error(), "nothing is due") {
		t.Errorf("settle paid pass: %v", err)
	}
	// Used once for entry at this terminal, then refused.
	if pc, err := a.db.UsePass(ctx, a.admin, sale.Pass); err != nil || pc.Refusal != nil {
		t.Fatalf("first use: %v %v", err, pc.Refusal)
	}
	if pc, err := a.db.UsePass(ctx, a.admin, sale.Pass); err != nil || pc.Refusal == nil || pc.Refusal.Reason != pass.AlreadyUsed {
		t.Fatalf("second use: %v, refusal %v; want already_used", err, pc.Refusal)
	}
	for _, bad := range []string{"", "hello", "LG1:123", strings.Replace(sale.Pass, "1", "2", 1)} {
		pc, err := a.db.CheckPass(ctx, bad)
		if err != nil || pc.Refusal == nil {
			t.Errorf("CheckPass(%.20q) = %v, %v; want a refusal", bad, err, pc)
		}
	}
	// Expired: a day and a bit later.
	clock := a.db.Now
	a.db.Now = func() time.Time { return clock().Add(25 * time.Hour) }
	if pc, _ := a.db.CheckPass(ctx, sale.Pass); pc.Refusal == nil || pc.Refusal.Reason != pass.Expired {
		t.Errorf("after 25 h: refusal %v; want expired", pc.Refusal)
	}
}

func TestOverstayAtExit(t *testing.T) {
	ctx := context.Background()
	a := newTerminal(t, nil)
	sale := sellPass(t, a, "defer")
	clock := a.db.Now
	a.db.Now = func() time.Time { return clock().Add(26 * time.Hour) } // 2 h past validity, grace 1 h
	q, err := a.db.QuoteSettlement(ctx, sale.Pass)
	if err != nil {
		t.Fatal(err)
	}
	// Overstay: one more day for the party and the van.
	if q.Totals["USD"] != 2*26500 || q.Totals["KES"] != 2*150000 || len(q.Overstay) != 3 {
		t.Errorf("quote = %v, overstay %d lines; want twice the day's fees", q.Totals, len(q.Overstay))
	}
	if _, err := a.db.Settle(ctx, a.admin, sale.Pass, mustTender(t, "cash")); err != nil {
		t.Fatal(err)
	}
	s, _ := a.db.Sale(ctx, sale.ID)
	if s.State != terminal.SaleSettled {
		t.Errorf("local sale state = %s; want settled", s.State)
	}
	if err := a.db.VerifyAudit(ctx); err != nil {
		t.Errorf("audit: %v", err)
	}
}
