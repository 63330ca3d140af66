package main

import (
	"context"
	"fmt"
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
