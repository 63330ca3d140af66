package platform_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/platform"
	"github.com/lango-pos/lango/sync/platform/platformtest"
)

var t0 = time.Date(2025, 1, 3, 6, 12, 0, 0, time.FixedZone("EAT", 3*3600))

func standIn(t *testing.T) (*platformtest.Server, *httptest.Server) {
	t.Helper()
	s := platformtest.New("KWS", "s3cret", func() time.Time { return t0 }, 1, nil)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs
}

func client(t *testing.T, url, agency, secret string, now time.Time, timeout time.Duration) *platform.Client {
	t.Helper()
	c, err := platform.NewClient(platform.Config{BaseURL: url, Agency: agency, Secret: secret, Now: func() time.Time { return now },
		HTTP: &http.Client{Timeout: timeout}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func bill(ref string) platform.Bill {
	return platform.Bill{BillRef: ref, ServiceCode: "KWS-NNP-ENTRY", Description: "2 x EAC citizen, Adult", Amount: "4300.00", Currency: "KES",
		PaidOffline: platform.PaidOffline{Tender: "mpesa", Reference: "SG722NMVXQ", PaidAt: t0.Format(time.RFC3339), CollectedBy: "NNP/gate-1/wanjiru"}}
}

func status(err error) int {
	var pe *platform.Error
	if errors.As(err, &pe) {
		return pe.Status
	}
	return 0
}

// TestBillsAndReversals: a bill is recorded once; the same bill again is a
// 200 retry; other fields under its reference are a 409 that is
// permanent; a bad field is a 422; a reversal is recorded once.
func TestBillsAndReversals(t *testing.T) {
	ctx := context.Background()
	s, hs := standIn(t)
	c := client(t, hs.URL, "KWS", "s3cret", t0, 5*time.Second)

	a, err := c.PostBill(ctx, bill("NNP-1"))
	if err != nil || !a.Created || a.BillNumber == "" || a.Status != "settled" {
		t.Fatalf("first post: %+v, %v; want created and settled", a, err)
	}
	again, err := c.PostBill(ctx, bill("NNP-1"))
	if err != nil || again.Created || again.BillNumber != a.BillNumber {
		t.Fatalf("retry: %+v, %v; want 200 with bill number %s", again, err, a.BillNumber)
	}
	other := bill("NNP-1")
	other.Amount = "4400.00"
	if _, err := c.PostBill(ctx, other); status(err) != http.StatusConflict || !platform.Permanent(err) {
		t.Fatalf("other fields: %v; want a permanent 409", err)
	}
	bad := bill("NNP-2")
	bad.Amount = "43.5"
	_, err = c.PostBill(ctx, bad)
	if status(err) != http.StatusUnprocessableEntity || !platform.Permanent(err) || !strings.Contains(err.Error(), "amount") {
		t.Fatalf("bad amount: %v; want a permanent 422 naming the amount", err)
	}
	rv := platform.Reversal{Reason: "wrong category", ReversedAt: t0.Add(time.Hour).Format(time.RFC3339)}
	if a, err := c.PostReversal(ctx, "NNP-1", rv); err != nil || !a.Created || a.Status != "reversed" {
		t.Fatalf("reversal: %+v, %v", a, err)
	}
	if a, err := c.PostReversal(ctx, "NNP-1", rv); err != nil || a.Created {
		t.Fatalf("reversal again: %+v, %v; want 200", a, err)
	}
	if _, err := c.PostReversal(ctx, "NNP-9", rv); status(err) != http.StatusNotFound {
		t.Fatalf("reversal of no bill: %v; want 404", err)
	}
	if _, err := c.GetBill(ctx, "NNP-1"); err != nil {
		t.Fatalf("get: %v", err)
	}
	got := s.Counts()
	if got.Bills != 1 || got.Reversals != 1 || got.Repeats != 2 || got.Conflicts != 1 || got.Invalid != 1 {
		t.Fatalf("counts %+v; want 1 bill, 1 reversal, 2 repeats, 1 conflict, 1 invalid", got)
	}
}

// TestAuthentication: a wrong secret, another agency or a clock more than
// five minutes off are refused, not retried as permanent, and record
// nothing.
func TestAuthentication(t *testing.T) {
	ctx := context.Background()
	s, hs := standIn(t)
	for _, c := range []struct {
		name           string
		agency, secret string
		now            time.Time
	}{
		{"wrong secret", "KWS", "guess", t0},
		{"other agency", "KRA", "s3cret", t0},
		{"clock 6 minutes behind", "KWS", "s3cret", t0.Add(-6 * time.Minute)},
	} {
		_, err := client(t, hs.URL, c.agency, c.secret, c.now, 5*time.Second).PostBill(ctx, bill("NNP-1"))
		if status(err) != http.StatusUnauthorized || platform.Permanent(err) {
			t.Errorf("%s: %v; want a 401 that is not permanent", c.name, err)
		}
	}
	if n := s.Counts().Bills; n != 0 {
		t.Fatalf("%d bills recorded; want 0", n)
	}
}

// TestFaults: the stand-in fails before doing anything (503 and 429 with
// Retry-After, a timeout), or commits and loses the answer; a retry of the
// lost one finds it recorded, once.
func TestFaults(t *testing.T) {
	ctx := context.Background()
	s, hs := standIn(t)
	c := client(t, hs.URL, "KWS", "s3cret", t0, 300*time.Millisecond)

	s.SetFaults(platformtest.Faults{FailRate: 1, RetryAfter: 7})
	_, err := c.PostBill(ctx, bill("NNP-1"))
	if status(err) != http.StatusServiceUnavailable || platform.RetryAfter(err) != 7*time.Second || platform.Permanent(err) {
		t.Fatalf("503: %v (retry after %v); want 503 retry after 7s", err, platform.RetryAfter(err))
	}
	s.SetFaults(platformtest.Faults{LimitRate: 1, RetryAfter: 3})
	if _, err := c.PostBill(ctx, bill("NNP-1")); status(err) != http.StatusTooManyRequests || platform.RetryAfter(err) != 3*time.Second {
		t.Fatalf("429: %v; want 429 retry after 3s", err)
	}
	s.SetFaults(platformtest.Faults{TimeoutRate: 1})
	if _, err := c.PostBill(ctx, bill("NNP-1")); err == nil || status(err) != 0 {
		t.Fatalf("timeout: %v; want a transport error", err)
	}
	if n := s.Counts().Bills; n != 0 {
		t.Fatalf("%d bills after faults that do nothing; want 0", n)
	}
	s.SetFaults(platformtest.Faults{LoseRate: 1})
	if _, err := c.PostBill(ctx, bill("NNP-1")); err == nil || status(err) != 0 {
		t.Fatalf("lost answer: %v; want a transport error", err)
	}
	s.SetFaults(platformtest.Faults{})
	a, err := c.PostBill(ctx, bill("NNP-1"))
	if err != nil || a.Created {
		t.Fatalf("retry after a lost answer: %+v, %v; want 200 (recorded before)", a, err)
	}
	if got := s.Counts(); got.Bills != 1 || got.Repeats != 1 {
		t.Fatalf("counts %+v; want the bill once and one repeat", got)
	}
}
