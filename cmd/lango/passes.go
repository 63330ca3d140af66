package main

import (
	"context"
	"fmt"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
	"github.com/lango-pos/lango/terminal/ticket"
)

func (m *Main) cmdPass(ctx context.Context, args []string) error {
	fs := m.newFlags("pass").withJSON().withAs()
	var party, pays list
	fs.Var(&party, "party", "a prepaid ticket's party at the gate, CODE=QTY (repeatable)")
	fs.Var(&pays, "pay", "tender for the part of the party the ticket does not cover (repeatable)")
	vehicle := fs.String("vehicle", "", "vehicle plate, for the part of the party the ticket does not cover")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || (pos[0] != "verify" && pos[0] != "use") {
		return usagef("pass verify [--json] PASS | pass use --as NAME PASS | pass use --as NAME ECT:… [--party CODE=QTY…] [--vehicle PLATE] [--pay TENDER…]")
	}
	if ticket.IsCode(pos[1]) {
		return m.cmdTicket(ctx, fs, pos[0] == "use", pos[1], party, *vehicle, pays)
	}
	if len(party) > 0 || len(pays) > 0 || *vehicle != "" {
		return usagef("pass: --party, --vehicle and --pay are for a prepaid ticket (ECT:…)")
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	var pc *terminal.PassCheck
	if pos[0] == "use" {
		op, err := m.operator(ctx, db, fs.as)
		if err != nil {
			return err
		}
		if pc, err = db.UsePass(ctx, op, pos[1]); err != nil {
			return err
		}
	} else if pc, err = db.CheckPass(ctx, pos[1]); err != nil {
		return err
	}
	out := passOut{Valid: pc.Refusal == nil, State: pc.State, Marks: pc.Marks}
	if pc.Pass.Version != 0 {
		p := pc.Pass
		out.Pass = &p
	}
	if pc.Refusal != nil {
		out.Reason, out.Message, out.Detail = string(pc.Refusal.Reason), pc.Refusal.Reason.Message("en"), pc.Refusal.Detail
	}
	if fs.json {
		if err := m.printJSON(out); err != nil {
			return err
		}
	} else if out.Valid {
		p := pc.Pass
		fmt.Fprintf(m.Stdout, "valid %s pass %s from %s: %d people, %s, until %s\n", pc.State, p.ID, p.Terminal, p.People(), p.Plate, db.SiteTime(p.ValidUntil, "2006-01-02 15:04"))
	}
	if pc.Refusal != nil {
		return pc.Refusal
	}
	return nil
}

func (m *Main) cmdSettle(ctx context.Context, args []string) error {
	fs := m.newFlags("settle").withAs().withJSON()
	var pays list
	fs.Var(&pays, "pay", "tender (repeatable)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || len(pays) == 0 {
		return usagef("settle --as NAME PASS --pay TENDER…")
	}
	tenders, err := parseTenders(pays)
	if err != nil {
		return err
	}
	db, op, err := m.openAs(ctx, fs.as)
	if err != nil {
		return err
	}
	d, err := m.desk(db)
	if err != nil {
		return err
	}
	res, err := d.Settle(ctx, op, pos[0], tenders, m.announceCharge)
	if err != nil {
		return err
	}
	pr := m.printNow(ctx, db, res.PrintJob)
	st := res.Settlement
	if fs.json {
		return m.printJSON(map[string]any{
			"id": st.ID, "pass_id": st.PassID, "issuer_terminal": st.IssuerTerminal, "state": "settled",
			"due": st.Due, "overstay": linesJSON(st.Overstay), "totals": st.Totals, "tenders": tendersJSON(st.Tenders),
			"conversions": conversionsJSON(st.Conversions), "print": pr,
		})
	}
	fmt.Fprintf(m.Stdout, "pass %s settled: %s\n", st.PassID, st.Totals)
	return nil
}

// passOut is a verified pass as `lango pass verify --json` prints it.
type passOut struct {
	Valid   bool                `json:"valid"`
	Reason  string              `json:"reason,omitempty"`
	Message string              `json:"message,omitempty"`
	Detail  string              `json:"detail,omitempty"`
	State   string              `json:"state,omitempty"`
	Pass    *pass.Pass          `json:"pass,omitempty"`
	Marks   []terminal.PassMark `json:"marks,omitempty"`
}
