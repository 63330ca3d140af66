package main

import (
	"context"
	"fmt"
	"time"

	"github.com/lango-pos/lango/sync/client"
	"github.com/lango-pos/lango/terminal"
)

func (m *Main) cmdEnroll(ctx context.Context, args []string) error {
	fs := m.newFlags("enroll").withJSON()
	hubURL := fs.String("hub", "", "the hub's URL, e.g. http://10.0.0.2:8420")
	token := fs.String("token", "", "the one-time token from lango-hub terminal add")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	if *hubURL == "" || *token == "" {
		return usagef("enroll --hub URL --token TOKEN")
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	e, err := client.Enroll(ctx, db, *hubURL, *token)
	if err != nil {
		return err
	}
	if fs.json {
		return m.printJSON(e)
	}
	fmt.Fprintf(m.Stdout, "enrolled with %s; passes now carry the hub's certificate\n", *hubURL)
	return nil
}

func (m *Main) cmdSync(ctx context.Context, args []string) error {
	fs := m.newFlags("sync").withJSON()
	once := fs.Bool("once", false, "upload and download until caught up, then exit")
	interval := fs.Duration("interval", 30*time.Second, "as a daemon: the pause between exchanges once caught up (with a site relay, how soon this lane hears of the others)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if *interval <= 0 {
		return usagef("sync --interval must be positive, e.g. 5s")
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	if len(pos) == 1 && pos[0] == "status" {
		st, err := client.ReadStatus(ctx, db, time.Now())
		if err != nil {
			return err
		}
		tl, err := db.Tickets(ctx)
		if err != nil {
			return err
		}
		if fs.json {
			// The contract's keys, and the prepaid ticket list held.
			return m.printJSON(struct {
				client.Status
				Tickets listSummary `json:"tickets"`
			}{st, listSummary{Held: tl.Held, UpdatedAt: tl.UpdatedAt, Error: tl.Error}})
		}
		fmt.Fprintf(m.Stdout, "online %v, %d events queued, last success %v, last error %q\n", st.Online, st.Queued, st.LastSuccess, st.LastError)
		fmt.Fprintf(m.Stdout, "%d prepaid tickets held", tl.Held)
		if tl.Error != "" {
			fmt.Fprintf(m.Stdout, "; the last list was refused: %s", tl.Error)
		}
		fmt.Fprintln(m.Stdout)
		return nil
	}
	if len(pos) > 0 {
		return usagef("sync [--once] | sync status --json")
	}
	hub, err := db.Setting(ctx, "hub")
	if err != nil {
		return err
	}
	if hub == "" {
		return terminal.Errorf(terminal.EINVALID, "no hub: enroll first (lango enroll --hub URL --token TOKEN)")
	}
	s := client.New(db, client.Config{Logger: m.logger(), Interval: *interval})
	if *once {
		if err := s.Once(ctx); err != nil {
			return err
		}
		st, _ := s.Status(ctx)
		if fs.json {
			return m.printJSON(st)
		}
		fmt.Fprintf(m.Stdout, "caught up: %d events queued\n", st.Queued)
		return nil
	}
	fmt.Fprintf(m.Stderr, "lango: syncing with %s until stopped\n", hub)
	s.Start(ctx)
	<-ctx.Done()
	return s.Close()
}
