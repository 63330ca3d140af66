package sqlite_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/lango-pos/lango/terminal/sqlite"
	"github.com/lango-pos/lango/terminal/ticket"
)

// BenchmarkTicketScan is the scan-to-answer time of a prepaid ticket at a
// gate holding the day's 50,000 tickets (taken through ApplyTickets, as
// the feed gives them): check (verify) reads the ticket and its uses;
// admit (use) checks again and commits the use and its ticket.redeemed
// event (WAL, synchronous=FULL: an fsync per admission).
func BenchmarkTicketScan(b *testing.B) {
	ctx := context.Background()
	f := newTerminal(b, nil)
	const day = 50000
	for start := 0; start < day; start += sqlite.MaxTicketPage {
		page := make([]ticket.Change, 0, sqlite.MaxTicketPage)
		for i := start; i < start+sqlite.MaxTicketPage; i++ {
			page = append(page, prepaid(fmt.Sprintf("KWS-2024-%010d", i), int64(i+1)))
		}
		if err := f.db.ApplyTickets(ctx, hubA, page); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("check", func(b *testing.B) {
		i := 0
		for b.Loop() {
			tc, err := f.db.CheckTicket(ctx, fmt.Sprintf("ECT:KWS-2024-%010d", (i*7919)%day))
			if err != nil || tc.Refusal != nil {
				b.Fatal(err, tc.Refusal)
			}
			i++
		}
	})
	b.Run("admit", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if i >= day {
				b.Fatal("more admissions than tickets")
			}
			tc, err := f.db.UseTicket(ctx, f.admin, fmt.Sprintf("ECT:KWS-2024-%010d", i), ticket.UseRequest{})
			if err != nil || tc.Refusal != nil {
				b.Fatal(err, tc.Refusal)
			}
			i++
		}
	})
}
