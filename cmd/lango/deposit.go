package main

import (
	"context"
	"fmt"

	"github.com/lango-pos/lango/terminal"
)

// cmdDeposit records a supervisor's banking of a closed shift's counted
// cash with the deposit slip's bank and reference (docs/BANK.md).
func (m *Main) cmdDeposit(ctx context.Context, args []string) error {
	fs := m.newFlags("deposit").withAs().withJSON()
	shift := fs.String("shift", "", "the closed shift whose cash is banked (its id)")
	bank := fs.String("bank", "", "the bank's code from the catalogue (KCB, EQTY…)")
	ref := fs.String("reference", "", "the deposit slip's reference")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *shift == "" || *bank == "" || *ref == "" {
		return usagef("deposit --as SUPERVISOR --shift ID --bank BANK --reference REF")
	}
	db, sup, err := m.openAs(ctx, fs.as)
	if err != nil {
		return err
	}
	d, err := db.Deposit(ctx, sup, *shift, *bank, *ref)
	if err != nil {
		return err
	}
	if fs.json {
		return m.printJSON(map[string]any{"id": d.ID, "shift_id": d.ShiftID, "operator": d.Operator, "bank": d.Bank, "reference": d.Reference,
			"amount": terminal.Totals{d.Currency: d.Amount}, "at": d.At})
	}
	fmt.Fprintf(m.Stdout, "shift %s: %s banked at %s, slip %s\n", d.ShiftID, terminal.Money{Currency: d.Currency, Minor: d.Amount}, d.Bank, d.Reference)
	return nil
}
