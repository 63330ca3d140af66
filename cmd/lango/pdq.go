package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/carddesk"
	"github.com/lango-pos/lango/terminal/pay/zvt"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// desk is the terminal's card desk: the integrated PDQ, charged exactly
// once across crashes, with its pending record in the data folder.
func (m *Main) desk(db *sqlite.DB) (*carddesk.Desk, error) {
	dir, err := m.dataFolder()
	if err != nil {
		return nil, err
	}
	return &carddesk.Desk{DB: db, Path: filepath.Join(dir, "pdq-pending.json"), Logger: m.logger()}, nil
}

// announceCharge tells the attendant at a terminal what the PDQ asks; a
// script's stderr gets nothing but an error line.
func (m *Main) announceCharge(amount terminal.Money) {
	if m.IsTerminal == nil || !m.IsTerminal() {
		return
	}
	fmt.Fprintf(m.Stderr, "lango: charging %s on the card terminal…\n", amount)
}

type recoverOut struct {
	Outcome string          `json:"outcome"` // none, charged, not_charged, unknown
	Reason  string          `json:"reason,omitempty"`
	Sale    *saleOut        `json:"sale,omitempty"`
	Settled string          `json:"settlement,omitempty"`
	Amount  terminal.Totals `json:"amount,omitempty"`
}

// doRecover settles an interrupted card payment before anything else.
func (m *Main) doRecover(ctx context.Context, db *sqlite.DB) (recoverOut, error) {
	d, err := m.desk(db)
	if err != nil {
		return recoverOut{}, err
	}
	rec, err := d.Recover(ctx)
	out := recoverOut{Outcome: rec.Outcome, Reason: rec.Reason, Settled: rec.SettlementID}
	if rec.Outcome != "none" {
		out.Amount = rec.Amount
	}
	if rec.Sale != nil {
		so := saleJSON(rec.Sale, nil)
		out.Sale = &so
	}
	return out, err
}

func (m *Main) cmdPDQ(ctx context.Context, args []string) error {
	fs := m.newFlags("pdq").withAs().withJSON()
	link := fs.String("pty", "", "emulate: the device link to create")
	mode := fs.String("mode", "approve", "emulate: approve, decline, timeout or silent")
	journal := fs.String("journal", "", "emulate: file keeping the emulator's transactions")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("pdq emulate --pty LINK [--mode approve|decline|timeout] | pdq recover --as NAME --json")
	}
	switch pos[0] {
	case "emulate":
		if *link == "" {
			return usagef("pdq emulate --pty LINK [--mode approve|decline|timeout]")
		}
		md, err := zvt.ParseMode(*mode)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stderr, "lango: ZVT card terminal emulator (%s) on %s\n", md, *link)
		return zvt.RunEmulator(ctx, *link, zvt.EmulatorConfig{Mode: md, JournalPath: *journal})
	case "recover":
		db, err := m.open(ctx)
		if err != nil {
			return err
		}
		if _, err := m.operator(ctx, db, fs.as); err != nil {
			return err
		}
		out, err := m.doRecover(ctx, db)
		if err != nil {
			return err
		}
		if fs.json {
			return m.printJSON(out)
		}
		fmt.Fprintf(m.Stdout, "card payment: %s %s\n", out.Outcome, out.Reason)
		return nil
	}
	return usagef("pdq %s: use emulate or recover", pos[0])
}
