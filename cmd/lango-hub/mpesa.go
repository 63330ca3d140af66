package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/lango-pos/lango/sync/hub/mpesa"
	"github.com/lango-pos/lango/terminal"
)

// importMpesaLedger moves the M-PESA ledger an older hub kept in
// DIR/mpesa.db into st, the hub's store, once: the file is renamed
// mpesa.db.imported after. Every command that opens the store does it
// (serve, report, migrate, copy's source), so whichever runs first after
// an upgrade carries the ledger across; a payment already in the store is
// kept as it is.
func importMpesaLedger(ctx context.Context, st mpesa.Ledger, dir string, log *slog.Logger) error {
	path := filepath.Join(dir, "mpesa.db")
	p, q, err := mpesa.ImportFile(ctx, path, st)
	if err != nil {
		return fmt.Errorf("import the M-PESA ledger of %s: %w", dir, err)
	}
	if p+q > 0 && log != nil {
		log.Info("imported the M-PESA ledger into the hub's database", "file", path, "payments", p, "queries", q, "set_aside", path+".imported")
	}
	return nil
}

// mpesaWorkers are serve's M-PESA workers, configured (and their
// environment checked) when the store opens.
type mpesaWorkers struct {
	client *mpesa.Client // Transaction Status and Pull; nil without LANGO_DARAJA_URL
	puller *mpesa.Puller
	every  time.Duration
}

func (w *mpesaWorkers) configure(m *Main) error {
	w.client = m.darajaClient()
	var err error
	w.puller, w.every, err = m.mpesaPuller(w.client)
	return err
}

// mpesaPuller is the Pull Transactions poller configured by the
// environment, or nil when Daraja is not (LANGO_DARAJA_URL unset) or
// pulling is off (LANGO_DARAJA_PULL=off). It pulls the paybills in
// LANGO_DARAJA_PULL_SHORTCODES (comma-separated: the sites' paybills and
// their spares), by default LANGO_DARAJA_SHORTCODE, every
// LANGO_DARAJA_PULL_INTERVAL (a Go duration, 5m by default).
func (m *Main) mpesaPuller(c *mpesa.Client) (*mpesa.Puller, time.Duration, error) {
	if c == nil || strings.EqualFold(strings.TrimSpace(m.Getenv("LANGO_DARAJA_PULL")), "off") {
		return nil, 0, nil
	}
	codes, err := shortCodes("LANGO_DARAJA_PULL_SHORTCODES", m.Getenv("LANGO_DARAJA_PULL_SHORTCODES"))
	if err != nil {
		return nil, 0, err
	}
	if len(codes) == 0 {
		if codes, err = shortCodes("LANGO_DARAJA_SHORTCODE", m.Getenv("LANGO_DARAJA_SHORTCODE")); err != nil {
			return nil, 0, err
		}
	}
	if len(codes) == 0 {
		return nil, 0, nil
	}
	every := 5 * time.Minute
	if s := strings.TrimSpace(m.Getenv("LANGO_DARAJA_PULL_INTERVAL")); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return nil, 0, terminal.Errorf(terminal.EINVALID, "LANGO_DARAJA_PULL_INTERVAL: %q is not a duration like 5m", s)
		}
		every = d
	}
	return &mpesa.Puller{Client: c, Ledger: m.store, ShortCodes: codes, Now: m.Now}, every, nil
}

// shortCodes reads a comma-separated list of paybills.
func shortCodes(name, v string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if err := mpesa.ValidShortCode(s); err != nil {
			return nil, terminal.Errorf(terminal.EINVALID, "%s: %v", name, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// pullMpesa registers the paybills for Pull Transactions (the callback
// URL, if LANGO_DARAJA_PULL_CALLBACK names one) and pulls them at once
// and then every interval, until ctx is done.
func (m *Main) pullMpesa(ctx context.Context, p *mpesa.Puller, every time.Duration) {
	log := m.logger
	for _, sc := range p.ShortCodes {
		if err := p.Client.RegisterPull(ctx, sc, m.Getenv("LANGO_DARAJA_PULL_NOMINATED"), m.Getenv("LANGO_DARAJA_PULL_CALLBACK")); err != nil {
			log.Warn("M-PESA pull registration", "paybill", sc, "err", err)
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := p.Once(ctx); err != nil {
			log.Warn("M-PESA pull", "err", err, "new_payments", n)
		} else if n > 0 {
			log.Info("M-PESA pull", "new_payments", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
