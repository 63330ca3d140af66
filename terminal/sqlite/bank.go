package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lango-pos/lango/internal/sqlitefile"
	"github.com/lango-pos/lango/terminal"
)

// A bank reference (a transfer's or a deposit slip's) is taken once per
// site, as an M-PESA code is: bank_refs holds those taken here,
// feed_bank_refs those the feed says another lane took.
const (
	sqlBankFeed   = `SELECT terminal, at FROM feed_bank_refs WHERE bank = ? AND reference = ?`
	sqlBankUsed   = `SELECT coalesce(s.number, 0), b.deposit_id IS NOT NULL FROM bank_refs b LEFT JOIN sales s ON s.id = b.sale_id WHERE b.bank = ? AND b.reference = ?`
	sqlInsertBank = `INSERT INTO bank_refs (bank, reference, sale_id, settlement_id, deposit_id, currency, amount) VALUES (?, ?, ?, ?, ?, ?, ?)`
)

// checkBankUnused refuses (ECONFLICT) a bank reference already taken here
// or, as the feed says, at another lane of the site.
func (tx *Tx) checkBankUnused(ctx context.Context, bank, ref string) error {
	var lane, at string
	switch err := tx.QueryRowContext(ctx, sqlBankFeed, bank, ref).Scan(&lane, &at); {
	case err == nil:
		when := tx.db.SiteTime(parseTS(at), "2006-01-02 15:04")
		return terminal.Errorf(terminal.ECONFLICT, "bank reference %s %s was already used at %s (%s)", bank, ref, lane, when).
			WithID("bank_used_elsewhere", map[string]any{"Bank": bank, "Ref": ref, "Terminal": lane, "At": when})
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("check bank reference: %w", err)
	}
	var n int64
	var deposit bool
	err := tx.QueryRowContext(ctx, sqlBankUsed, bank, ref).Scan(&n, &deposit)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("check bank reference: %w", err)
	case deposit:
		return terminal.Errorf(terminal.ECONFLICT, "bank reference %s %s was already used for a shift's cash deposit", bank, ref)
	case n == 0:
		return terminal.Errorf(terminal.ECONFLICT, "bank reference %s %s was already used to settle a pass", bank, ref)
	}
	return terminal.Errorf(terminal.ECONFLICT, "bank reference %s %s was already used on sale %d", bank, ref, n).
		WithID("bank_used", map[string]any{"Bank": bank, "Ref": ref, "N": n})
}

// checkTendersUnused refuses tenders whose M-PESA code or bank reference
// was already taken at the site, as far as this lane knows.
func (tx *Tx) checkTendersUnused(ctx context.Context, ts []terminal.Tender) error {
	for _, t := range ts {
		var err error
		switch t.Kind {
		case terminal.TenderMpesa:
			err = tx.checkMpesaUnused(ctx, t.Reference)
		case terminal.TenderBank:
			err = tx.checkBankUnused(ctx, t.Bank, t.Reference)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// useBankRefs records the bank references that tenders pay with (refunds,
// negative, use none), each with its bank.used event for the site feed.
func (tx *Tx) useBankRefs(ctx context.Context, actor string, ts []terminal.Tender, saleID, settlementID string) error {
	for _, t := range ts {
		if t.Kind != terminal.TenderBank || t.Amount <= 0 {
			continue
		}
		used := terminal.BankUsed{Bank: t.Bank, Reference: t.Reference, Currency: t.Currency, Amount: t.Net(), SaleID: saleID, SettlementID: settlementID}
		if err := tx.useBankRef(ctx, actor, used); err != nil {
			return err
		}
	}
	return nil
}

// useBankRef records one bank reference taken here and writes its event.
func (tx *Tx) useBankRef(ctx context.Context, actor string, u terminal.BankUsed) error {
	if _, err := tx.ExecContext(ctx, sqlInsertBank, u.Bank, u.Reference, nullable(u.SaleID), nullable(u.SettlementID), nullable(u.DepositID), string(u.Currency), u.Amount); err != nil {
		if sqlitefile.IsUnique(err) {
			return terminal.Errorf(terminal.ECONFLICT, "bank reference %s %s was already used", u.Bank, u.Reference)
		}
		return fmt.Errorf("record bank reference: %w", err)
	}
	if _, err := tx.appendEvent(ctx, actor, u); err != nil {
		return err
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// applyFeedBank records a bank reference another lane of the site took:
// it is refused here from now on. A payload that names no valid
// reference changes nothing.
func (tx *Tx) applyFeedBank(ctx context.Context, e *terminal.FeedEvent, name string) error {
	var p terminal.BankUsed
	if json.Unmarshal(e.Payload, &p) != nil {
		return nil
	}
	bank, err := terminal.NormalizeBankCode(p.Bank)
	if err != nil {
		return nil
	}
	ref, err := terminal.NormalizeBankReference(p.Reference)
	if err != nil {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO feed_bank_refs (bank, reference, terminal, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, bank, ref, name, ts(e.At)); err != nil {
		return fmt.Errorf("feed bank reference: %w", err)
	}
	return nil
}

// Deposit records a supervisor's banking of a closed shift's cash takings
// in the base currency (the cash counted less the float, which stays in the
// drawer), with the deposit slip's bank and reference (taken
// once per site, as a tender's): the deposit, its reference and its
// bank.used event commit together. A shift is banked once.
func (db *DB) Deposit(ctx context.Context, sup *terminal.Operator, shiftID, bankCode, reference string) (*terminal.Deposit, error) {
	if sup == nil || sup.Role != terminal.RoleSupervisor {
		return nil, terminal.Errorf(terminal.EUNAUTHORIZED, "only a supervisor can record a cash deposit")
	}
	code, err := terminal.NormalizeBankCode(bankCode)
	if err != nil {
		return nil, err
	}
	ref, err := terminal.NormalizeBankReference(reference)
	if err != nil {
		return nil, err
	}
	cat, err := db.Catalogue(ctx)
	if err != nil {
		return nil, err
	}
	if err := cat.CheckBank(code); err != nil {
		return nil, err
	}
	shiftID = strings.ToLower(strings.TrimSpace(shiftID))
	var out *terminal.Deposit
	err = db.record(ctx, "this deposit", func(tx *Tx) error {
		var closed, counted sql.NullString
		var float string
		switch err := tx.QueryRowContext(ctx, `SELECT closed_at, counted, float FROM shifts WHERE id = ?`, shiftID).Scan(&closed, &counted, &float); {
		case errors.Is(err, sql.ErrNoRows):
			return terminal.Errorf(terminal.ENOTFOUND, "no shift %q in this terminal", shiftID)
		case err != nil:
			return fmt.Errorf("read shift: %w", err)
		}
		if !closed.Valid {
			return terminal.Errorf(terminal.ECONFLICT, "shift %s is still open: close it (its cash counted) before banking it", shiftID)
		}
		var cash, fl terminal.Totals
		if counted.Valid {
			if err := json.Unmarshal([]byte(counted.String), &cash); err != nil {
				return fmt.Errorf("shift %s: counted cash: %w", shiftID, err)
			}
		}
		if err := json.Unmarshal([]byte(float), &fl); err != nil {
			return fmt.Errorf("shift %s: float: %w", shiftID, err)
		}
		amount := cash[cat.BaseCurrency] - fl[cat.BaseCurrency]
		if amount <= 0 {
			return terminal.Errorf(terminal.EINVALID, "shift %s counted no %s cash beyond its float: there is nothing to bank", shiftID, cat.BaseCurrency)
		}
		var prev string
		switch err := tx.QueryRowContext(ctx, `SELECT bank || ' ' || reference FROM deposits WHERE shift_id = ?`, shiftID).Scan(&prev); {
		case err == nil:
			return terminal.Errorf(terminal.ECONFLICT, "shift %s was already banked (%s)", shiftID, prev)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("read deposits: %w", err)
		}
		if err := tx.checkBankUnused(ctx, code, ref); err != nil {
			return err
		}
		d := &terminal.Deposit{ID: newID(), ShiftID: shiftID, Operator: sup.Name, Bank: code, Reference: ref, Currency: cat.BaseCurrency, Amount: amount, At: tx.now}
		if _, err := tx.ExecContext(ctx, `INSERT INTO deposits (id, shift_id, operator, bank, reference, currency, amount, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			d.ID, d.ShiftID, d.Operator, d.Bank, d.Reference, string(d.Currency), d.Amount, ts(d.At)); err != nil {
			return fmt.Errorf("record deposit: %w", err)
		}
		u := terminal.BankUsed{Bank: code, Reference: ref, Currency: d.Currency, Amount: amount, DepositID: d.ID, ShiftID: shiftID}
		if err := tx.useBankRef(ctx, sup.Name, u); err != nil {
			return err
		}
		out = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
