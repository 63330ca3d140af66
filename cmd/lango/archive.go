package main

import (
	"context"
	"fmt"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// cmdArchive moves the events the hub holds and that are older than the
// retention (the setting, or --retention) to the archive folder
// (docs/STORE.md).
func (m *Main) cmdArchive(ctx context.Context, args []string) error {
	fs := m.newFlags("archive").withJSON()
	ret := fs.String("retention", "", "how long to keep the events the hub holds (365d, 52w); default the retention setting")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("archive [--retention DAYSd] [--json]")
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	if *ret == "" {
		if *ret, err = db.Setting(ctx, "retention"); err != nil {
			return err
		}
	}
	retention, err := terminal.ParseRetention(*ret)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := db.Archive(ctx, retention)
	if err != nil {
		return err
	}
	m.logger().Info("archive", "events", res.Events, "through", res.Through, "files", res.Files, "removed", res.Removed, "freed", res.Freed, "took", time.Since(start))
	if fs.json {
		return m.printJSON(res)
	}
	if res.Events == 0 {
		fmt.Fprintf(m.Stdout, "nothing to archive: events up to %d archived, the hub holds %d, %d in the store\n", res.Through, res.AckedSeq, res.Live)
		return nil
	}
	fmt.Fprintf(m.Stdout, "archived %d events in %d files: events up to %d archived, %d in the store\n", res.Events, len(res.Files), res.Through, res.Live)
	return nil
}
