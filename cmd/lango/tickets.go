package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
	"github.com/lango-pos/lango/terminal/ticket"
)

// ticketOut is a prepaid ticket as `lango pass verify|use --json ECT:…`
// prints it: the keys of a pass's answer (valid, reason, message, detail)
// and the ticket's party and vehicle.
type ticketOut struct {
	Valid   bool         `json:"valid"`
	Reason  string       `json:"reason,omitempty"`
	Message string       `json:"message,omitempty"`
	Detail  string       `json:"detail,omitempty"`
	Ticket  *ticketJSON  `json:"ticket,omitempty"`
	Uses    []ticketUse  `json:"uses,omitempty"`
	Sale    *ticketSale  `json:"sale,omitempty"`
	Print   *printJSON   `json:"print,omitempty"`
	List    *listSummary `json:"list,omitempty"`
}

type ticketJSON struct {
	TicketNo  string          `json:"ticket_no"`
	Site      string          `json:"site"`
	ValidFrom time.Time       `json:"valid_from"`
	ValidTo   time.Time       `json:"valid_to"`
	Party     []ticket.Group  `json:"party"`
	Vehicle   *ticket.Vehicle `json:"vehicle"`
	Status    string          `json:"status"`
}

type ticketUse struct {
	Gate string    `json:"gate"`
	At   time.Time `json:"at"`
}

type ticketSale struct {
	ID     string          `json:"id"`
	Lines  []lineJSON      `json:"lines"`
	Totals terminal.Totals `json:"totals"`
}

type listSummary struct {
	Held      int       `json:"held"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	Error     string    `json:"error,omitempty"`
}

// cmdTicket checks (verify) or lets in (use) a prepaid ticket of the
// national platform against the list the terminal holds. With use, a
// party at the gate larger than the ticket (--party CODE=QTY, the codes
// of `lango sell --item`) is sold the difference, paid by --pay, in the
// same transaction as the use.
func (m *Main) cmdTicket(ctx context.Context, fs *flags, use bool, code string, party []string, vehicle string, pays []string) error {
	if !use && (len(party) > 0 || len(pays) > 0 || vehicle != "") {
		return usagef("pass verify: --party, --vehicle and --pay are for pass use")
	}
	lines, err := parseItems(party)
	if err != nil {
		return err
	}
	tenders, err := parseTenders(pays)
	if err != nil {
		return err
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	var tc *ticket.Answer
	if use {
		op, err := m.operator(ctx, db, fs.as)
		if err != nil {
			return err
		}
		if tc, err = db.UseTicket(ctx, op, code, ticket.UseRequest{Party: lines, Vehicle: vehicle, Tenders: tenders}); err != nil {
			return err
		}
	} else if tc, err = db.CheckTicket(ctx, code); err != nil {
		return err
	}
	out := ticketOut{Valid: tc.Refusal == nil}
	if t := tc.Ticket; t != nil {
		out.Ticket = &ticketJSON{TicketNo: t.No, Site: t.Site, ValidFrom: t.ValidFrom, ValidTo: t.ValidTo, Party: t.Party, Vehicle: t.Vehicle, Status: t.Status}
	}
	for _, u := range tc.Uses {
		out.Uses = append(out.Uses, ticketUse{Gate: u.Gate, At: u.At})
	}
	var refusal *pass.RefusedError
	if tc.Refusal != nil {
		refusal = pass.Refuse(tc.Refusal.Reason, "%s", tc.Refusal.Message)
		out.Reason, out.Message, out.Detail = string(refusal.Reason), refusal.Reason.Message("en"), refusal.Detail
		if tc.Refusal.Reason == pass.UnknownIssuer {
			if l, err := db.Tickets(ctx); err == nil {
				out.List = &listSummary{Held: l.Held, UpdatedAt: l.UpdatedAt, Error: l.Error}
			}
		}
	}
	if tc.SaleID != "" {
		s, err := db.Sale(ctx, tc.SaleID)
		if err != nil {
			return err
		}
		out.Sale = &ticketSale{ID: s.ID, Lines: linesJSON(s.Lines), Totals: s.Totals}
		pr := m.printNow(ctx, db, tc.PrintJob)
		out.Print = &pr
	}
	if fs.json {
		if err := m.printJSON(out); err != nil {
			return err
		}
	} else if out.Valid {
		t := tc.Ticket
		verb := "valid"
		if use {
			verb = "let in"
		}
		fmt.Fprintf(m.Stdout, "%s: ticket %s: %s%s, until %s\n", verb, t.No, describeParty(t.Party), describeVehicle(t.Vehicle), db.SiteTime(t.ValidTo, "2006-01-02 15:04"))
		if out.Sale != nil {
			fmt.Fprintf(m.Stdout, "sold the rest of the party: %s\n", out.Sale.Totals)
		}
	}
	if refusal != nil {
		return refusal
	}
	return nil
}

func describeParty(gs []ticket.Group) string {
	parts := make([]string, 0, len(gs))
	for _, g := range gs {
		parts = append(parts, fmt.Sprintf("%d x %s %s", g.Count, g.Category, g.AgeBand))
	}
	return strings.Join(parts, ", ")
}

func describeVehicle(v *ticket.Vehicle) string {
	if v == nil {
		return ", no vehicle"
	}
	return fmt.Sprintf(", vehicle %s (%s)", v.Plate, v.Band)
}
