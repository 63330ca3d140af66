package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pay"
	"github.com/lango-pos/lango/terminal/pay/zvt"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// pendingCard is written to the data folder, durably, before the PDQ is
// asked to charge, and removed once the sale or settlement it pays is
// committed. If the terminal dies in between, `lango pdq recover` (run first
// by every command that takes a card) asks the PDQ what happened and
// completes the sale exactly once, or drops it if nothing was charged.
type pendingCard struct {
	Pending  zvt.Pending              `json:"pending"`
	Operator string                   `json:"operator"`
	Sale     *terminal.SaleRequest    `json:"sale,omitempty"`
	Pass     string                   `json:"pass,omitempty"`
	Tenders  []terminal.TenderRequest `json:"tenders"`
	Index    int                      `json:"index"` // the card tender to fill in
}

func (m *Main) pendingPath() (string, error) {
	dir, err := m.dataFolder()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "pdq-pending.json"), nil
}

// writeFileSync writes a file that must never be half-written: temp file,
// fsync, rename, fsync of the folder.
func writeFileSync(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func hasIntegratedCard(ts []terminal.TenderRequest) bool {
	for _, t := range ts {
		if t.Kind == terminal.TenderCard && t.Reference == "" {
			return true
		}
	}
	return false
}

// cardTenders charges the integrated PDQ for a sale's `card` tender, if it
// has one, and returns the tenders with the approval filled in.
func (m *Main) cardTenders(ctx context.Context, db *sqlite.DB, op *terminal.Operator, req terminal.SaleRequest) ([]terminal.TenderRequest, error) {
	ts := req.Tenders
	if !hasIntegratedCard(ts) {
		return ts, nil
	}
	cat, err := db.Catalogue(ctx)
	if err != nil {
		return nil, err
	}
	id, err := db.Identity(ctx)
	if err != nil {
		return nil, err
	}
	priced, err := cat.Price(time.Now(), id.Site, req.Lines)
	if err != nil {
		return nil, err
	}
	return m.chargeCardFor(ctx, db, op, priced.Totals, ts, &req, "")
}

func (m *Main) chargeCardFor(ctx context.Context, db *sqlite.DB, op *terminal.Operator, due terminal.Totals, ts []terminal.TenderRequest, sale *terminal.SaleRequest, passText string) ([]terminal.TenderRequest, error) {
	settings, err := db.Settings(ctx)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(settings["pdq"], "zvt:") {
		return nil, terminal.Errorf(terminal.EINVALID, "no integrated PDQ is configured: key the approval code from the PDQ slip as card:CODE")
	}
	if err := m.recoverCard(ctx, db); err != nil {
		return nil, err
	}
	cat, err := db.Catalogue(ctx)
	if err != nil {
		return nil, err
	}
	idx := -1
	probe := append([]terminal.TenderRequest(nil), ts...)
	for i := range probe {
		if probe[i].Kind == terminal.TenderCard && probe[i].Reference == "" {
			if idx >= 0 {
				return nil, terminal.Errorf(terminal.EINVALID, "only one card tender through the PDQ per sale")
			}
			idx, probe[i].Reference = i, "PENDING"
		}
	}
	tendering, err := terminal.ApplyTenders(cat, due, probe)
	if err != nil {
		return nil, err
	}
	var amount terminal.Money
	for _, t := range tendering.Tenders {
		if t.Kind == terminal.TenderCard && t.Reference == "PENDING" {
			amount = terminal.Money{Currency: t.Currency, Minor: t.Amount}
		}
	}
	setting, err := zvt.ParseSetting(settings["pdq"])
	if err != nil {
		return nil, err
	}
	client, err := zvt.Dial(setting, zvt.Config{Logger: m.Logger})
	if err != nil {
		return nil, err
	}
	defer client.Close()
	pc := pendingCard{
		Pending:  zvt.Pending{Reference: fmt.Sprintf("%d", time.Now().UnixNano()), Amount: amount, Started: time.Now()},
		Operator: op.Name, Sale: sale, Pass: passText, Tenders: ts, Index: idx,
	}
	if last, found, err := client.LastResult(ctx); err == nil && found {
		pc.Pending.LastTrace = last.Trace
	}
	if sale != nil {
		pc.Sale.Tenders = ts
	}
	path, err := m.pendingPath()
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(pc)
	if err := writeFileSync(path, b); err != nil {
		return nil, fmt.Errorf("record pending card payment: %w", err)
	}
	fmt.Fprintf(m.Stderr, "lango: charging %s on the card terminal…\n", amount)
	var dev terminal.PaymentDevice = pay.ZVT{Client: client}
	charge, err := dev.Charge(ctx, amount, pc.Pending.Reference)
	if err != nil {
		if !errors.Is(err, zvt.ErrOutcomeUnknown) {
			os.Remove(path) // declined or never started: nothing charged
		}
		return nil, err
	}
	out := append([]terminal.TenderRequest(nil), ts...)
	out[idx].Reference, out[idx].CardLast4 = charge.Approval, charge.CardLast4
	// The pending record is removed by the caller's commit path below.
	m.afterCommit = func() { os.Remove(path) }
	return out, nil
}

// recoverCard settles an interrupted card payment before anything else.
func (m *Main) recoverCard(ctx context.Context, db *sqlite.DB) error {
	_, err := m.doRecover(ctx, db)
	return err
}

type recoverOut struct {
	Outcome string          `json:"outcome"` // none, charged, not_charged, unknown
	Reason  string          `json:"reason,omitempty"`
	Sale    *saleOut        `json:"sale,omitempty"`
	Settled string          `json:"settlement,omitempty"`
	Amount  terminal.Totals `json:"amount,omitempty"`
}

func (m *Main) doRecover(ctx context.Context, db *sqlite.DB) (recoverOut, error) {
	path, err := m.pendingPath()
	if err != nil {
		return recoverOut{}, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return recoverOut{Outcome: "none"}, nil
	}
	if err != nil {
		return recoverOut{}, err
	}
	var pc pendingCard
	if err := json.Unmarshal(b, &pc); err != nil {
		return recoverOut{}, terminal.Errorf(terminal.EINTERNAL, "unreadable pending card record %s: %v", path, err)
	}
	out := recoverOut{Amount: terminal.Totals{pc.Pending.Amount.Currency: pc.Pending.Amount.Minor}}
	settings, err := db.Settings(ctx)
	if err != nil {
		return out, err
	}
	setting, err := zvt.ParseSetting(settings["pdq"])
	if err != nil {
		return out, err
	}
	client, err := zvt.Dial(setting, zvt.Config{Logger: m.Logger})
	if err != nil {
		return out, &terminal.Error{Kind: terminal.EDEVICE, Message: "an interrupted card payment of " + pc.Pending.Amount.String() + " must be checked first, but the card terminal is unreachable", Err: err}
	}
	defer client.Close()
	rec, err := client.Recover(ctx, pc.Pending)
	out.Outcome, out.Reason = string(rec.Outcome), rec.Reason
	if err != nil {
		return out, err
	}
	switch rec.Outcome {
	case zvt.OutcomeNotCharged:
		os.Remove(path)
		return out, nil
	case zvt.OutcomeUnknown:
		return out, terminal.Errorf(terminal.EDEVICE, "cannot tell whether the card was charged %s: look at the PDQ's last transaction, then key it as card:APPROVAL or retry: %s", pc.Pending.Amount, rec.Reason)
	}
	ts := append([]terminal.TenderRequest(nil), pc.Tenders...)
	charge := pay.ChargeOf(*rec.Last)
	ts[pc.Index].Reference, ts[pc.Index].CardLast4 = charge.Approval, charge.CardLast4
	op, err := db.Operator(ctx, pc.Operator)
	if err != nil {
		return out, err
	}
	if pc.Sale != nil {
		iss, err := db.PassIssuer(ctx)
		if err != nil {
			return out, err
		}
		req := *pc.Sale
		req.Tenders = ts
		res, err := db.Sell(ctx, op, req, iss)
		if err != nil {
			return out, fmt.Errorf("complete the charged sale: %w", err)
		}
		so := saleJSON(res.Sale, nil)
		out.Sale = &so
	} else if pc.Pass != "" {
		res, err := db.Settle(ctx, op, pc.Pass, ts)
		if err != nil {
			return out, fmt.Errorf("complete the charged settlement: %w", err)
		}
		out.Settled = res.Settlement.ID
	}
	os.Remove(path)
	return out, nil
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
