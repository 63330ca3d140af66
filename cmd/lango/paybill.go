package main

import (
	"context"
	"fmt"

	"github.com/lango-pos/lango/terminal/sqlite"
)

// switchPaybill is `lango config set --as SUPERVISOR mpesa_paybill_use
// main|spare`: the supervisor's switch of the lane's M-PESA tenders to the
// site's spare paybill (an outage day) or back, recorded under their name.
func (m *Main) switchPaybill(ctx context.Context, db *sqlite.DB, as, use string) error {
	if as == "" {
		return usagef("config set mpesa_paybill_use needs --as SUPERVISOR: a supervisor switches the paybill")
	}
	sup, err := m.operator(ctx, db, as)
	if err != nil {
		return err
	}
	paybill, err := db.SwitchPaybill(ctx, sup, use)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "mpesa_paybill_use = %s (M-PESA tenders are for paybill %s)\n", use, paybill)
	return nil
}
