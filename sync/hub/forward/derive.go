package forward

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/platform"
	"github.com/lango-pos/lango/terminal"
)

// BillRef is the platform reference of the n-th (from 1) of count bills
// of the record id (a sale or a settlement, whose UUIDs are unique at the
// hub) of site: SITE-ID, or SITE-ID-N when the record was paid with more
// than one tender. It depends on what was sold only, never on when it is
// sent, so a retry posts the same reference. The site is cut to 20
// characters and anything but letters, digits and '-' becomes '-': the
// UUID alone makes the reference unique.
func BillRef(site, id string, n, count int) string {
	var b strings.Builder
	for i, r := range site {
		if i >= 20 {
			break
		}
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	b.WriteByte('-')
	b.WriteString(strings.ToLower(id))
	if count > 1 {
		fmt.Fprintf(&b, "-%d", n)
	}
	return b.String()
}

// Amount formats minor units of c as the platform's decimal string with
// two places.
func Amount(c terminal.Currency, minor int64) string {
	d := c.Digits()
	for ; d < 2; d++ {
		minor *= 10
	}
	div := int64(1)
	for range d - 2 {
		div *= 10
	}
	// A currency with more than two places is rounded down to cents
	// (none of Lango's has: see terminal/money.go).
	minor /= div
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d", sign, minor/100, minor%100)
}

// ServiceCode is the platform's service code for lines sold at site:
// AGENCY-SITE-ENTRY for park entry (people and vehicles), else
// AGENCY-SITE-CODE of the first line (a counter service). (Assumed: the
// real platform's service codes would come from the catalogue.)
func ServiceCode(agency, site string, lines []terminal.Line) string {
	for _, l := range lines {
		if l.Kind == "entry" || l.Kind == "vehicle" {
			return agency + "-" + site + "-ENTRY"
		}
	}
	if len(lines) > 0 {
		return agency + "-" + site + "-" + strings.ToUpper(lines[0].Code)
	}
	return agency + "-" + site + "-ENTRY"
}

func describe(lines []terminal.Line) string {
	var parts []string
	for _, l := range lines {
		if l.Qty == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%d x %s", l.Qty, l.Name))
	}
	s := strings.Join(parts, "; ")
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}

// rfc3339 is a time as the platform takes it: seconds, with offset.
func rfc3339(t time.Time) string { return t.Format(time.RFC3339) }

// Derive turns events of terminal t (site, name) into the forwards they
// owe the platform: a bill for each tender (but deferred) of a sale or a
// settlement, and a void for a voided or refunded sale, whose reversals
// the store makes for each of the sale's bills. Events it cannot read owe
// nothing (the hub quarantined or flagged them).
func Derive(agency string, t hub.Terminal, events []terminal.Event, at time.Time) hub.ForwardBatch {
	b := hub.ForwardBatch{TerminalID: t.ID, At: at}
	for i := range events {
		e := &events[i]
		b.ThroughSeq = e.Seq
		switch e.Type {
		case terminal.EventSaleCreated:
			var s terminal.Sale
			if json.Unmarshal(e.Payload, &s) != nil || s.ID == "" || s.Kind == "refund" {
				continue
			}
			b.Bills = append(b.Bills, bills(agency, t, e, s.Site, s.ID, s.ID, s.Operator, s.At, s.Lines, s.Tenders)...)
		case terminal.EventPassSettled:
			var p terminal.PassSettled
			if json.Unmarshal(e.Payload, &p) != nil || len(p.Settlement) == 0 {
				continue
			}
			var st terminal.Settlement
			if json.Unmarshal(p.Settlement, &st) != nil || st.ID == "" || st.PassID == "" {
				continue
			}
			lines := append([]terminal.Line{{Kind: "entry", Qty: 1, Name: "Settlement of a deferred gate pass"}}, st.Overstay...)
			b.Bills = append(b.Bills, bills(agency, t, e, st.Site, st.PassID, st.ID, st.Operator, st.At, lines, st.Tenders)...)
		case terminal.EventSaleVoided:
			var p terminal.SaleVoid
			if json.Unmarshal(e.Payload, &p) != nil || p.SaleID == "" {
				continue
			}
			b.Voids = append(b.Voids, void(t, e, p.SaleID, "void: "+p.Reason))
		case hub.EventTicketRedeemed:
			var p hub.TicketRedeemed
			if json.Unmarshal(e.Payload, &p) != nil || !platform.ValidTicketNo(p.TicketNo) {
				continue
			}
			body, _ := json.Marshal(platform.Redemption{Site: t.Site, Gate: t.Name, RedeemedAt: rfc3339(e.At)})
			b.Bills = append(b.Bills, hub.Forward{Ref: p.TicketNo + " " + t.Name, Kind: hub.ForwardRedemption, SaleKey: t.Site + "/ticket:" + p.TicketNo,
				Site: t.Site, Terminal: t.Name, Seq: e.Seq, At: e.At, Body: body})
		case terminal.EventSaleRefunded:
			var p terminal.SaleRefunded
			if json.Unmarshal(e.Payload, &p) != nil || p.Refund.RefundOf == "" {
				continue
			}
			b.Voids = append(b.Voids, void(t, e, p.Refund.RefundOf, "refund: "+p.Reason))
		}
	}
	for i := range b.Bills {
		b.Bills[i].NextAt = at
	}
	return b
}

func saleKey(site, saleID string) string { return site + "/" + strings.ToLower(saleID) }

// bills are the bills of one sale or settlement (record id) of sale
// saleID: one per tender that took money.
func bills(agency string, t hub.Terminal, e *terminal.Event, site, saleID, id, operator string, paidAt time.Time, lines []terminal.Line, tenders []terminal.Tender) []hub.Forward {
	if site == "" {
		site = t.Site
	}
	var paid []terminal.Tender
	for _, td := range tenders {
		if td.Kind != terminal.TenderDefer && td.Net() > 0 {
			paid = append(paid, td)
		}
	}
	if paidAt.IsZero() {
		paidAt = e.At
	}
	var out []hub.Forward
	for i, td := range paid {
		ref := BillRef(site, id, i+1, len(paid))
		body, _ := json.Marshal(platform.Bill{
			BillRef: ref, ServiceCode: ServiceCode(agency, site, lines), Description: describe(lines),
			Amount: Amount(td.Currency, td.Net()), Currency: string(td.Currency),
			PaidOffline: platform.PaidOffline{Tender: string(td.Kind), Reference: td.Reference, PaidAt: rfc3339(paidAt),
				CollectedBy: site + "/" + t.Name + "/" + operator},
		})
		out = append(out, hub.Forward{Ref: ref, Kind: hub.ForwardBill, SaleKey: saleKey(site, saleID), Site: site, Terminal: t.Name, Seq: e.Seq,
			At: paidAt, Body: body})
	}
	return out
}

func void(t hub.Terminal, e *terminal.Event, saleID, reason string) hub.ForwardVoid {
	if len(reason) > 400 {
		reason = reason[:400]
	}
	body, _ := json.Marshal(platform.Reversal{Reason: reason, ReversedAt: rfc3339(e.At)})
	return hub.ForwardVoid{SaleKey: saleKey(t.Site, saleID), Site: t.Site, Terminal: t.Name, Seq: e.Seq, Body: body, At: e.At}
}
