package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// cmdUnsettled lists the deferred passes of this terminal still owed, as
// far as it knows (its own settlements and the site feed's).
func (m *Main) cmdUnsettled(ctx context.Context, args []string) error {
	fs := m.newFlags("unsettled").withJSON()
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unsettled takes no arguments, got %q", pos[0])
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	us, err := db.Unsettled(ctx)
	if err != nil {
		return err
	}
	if fs.json {
		return m.printJSON(struct {
			Unsettled []terminal.UnsettledPass `json:"unsettled"`
		}{us})
	}
	for _, u := range us {
		who := u.OperatorName
		if who == "" {
			who = "-"
		}
		fmt.Fprintf(m.Stdout, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Number, dash(u.Vehicle), who, dash(u.Phone), u.Due,
			db.SiteTime(u.At, "2006-01-02 15:04"), (time.Duration(u.AgeSeconds) * time.Second).String())
	}
	fmt.Fprintf(m.Stdout, "%d deferred passes unsettled\n", len(us))
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// openPassNaming signs in the supervisor who names the passes still owed
// at a shift's close: the closing operator themself when they are that
// supervisor (LANGO_PIN), else with LANGO_SUPERVISOR_PIN (or a prompt).
func (m *Main) openPassNaming(ctx context.Context, db *sqlite.DB, op *terminal.Operator, supervisor, passes string) (terminal.OpenPassNaming, error) {
	var n terminal.OpenPassNaming
	for _, p := range strings.Split(passes, ",") {
		if p = strings.TrimSpace(p); p != "" {
			n.Passes = append(n.Passes, p)
		}
	}
	if supervisor == "" {
		if len(n.Passes) > 0 {
			return n, usagef("--open-passes needs --supervisor NAME: the supervisor who names them")
		}
		return n, nil
	}
	if supervisor == op.Name {
		n.Supervisor = op
		return n, nil
	}
	pin, err := m.pin("LANGO_SUPERVISOR_PIN", supervisor)
	if err != nil {
		return n, err
	}
	if n.Supervisor, err = db.Authenticate(ctx, supervisor, pin); err != nil {
		return n, err
	}
	return n, nil
}

// shiftReport prints one shift's takings and its tenders sale by sale.
func (m *Main) shiftReport(ctx context.Context, shiftID string, asJSON, asCSV bool) error {
	if asJSON && asCSV {
		return usagef("shift report: --json or --csv, not both")
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	sh, err := db.ShiftSheet(ctx, shiftID)
	if err != nil {
		return err
	}
	switch {
	case asJSON:
		return m.printJSON(sh)
	case asCSV:
		return writeShiftCSV(m.Stdout, sh)
	}
	fmt.Fprintf(m.Stdout, "shift %s of %s at %s, opened %s\n", sh.ShiftID, sh.Operator, sh.Terminal, db.SiteTime(sh.OpenedAt, "2006-01-02 15:04"))
	for _, t := range sh.Takings {
		fmt.Fprintf(m.Stdout, "  %-6s %s (%d)\n", t.Tender, terminal.Money{Currency: t.Currency, Minor: t.Amount}, t.Count)
	}
	fmt.Fprintf(m.Stdout, "%d tender rows: --json or --csv lists them\n", len(sh.Rows))
	return nil
}

// shiftColumns is the shift report's CSV: the takings rows first (record
// "taking"), then a row per tender (record "sale"), amounts in major
// units without separators, as lango-hub export writes them.
var shiftColumns = []string{"record", "shift_id", "terminal", "tender", "currency", "amount", "count",
	"at", "kind", "sale_id", "settles", "number", "state", "due", "reference", "bank", "vehicle", "tour_operator", "phone"}

func majorUnits(c terminal.Currency, minor int64) string {
	return strings.ReplaceAll(terminal.FormatMinor(c, minor), ",", "")
}

func writeShiftCSV(w io.Writer, sh *terminal.ShiftSheet) error {
	cw := csv.NewWriter(w)
	cw.Write(shiftColumns)
	for _, t := range sh.Takings {
		cw.Write([]string{"taking", sh.ShiftID, sh.Terminal, string(t.Tender), string(t.Currency), majorUnits(t.Currency, t.Amount), strconv.Itoa(t.Count),
			"", "", "", "", "", "", "", "", "", "", "", ""})
	}
	for _, r := range sh.Rows {
		num, due := "", ""
		if r.Number != 0 {
			num = strconv.FormatInt(r.Number, 10)
		}
		if r.Due != 0 {
			due = majorUnits(r.Currency, r.Due)
		}
		cw.Write([]string{"sale", sh.ShiftID, sh.Terminal, r.Tender, string(r.Currency), majorUnits(r.Currency, r.Amount), "",
			r.At.UTC().Format(time.RFC3339), r.Kind, r.SaleID, r.Settles, num, r.State, due, r.Reference, r.Bank, r.Vehicle, r.TourOperator, r.Phone})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write the shift report: %w", err)
	}
	return nil
}
