// Package carddesk charges an integrated card terminal (a ZVT PDQ) for a
// sale or a settlement exactly once, across crashes.
//
// Before the PDQ is asked to charge, a pending record is written durably
// to the data folder: what is being paid and the PDQ's last trace number.
// It is removed once the sale or settlement the charge pays is committed.
// If the terminal dies in between, Recover asks the PDQ what happened and
// completes the sale (or settlement) exactly once, or drops the record if
// nothing was charged. The command line (every card command, and `lango
// run` first) and the kiosk share it.
package carddesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pay"
	"github.com/lango-pos/lango/terminal/pay/zvt"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// Desk charges the PDQ of a terminal's pdq setting.
type Desk struct {
	DB *sqlite.DB
	// Path is the pending record's file (pdq-pending.json in the data
	// folder).
	Path   string
	Logger *slog.Logger
}

// pending is the durable record of a charge in progress.
type pending struct {
	Pending  zvt.Pending              `json:"pending"`
	Operator string                   `json:"operator"`
	Sale     *terminal.SaleRequest    `json:"sale,omitempty"`
	Pass     string                   `json:"pass,omitempty"`
	Tenders  []terminal.TenderRequest `json:"tenders"`
	Index    int                      `json:"index"` // the card tender to fill in
}

// HasIntegratedCard reports whether ts has a card tender with no approval
// code: one the PDQ is to charge.
func HasIntegratedCard(ts []terminal.TenderRequest) bool {
	for _, t := range ts {
		if t.Kind == terminal.TenderCard && t.Reference == "" {
			return true
		}
	}
	return false
}

// Integrated reports whether the terminal's pdq setting names an
// integrated PDQ.
func (d *Desk) Integrated(ctx context.Context) (bool, error) {
	v, err := d.DB.Setting(ctx, "pdq")
	return strings.HasPrefix(v, "zvt:"), err
}

func (d *Desk) log() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

func (d *Desk) dial(ctx context.Context) (*zvt.Client, error) {
	spec, err := d.DB.Setting(ctx, "pdq")
	if err != nil {
		return nil, err
	}
	setting, err := zvt.ParseSetting(spec)
	if err != nil {
		return nil, err
	}
	return zvt.Dial(setting, zvt.Config{Logger: d.log()})
}

// ChargeSale charges the PDQ for req's integrated card tender, priced now,
// and returns the tenders with the approval filled in, and done, to call
// once the sale is committed. announce, if set, is told the amount before
// the customer is asked for the card.
func (d *Desk) ChargeSale(ctx context.Context, op *terminal.Operator, req terminal.SaleRequest, announce func(terminal.Money)) ([]terminal.TenderRequest, func(), error) {
	if !HasIntegratedCard(req.Tenders) {
		return req.Tenders, func() {}, nil
	}
	cat, err := d.DB.Catalogue(ctx)
	if err != nil {
		return nil, nil, err
	}
	id, err := d.DB.Identity(ctx)
	if err != nil {
		return nil, nil, err
	}
	priced, err := cat.Price(d.DB.Now(), id.Site, req.Lines)
	if err != nil {
		return nil, nil, err
	}
	return d.charge(ctx, op, priced.Totals, req.Tenders, &req, "", announce)
}

// ChargeSettlement charges the PDQ for the integrated card tender of a
// settlement of pass (its amount from the settlement quoted now); done is
// to be called once the settlement is committed.
func (d *Desk) ChargeSettlement(ctx context.Context, op *terminal.Operator, passText string, ts []terminal.TenderRequest, announce func(terminal.Money)) ([]terminal.TenderRequest, func(), error) {
	if !HasIntegratedCard(ts) {
		return ts, func() {}, nil
	}
	q, err := d.DB.QuoteSettlement(ctx, passText)
	if err != nil {
		return nil, nil, err
	}
	return d.charge(ctx, op, q.Totals, ts, nil, passText, announce)
}

func (d *Desk) charge(ctx context.Context, op *terminal.Operator, due terminal.Totals, ts []terminal.TenderRequest, sale *terminal.SaleRequest, passText string, announce func(terminal.Money)) ([]terminal.TenderRequest, func(), error) {
	if ok, err := d.Integrated(ctx); err != nil {
		return nil, nil, err
	} else if !ok {
		return nil, nil, terminal.Errorf(terminal.EINVALID, "no integrated PDQ is configured: key the approval code from the PDQ slip as card:CODE")
	}
	if _, err := d.Recover(ctx); err != nil {
		return nil, nil, err
	}
	cat, err := d.DB.Catalogue(ctx)
	if err != nil {
		return nil, nil, err
	}
	idx := -1
	probe := append([]terminal.TenderRequest(nil), ts...)
	for i := range probe {
		if probe[i].Kind == terminal.TenderCard && probe[i].Reference == "" {
			if idx >= 0 {
				return nil, nil, terminal.Errorf(terminal.EINVALID, "only one card tender through the PDQ per sale")
			}
			idx, probe[i].Reference = i, "PENDING"
		}
	}
	tendering, err := terminal.ApplyTenders(cat, due, probe)
	if err != nil {
		return nil, nil, err
	}
	var amount terminal.Money
	for _, t := range tendering.Tenders {
		if t.Kind == terminal.TenderCard && t.Reference == "PENDING" {
			amount = terminal.Money{Currency: t.Currency, Minor: t.Amount}
		}
	}
	client, err := d.dial(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer client.Close()
	pc := pending{
		Pending:  zvt.Pending{Reference: fmt.Sprintf("%d", time.Now().UnixNano()), Amount: amount, Started: time.Now()},
		Operator: op.Name, Sale: sale, Pass: passText, Tenders: ts, Index: idx,
	}
	if last, found, err := client.LastResult(ctx); err == nil && found {
		pc.Pending.LastTrace = last.Trace
	}
	if sale != nil {
		s := *sale
		s.Tenders = ts
		pc.Sale = &s
	}
	b, _ := json.Marshal(pc)
	if err := writeFileSync(d.Path, b); err != nil {
		return nil, nil, fmt.Errorf("record pending card payment: %w", err)
	}
	if announce != nil {
		announce(amount)
	}
	var dev terminal.PaymentDevice = pay.ZVT{Client: client}
	charge, err := dev.Charge(ctx, amount, pc.Pending.Reference)
	if err != nil {
		if !errors.Is(err, zvt.ErrOutcomeUnknown) {
			os.Remove(d.Path) // declined or never started: nothing charged
		}
		return nil, nil, err
	}
	out := append([]terminal.TenderRequest(nil), ts...)
	out[idx].Reference, out[idx].CardLast4 = charge.Approval, charge.CardLast4
	return out, func() { os.Remove(d.Path) }, nil
}

// Recovery is what Recover found.
type Recovery struct {
	Outcome string // none, charged, not_charged, unknown
	Reason  string
	// Sale or SettlementID is what the charged payment was completed as.
	Sale         *terminal.Sale
	SettlementID string
	Amount       terminal.Totals
}

// Recover settles an interrupted card payment, if one is pending: from the
// PDQ's own record it completes the sale or settlement the card paid
// (once), or drops the record when nothing was charged; when the PDQ cannot
// tell, it says what the attendant must check.
func (d *Desk) Recover(ctx context.Context) (Recovery, error) {
	b, err := os.ReadFile(d.Path)
	if errors.Is(err, os.ErrNotExist) {
		return Recovery{Outcome: "none"}, nil
	}
	if err != nil {
		return Recovery{}, err
	}
	var pc pending
	if err := json.Unmarshal(b, &pc); err != nil {
		return Recovery{}, terminal.Errorf(terminal.EINTERNAL, "unreadable pending card record %s: %v", d.Path, err)
	}
	out := Recovery{Amount: terminal.Totals{pc.Pending.Amount.Currency: pc.Pending.Amount.Minor}}
	client, err := d.dial(ctx)
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
		os.Remove(d.Path)
		return out, nil
	case zvt.OutcomeUnknown:
		return out, terminal.Errorf(terminal.EDEVICE, "cannot tell whether the card was charged %s: look at the PDQ's last transaction, then key it as card:APPROVAL or retry: %s", pc.Pending.Amount, rec.Reason)
	}
	ts := append([]terminal.TenderRequest(nil), pc.Tenders...)
	charge := pay.ChargeOf(*rec.Last)
	ts[pc.Index].Reference, ts[pc.Index].CardLast4 = charge.Approval, charge.CardLast4
	op, err := d.DB.Operator(ctx, pc.Operator)
	if err != nil {
		return out, err
	}
	if pc.Sale != nil {
		iss, err := d.DB.PassIssuer(ctx)
		if err != nil {
			return out, err
		}
		req := *pc.Sale
		req.Tenders = ts
		res, err := d.DB.Sell(ctx, op, req, iss)
		if err != nil {
			return out, fmt.Errorf("complete the charged sale: %w", err)
		}
		out.Sale = res.Sale
	} else if pc.Pass != "" {
		res, err := d.DB.Settle(ctx, op, pc.Pass, ts)
		if err != nil {
			return out, fmt.Errorf("complete the charged settlement: %w", err)
		}
		out.SettlementID = res.Settlement.ID
	}
	os.Remove(d.Path)
	return out, nil
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
