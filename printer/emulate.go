package printer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/lango-pos/lango/printer/emulator"
	"github.com/lango-pos/lango/printer/escpos"
	"github.com/lango-pos/lango/terminal"
)

// EmulatorPrinter is the printer of the setting `emulator:DIR`: it renders
// each job straight to a PNG file in DIR, with no serial line in between.
type EmulatorPrinter struct {
	prof Profile
	mu   sync.Mutex
	em   *emulator.Emulator
}

// NewEmulatorPrinter renders jobs for prof into dir, which it creates.
func NewEmulatorPrinter(dir string, prof Profile, log *slog.Logger) (*EmulatorPrinter, error) {
	em, err := NewEmulator(prof, dir, false, log)
	if err != nil {
		return nil, err
	}
	return &EmulatorPrinter{prof: prof, em: em}, nil
}

// Emulator is the virtual printer behind p: tests and the UI's demo mode
// run its paper out or open its cover.
func (p *EmulatorPrinter) Emulator() *emulator.Emulator { return p.em }

// Profile is the model jobs are laid out for.
func (p *EmulatorPrinter) Profile() Profile { return p.prof }

// Close does nothing: each job is written when printed.
func (p *EmulatorPrinter) Close() error { return nil }

// Status is the emulator's status.
func (p *EmulatorPrinter) Status(context.Context) (Status, error) { return p.em.Status(), nil }

// Print renders job to a PNG, unless the emulated printer is not ready.
func (p *EmulatorPrinter) Print(ctx context.Context, job []byte) error {
	if err := escpos.Validate(job); err != nil {
		return &terminal.Error{Kind: terminal.EINVALID, Message: "the print job is damaged", Err: err}
	}
	if err := ctx.Err(); err != nil {
		return deviceError(err, "printing cancelled")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	where := "emulator"
	if st := p.em.Status(); !st.Ready() {
		return notReady(where, st)
	}
	before := p.em.Stats()
	if _, err := p.em.Feed(job); err != nil {
		return deviceError(err, "the printer emulator could not save the job")
	}
	if err := p.em.Flush(); err != nil {
		return deviceError(err, "the printer emulator could not save the job")
	}
	if after := p.em.Stats(); after.Dropped > before.Dropped {
		return notReady(where, p.em.Status())
	}
	return nil
}

// NewEmulator returns a virtual printer of prof's paper width that writes
// each job as a PNG into outDir. Realtime makes it as slow as the
// profile's serial line, with a 4 KiB receive buffer and the profile's
// flow control, as a real printer behind a pseudo-terminal would be.
func NewEmulator(prof Profile, outDir string, realtime bool, log *slog.Logger) (*emulator.Emulator, error) {
	sink, err := emulator.DirSink(outDir)
	if err != nil {
		return nil, deviceError(err, "cannot write printed jobs to %s", outDir)
	}
	cfg := prof.emulatorConfig()
	cfg.Sink, cfg.Logger = sink, log
	if realtime {
		cfg.BytesPerSecond = prof.BytesPerSecond()
		cfg.BufferBytes = 4096
		cfg.XonXoff = prof.Flow == FlowXonXoff
	}
	em, err := emulator.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("printer emulator: %w", err)
	}
	return em, nil
}

// Control reads operator commands, one a line, from r ("paper out",
// "paper in", "cover open", "cover closed", "offline", "online",
// "status") and applies them to em, answering on w, until r ends or ctx
// is done: `lango printer emulate` runs it on standard input.
func Control(ctx context.Context, r io.Reader, w io.Writer, em *emulator.Emulator) error {
	lines := make(chan string)
	errc := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		errc <- sc.Err()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("emulator control: %w", err)
			}
			return nil
		case l := <-lines:
			msg, err := em.Control(l)
			if err != nil {
				msg = err.Error()
			}
			if _, err := fmt.Fprintln(w, msg); err != nil {
				return fmt.Errorf("emulator control: %w", err)
			}
		}
	}
}

// emulatorConfig is an emulator with the profile's paper.
func (p Profile) emulatorConfig() emulator.Config {
	return emulator.Config{WidthDots: p.WidthDots, MarginDots: p.MarginDots(), Identity: p.identity()}
}
