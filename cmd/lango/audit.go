package main

import (
	"context"
	"fmt"
	"time"

	"github.com/lango-pos/lango/terminal"
)

func (m *Main) cmdAudit(ctx context.Context, args []string) error {
	fs := m.newFlags("audit").withJSON()
	since := fs.Int64("since", 0, "check from the signed checkpoint at this seq (the end of an archive file)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "verify" {
		return usagef("audit verify [--since SEQ]")
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	progress, done := m.progress("audit", "events")
	if *since < 0 {
		return usagef("audit verify --since needs a seq, 1 or more")
	}
	err = db.VerifyAuditSince(ctx, *since, progress)
	done()
	if err != nil {
		if ae, ok := err.(*terminal.AuditError); ok {
			if fs.json {
				m.printJSON(map[string]any{"ok": false, "seq": ae.Seq, "table": ae.Table, "row": ae.Row, "reason": ae.Reason})
			}
			return terminal.Errorf(terminal.ECONFLICT, "%s", ae.Error())
		}
		return err
	}
	// The whole chain, archived and live.
	st, err := db.SyncState(ctx)
	if err != nil {
		return err
	}
	n := st.LastSeq
	if fs.json {
		return m.printJSON(map[string]any{"ok": true, "events": n})
	}
	fmt.Fprintf(m.Stdout, "audit chain intact: %d events\n", n)
	return nil
}

// progress returns a function that shows, on a terminal's stderr, how far
// a long command (what) is through its items once it has run for
// ProgressAfter, on one line it rewrites, and done, which clears that line.
// Elsewhere (a pipe, a log) it shows nothing.
func (m *Main) progress(what, items string) (func(n, of int64), func()) {
	if m.StderrIsTerminal == nil || !m.StderrIsTerminal() {
		return nil, func() {}
	}
	after := m.ProgressAfter
	if after == 0 {
		after = time.Second
	}
	start, shown := time.Now(), false
	show := func(n, of int64) {
		if time.Since(start) < after {
			return
		}
		shown = true
		fmt.Fprintf(m.Stderr, "\r%s: %d of %d %s", what, n, of, items)
	}
	return show, func() {
		if shown {
			fmt.Fprint(m.Stderr, "\r\033[K")
		}
	}
}
