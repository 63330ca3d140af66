package main

import (
	"context"
	"fmt"

	"github.com/lango-pos/lango/terminal"
)

func parseAmounts(specs []string, what string) (terminal.Totals, error) {
	t := terminal.Totals{}
	for _, s := range specs {
		mny, err := terminal.ParseMoneyArg(s)
		if err != nil {
			return nil, &terminal.Error{Kind: terminal.EINVALID, Message: what + ": " + terminal.ErrorMessage(err)}
		}
		if _, dup := t[mny.Currency]; dup {
			return nil, terminal.Errorf(terminal.EINVALID, "%s: %s given twice", what, mny.Currency)
		}
		t[mny.Currency] = mny.Minor
	}
	return t, nil
}

func (m *Main) cmdShift(ctx context.Context, args []string) error {
	fs := m.newFlags("shift").withAs().withJSON()
	var floats, counted list
	fs.Var(&floats, "float", "opening cash CUR=AMOUNT (repeatable)")
	fs.Var(&counted, "counted", "counted cash CUR=AMOUNT (repeatable)")
	supervisor := fs.String("supervisor", "", "close: the supervisor who lets the shift close with deferred passes still owed (PIN from LANGO_SUPERVISOR_PIN)")
	openPasses := fs.String("open-passes", "", "close: with --supervisor, every deferred pass of the shift still owed, by number or sale id, comma-separated")
	shiftID := fs.String("shift", "", "report: the shift's id (default: the shift opened last)")
	asCSV := fs.Bool("csv", false, "report: CSV instead of text")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) == 1 && pos[0] == "report" {
		return m.shiftReport(ctx, *shiftID, fs.json, *asCSV)
	}
	if len(pos) != 1 || (pos[0] != "open" && pos[0] != "close") {
		return usagef("shift open --as NAME --float CUR=AMOUNT | shift close --as NAME --counted CUR=AMOUNT --json | shift report [--shift ID] --json|--csv")
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	if pos[0] == "open" {
		fl, err := parseAmounts(floats, "--float")
		if err != nil {
			return err
		}
		op, err := m.operator(ctx, db, fs.as)
		if err != nil {
			return err
		}
		sh, err := db.OpenShift(ctx, op, fl)
		if err != nil {
			return err
		}
		if fs.json {
			return m.printJSON(sh)
		}
		fmt.Fprintf(m.Stdout, "shift of %s open with float %s\n", op.Name, sh.Float)
		return nil
	}
	if len(counted) == 0 {
		return usagef("shift close needs --counted CUR=AMOUNT for the cash in the drawer")
	}
	c, err := parseAmounts(counted, "--counted")
	if err != nil {
		return err
	}
	op, err := m.operator(ctx, db, fs.as)
	if err != nil {
		return err
	}
	naming, err := m.openPassNaming(ctx, db, op, *supervisor, *openPasses)
	if err != nil {
		return err
	}
	z, err := db.CloseShiftNaming(ctx, op, c, naming)
	if err != nil {
		return err
	}
	job, _ := db.QueuePrint(ctx, "zreport", z.ShiftID)
	if job != "" {
		m.printNow(ctx, db, job)
	}
	if fs.json {
		return m.printJSON(z)
	}
	fmt.Fprintf(m.Stdout, "shift closed: expected %s, counted %s, variance %s\n", z.Expected, z.Counted, z.Variance)
	return nil
}
