package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lango-pos/lango/printer"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/printing"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// printNow prints what waits in the spool, giving the printer a few
// seconds; a job it cannot print stays queued, never lost.
func (m *Main) printNow(ctx context.Context, db *sqlite.DB, job string) printJSON {
	if job == "" {
		return printJSON{Status: "none"}
	}
	out := printJSON{Status: "queued", Job: job}
	spool, closeFn, err := m.spool(ctx, db)
	if err != nil {
		out.Error = terminal.ErrorMessage(err)
		return out
	}
	defer closeFn()
	pctx, cancel := context.WithTimeout(ctx, 8*time.Second)
	defer cancel()
	if _, err := spool.PrintPending(pctx); err != nil {
		out.Error = terminal.ErrorMessage(err)
	}
	if j, err := db.PrintJob(ctx, job); err == nil && j.PrintedAt != nil {
		out.Status, out.Error = "printed", ""
	}
	return out
}

// spool opens the configured printer behind a print spool.
func (m *Main) spool(ctx context.Context, db *sqlite.DB) (*printer.Spool, func(), error) {
	settings, err := db.Settings(ctx)
	if err != nil {
		return nil, nil, err
	}
	dev, err := printer.Open(settings["printer"], printer.Options{Logger: m.logger(), DoneTimeout: 6 * time.Second})
	if err != nil {
		return nil, nil, err
	}
	q := &printing.Queue{DB: db, Profile: dev.Profile(), Lang: printing.Lang(settings["language"])}
	sp := printer.NewSpool(q, dev, printer.SpoolOptions{Logger: m.logger()})
	return sp, func() { dev.Close() }, nil
}

func (m *Main) cmdPrint(ctx context.Context, args []string) error {
	fs := m.newFlags("print").withJSON()
	pending := fs.Bool("pending", false, "print what waits in the spool")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	if !*pending {
		return usagef("print --pending")
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	sp, closeFn, err := m.spool(ctx, db)
	if err != nil {
		return err
	}
	defer closeFn()
	n, perr := sp.PrintPending(ctx)
	left, _ := db.PendingPrintJobs(ctx)
	if fs.json {
		m.printJSON(map[string]any{"printed": n, "waiting": left})
	} else {
		fmt.Fprintf(m.Stdout, "%d printed, %d waiting\n", n, left)
	}
	if perr != nil && left > 0 {
		jobs := "jobs wait"
		if left == 1 {
			jobs = "job waits"
		}
		return &terminal.Error{Kind: terminal.EDEVICE, Message: fmt.Sprintf("%s; %d %s in the spool, not lost", terminal.ErrorMessage(perr), left, jobs)}
	}
	return nil
}

func (m *Main) cmdReprint(ctx context.Context, args []string) error {
	fs := m.newFlags("reprint").withAs().withJSON()
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("reprint --as SUPERVISOR SALE_ID")
	}
	db, sup, err := m.openAs(ctx, fs.as)
	if err != nil {
		return err
	}
	job, err := db.Reprint(ctx, sup, pos[0])
	if err != nil {
		return err
	}
	pr := m.printNow(ctx, db, job)
	if fs.json {
		return m.printJSON(map[string]any{"print": pr})
	}
	fmt.Fprintf(m.Stdout, "copy %s\n", pr.Status)
	return nil
}

func (m *Main) cmdPrinter(ctx context.Context, args []string) error {
	fs := m.newFlags("printer").withJSON()
	link := fs.String("pty", "", "emulate: the device link to create, e.g. /tmp/lango-printer")
	out := fs.String("out", "", "emulate: folder for the rendered PNGs")
	profile := fs.String("profile", "", "emulate: printer profile ("+profileNames()+")")
	realtime := fs.Bool("realtime", false, "emulate: pace output at the profile's baud rate")
	port := fs.String("port", "", "detect: the serial port (default: the printer setting's)")
	baud := fs.Int("baud", 0, "detect: the rate to try first (default: the printer setting's, then 9600, 19200, 38400, 115200)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("printer list | test | detect [--port PATH] [--baud N] | emulate --pty LINK --out DIR [--profile NAME]")
	}
	switch pos[0] {
	case "list":
		ports, err := printer.ListPorts()
		if err != nil {
			return err
		}
		if fs.json {
			return m.printJSON(ports)
		}
		if len(ports) == 0 {
			fmt.Fprintln(m.Stdout, "no serial ports found (pseudo-terminals are not listed)")
		}
		for _, p := range ports {
			usb := ""
			if p.USB {
				usb = fmt.Sprintf("  USB %s:%s %s %s", p.VID, p.PID, p.Product, p.Serial)
			}
			fmt.Fprintf(m.Stdout, "%s%s\n", p.Name, usb)
		}
		return nil
	case "test":
		db, err := m.open(ctx)
		if err != nil {
			return err
		}
		job, err := db.QueuePrint(ctx, "test", "")
		if err != nil {
			return err
		}
		if job == "" {
			return terminal.Errorf(terminal.EDEVICE, "no printer is configured: lango config set printer SPEC")
		}
		pr := m.printNow(ctx, db, job)
		if pr.Status != "printed" {
			return &terminal.Error{Kind: terminal.EDEVICE, Message: "test page queued, not printed: " + pr.Error}
		}
		fmt.Fprintln(m.Stdout, "test page printed")
		return nil
	case "emulate":
		if *link == "" || *out == "" {
			return usagef("printer emulate --pty LINK --out DIR [--profile NAME]")
		}
		prof, err := printer.LookupProfile(*profile)
		if err != nil {
			return err
		}
		em, err := printer.NewEmulator(prof, *out, *realtime, m.logger())
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stderr, "lango: printer emulator (%s) on %s, jobs to %s; type 'paper out', 'paper in', 'cover open', 'cover closed' or 'status'\n", prof.Name, *link, *out)
		go func() { _ = printer.Control(ctx, m.Stdin, m.Stderr, em) }() // stdin closed: no more commands, the printer goes on
		return printer.ServePTY(ctx, *link, em)
	case "detect":
		return m.printerDetect(ctx, *port, *baud, fs.json)
	}
	return usagef("printer %s: use list, test, detect or emulate", pos[0])
}

// printerDetect asks the printer on port (or the printer setting's port)
// for its model and native QR, and proposes a profile and a setting.
func (m *Main) printerDetect(ctx context.Context, port string, baud int, asJSON bool) error {
	if port == "" {
		db, err := m.open(ctx)
		if err != nil {
			return err
		}
		spec, err := db.Setting(ctx, "printer")
		if err != nil {
			return err
		}
		s, err := printer.ParseSpec(spec)
		if err != nil {
			return err
		}
		if s.Kind != printer.KindSerial {
			return terminal.Errorf(terminal.EINVALID, "the printer setting is %q, not a serial port: give --port PATH (lango printer list shows the ports)", spec)
		}
		port = s.Path
		if baud == 0 {
			baud = s.Baud
		}
	}
	d, err := printer.Detect(ctx, port, baud, printer.Options{Logger: m.logger()})
	if err != nil {
		return err
	}
	if asJSON {
		return m.printJSON(d)
	}
	model := strings.TrimSpace(d.Maker + " " + d.Model)
	if model == "" {
		model = "model not reported"
	}
	qr := "no native QR"
	if d.NativeQR {
		qr = "native QR"
	}
	fmt.Fprintf(m.Stdout, "%s at %d baud: %s, %s\nprofile %s: %s\nto use it: lango config set printer '%s'\n", d.Port, d.Baud, model, qr, d.Profile, d.Reason, d.Spec)
	return nil
}

func profileNames() string {
	var names []string
	for _, p := range printer.Profiles() {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

type printJSON struct {
	Status string `json:"status"` // printed, queued, none
	Job    string `json:"job,omitempty"`
	Error  string `json:"error,omitempty"`
}
