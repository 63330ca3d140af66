package ticket_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal/pass"
	"github.com/lango-pos/lango/terminal/ticket"
)

var (
	eat = time.FixedZone("EAT", 3*3600)
	day = time.Date(2025, 1, 3, 6, 0, 0, 0, eat)
)

func tk(no, site, status string) ticket.Ticket {
	return ticket.Ticket{No: no, Site: site, ValidFrom: day, ValidTo: day.Add(12 * time.Hour), Status: status,
		Party:   []ticket.Group{{Category: "citizen", AgeBand: "adult", Count: 2}, {Category: "citizen", AgeBand: "child", Count: 1}},
		Vehicle: &ticket.Vehicle{Plate: "KDA123A", Band: "car"}}
}

func reason(err error) pass.Reason {
	var r *ticket.Refusal
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}

// TestCheck: a valid ticket is let in once, showing its party; cancelled,
// expired, early, another site's, unknown, used and malformed ones are
// refused with the pass reasons.
func TestCheck(t *testing.T) {
	l := ticket.NewList([]ticket.Ticket{tk("KWS-1", "NNP", "valid"), tk("KWS-2", "NNP", "valid"), tk("KWS-2", "NNP", "cancelled"), tk("KWS-3", "TSV", "valid")})
	uses := map[string]ticket.Use{}
	used := func(no string) (ticket.Use, bool) { u, ok := uses[no]; return u, ok }
	at := day.Add(time.Hour)
	got, err := l.Check("ECT:kws-1", "NNP", at, used)
	if err != nil || got.No != "KWS-1" || len(got.Party) != 2 || got.Vehicle.Plate != "KDA123A" {
		t.Fatalf("valid ticket: %+v, %v", got, err)
	}
	uses["KWS-1"] = ticket.Use{Gate: "lane-1", At: at}
	for _, c := range []struct {
		code string
		at   time.Time
		want pass.Reason
	}{
		{"ECT:KWS-1", at, pass.AlreadyUsed},
		{"ECT:KWS-2", at, pass.Revoked},
		{"ECT:KWS-3", at, pass.WrongSite},
		{"ECT:KWS-9", at, pass.UnknownIssuer},
		{"ECT:", at, pass.Malformed},
		{"ECT:KWS 1; DROP", at, pass.Malformed},
		{"LANGO1:xyz", at, pass.Malformed},
	} {
		if _, err := l.Check(c.code, "NNP", c.at, used); reason(err) != c.want {
			t.Errorf("%s: %v; want %s", c.code, err, c.want)
		}
	}
	delete(uses, "KWS-1")
	if _, err := l.Check("ECT:KWS-1", "NNP", day.Add(-time.Hour), used); reason(err) != pass.NotYetValid {
		t.Errorf("an hour early: %v; want not_yet_valid", err)
	}
	if _, err := l.Check("ECT:KWS-1", "NNP", day.Add(-10*time.Minute), used); err != nil {
		t.Errorf("ten minutes early: %v; want let in", err)
	}
	if _, err := l.Check("ECT:KWS-1", "NNP", day.Add(12*time.Hour), used); reason(err) != pass.Expired {
		t.Errorf("at valid_to: %v; want expired", err)
	}
}

// TestExtra: a party larger than the ticket's pays the difference.
func TestExtra(t *testing.T) {
	x := tk("KWS-1", "NNP", "valid")
	got := ticket.Extra(&x, []ticket.Group{{Category: "citizen", AgeBand: "adult", Count: 3}, {Category: "citizen", AgeBand: "child", Count: 1},
		{Category: "resident", AgeBand: "adult", Count: 1}})
	want := []ticket.Group{{Category: "citizen", AgeBand: "adult", Count: 1}, {Category: "resident", AgeBand: "adult", Count: 1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("extra %v; want %v", got, want)
	}
	if got := ticket.Extra(&x, []ticket.Group{{Category: "citizen", AgeBand: "adult", Count: 1}}); len(got) != 0 {
		t.Fatalf("a smaller party: extra %v; want none", got)
	}
}

func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"ECT:KWS-2025-0001234567", "ECT:", "", "LANGO1:abc", "ECT:" + string(make([]byte, 100))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		no, err := ticket.ParseCode(s)
		if err == nil && (len(no) == 0 || len(no) > 40) {
			t.Fatalf("ParseCode(%q) = %q", s, no)
		}
		if err != nil && reason(err) != pass.Malformed {
			t.Fatalf("ParseCode(%q): %v; want malformed", s, err)
		}
	})
}

// BenchmarkCheck50000 is the domain's share of scan-to-answer with 50,000
// tickets of the day held: parse the code, find the ticket, check it.
func BenchmarkCheck50000(b *testing.B) {
	ts := make([]ticket.Ticket, 50000)
	for i := range ts {
		ts[i] = tk(fmt.Sprintf("KWS-2025-%010d", i), "NNP", "valid")
	}
	l := ticket.NewList(ts)
	codes := make([]string, 1024)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range codes {
		codes[i] = fmt.Sprintf("ECT:KWS-2025-%010d", r.IntN(len(ts)))
	}
	none := func(string) (ticket.Use, bool) { return ticket.Use{}, false }
	at := day.Add(time.Hour)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := l.Check(codes[i%len(codes)], "NNP", at, none); err != nil {
			b.Fatal(err)
		}
	}
}
