package main

import (
	"context"
	"fmt"

	"github.com/lango-pos/lango/terminal"
)

func (m *Main) cmdAudit(ctx context.Context, args []string) error {
	fs := m.newFlags("audit").withJSON()
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "verify" {
		return usagef("audit verify")
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	if err := db.VerifyAudit(ctx); err != nil {
		if ae, ok := err.(*terminal.AuditError); ok {
			if fs.json {
				m.printJSON(map[string]any{"ok": false, "seq": ae.Seq, "table": ae.Table, "row": ae.Row, "reason": ae.Reason})
			}
			return terminal.Errorf(terminal.ECONFLICT, "%s", ae.Error())
		}
		return err
	}
	counts, err := db.Counts(ctx)
	if err != nil {
		return err
	}
	n := counts["events"]
	if fs.json {
		return m.printJSON(map[string]any{"ok": true, "events": n})
	}
	fmt.Fprintf(m.Stdout, "audit chain intact: %d events\n", n)
	return nil
}
