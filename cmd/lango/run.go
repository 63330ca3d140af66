//go:build !headless

package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/lango-pos/lango/sync/client"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/printing"
	"github.com/lango-pos/lango/terminal/scan"
	"github.com/lango-pos/lango/terminal/ui"
)

// checkDisplay refuses to start the kiosk where there is no display to
// open (over SSH, under systemd without a session): GLFW would panic with
// a long trace instead.
func (m *Main) checkDisplay() error {
	if runtime.GOOS != "linux" || m.Getenv("DISPLAY") != "" || m.Getenv("WAYLAND_DISPLAY") != "" {
		return nil
	}
	return terminal.Errorf(terminal.EDEVICE, "no display to open the kiosk on (DISPLAY is not set): run lango run from the desktop session, or set DISPLAY (e.g. Xvfb :99 & DISPLAY=:99)")
}

// cmdRun starts the kiosk: the print spool and the sync worker in the
// background, the Fyne window on this goroutine.
func (m *Main) cmdRun(ctx context.Context, args []string) error {
	fs := m.newFlags("run")
	windowed := fs.Bool("windowed", false, "a window instead of full screen (desktops, demos)")
	if pos, err := fs.parse(args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("run takes no arguments")
	}
	if err := m.checkDisplay(); err != nil {
		return err
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	settings, err := db.Settings(ctx)
	if err != nil {
		return err
	}
	// A card payment interrupted by a crash is settled before anything
	// else: from the PDQ's own record, or by telling the attendant what to
	// check on its screen.
	if out, err := m.doRecover(ctx, db); err != nil {
		fmt.Fprintf(m.Stderr, "lango: %s\n", message(err))
	} else if out.Outcome != "none" {
		fmt.Fprintf(m.Stderr, "lango: interrupted card payment of %s: %s %s\n", out.Amount, out.Outcome, out.Reason)
	}
	feed := ui.NewPrinterFeed()
	station, err := printing.OpenStation(ctx, db, printing.StationOptions{Logger: m.logger(), OnState: feed.Set})
	if err != nil {
		return err
	}
	defer station.Close()

	notify := station.Notify
	var syncNow func(context.Context) error
	if settings["hub"] != "" {
		syncer := client.New(db, client.Config{Logger: m.logger()})
		syncer.Start(ctx)
		defer syncer.Close()
		notify = func() { station.Notify(); syncer.Kick() }
		syncNow = syncer.Once
	}
	// The printer changes at once; the PDQ, the scanner and the hub when
	// Lango starts again.
	reconfigure := func(key, value string) bool {
		if key != "printer" {
			return false
		}
		if err := station.Reconfigure(value); err != nil {
			m.logger().Error("printer change", "printer", value, "err", err)
			return false
		}
		return true
	}
	var scans chan string
	if d, _ := terminal.ParseDevice("scanner", settings["scanner"]); d.Kind == "serial" {
		st, err := scan.ParseSetting(settings["scanner"])
		if err != nil {
			return err
		}
		port, err := scan.Open(st)
		if err != nil {
			// The keyboard path still works: say so, and go on.
			fmt.Fprintf(m.Stderr, "lango: %s; scan or type passes at the exit lane instead\n", terminal.ErrorMessage(err))
		} else {
			defer port.Close()
			scans = make(chan string, 8)
			sc := scan.New(port, func(s string) {
				select {
				case scans <- s:
				default: // the lane is busy with a pass: drop, the driver scans again
				}
			}, m.logger())
			sc.Start(ctx)
			defer sc.Close()
		}
	}
	// An integrated PDQ takes cards from the kiosk too.
	var card ui.CardDesk
	if d, _ := terminal.ParseDevice("pdq", settings["pdq"]); d.Kind == "zvt" {
		if card, err = m.desk(db); err != nil {
			return err
		}
	}
	preview := ""
	if d, _ := terminal.ParseDevice("printer", settings["printer"]); d.Kind == "emulator" {
		preview = d.Path
	}
	return ui.Run(ctx, ui.Options{
		Store: db, Printer: feed, Sync: ui.StoreSync(db, db.Now), Notify: notify,
		PreviewDir: preview, FullScreen: !*windowed, Scans: scans, Reconfigure: reconfigure, Card: card,
		SyncNow: syncNow,
	})
}
