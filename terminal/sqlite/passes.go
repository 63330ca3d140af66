package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/lango-pos/lango/internal/sqlitefile"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// PassIssuer signs passes with this terminal's key: compact (without the
// certificate) once the hub promised every verifier of the site holds it.
type passIssuer struct {
	iss     *pass.Issuer
	compact bool
}

// PassIssuer returns the issuer that Sell uses to sign a sale's pass, or an
// error if the terminal holds no valid certificate. The issuer is kept for
// as long as its certificate is valid, until the certificates change.
func (db *DB) PassIssuer(ctx context.Context) (terminal.PassIssuer, error) {
	now := db.Now()
	db.mu.Lock()
	iss, ok := db.issuer, db.issuer != nil && !now.Before(db.issuerOK[0]) && now.Before(db.issuerOK[1])
	db.mu.Unlock()
	if ok {
		// The cached issuer skips Issuer's clock check; the sale's own
		// transaction makes it.
		return db.passIssuer(ctx, iss)
	}
	iss, err := db.Issuer(ctx, now)
	if err != nil {
		return nil, err
	}
	db.mu.Lock()
	db.issuer, db.issuerOK = iss, [2]time.Time{iss.Certificate().NotBefore, iss.Certificate().NotAfter}
	db.mu.Unlock()
	return db.passIssuer(ctx, iss)
}

func (db *DB) passIssuer(ctx context.Context, iss *pass.Issuer) (terminal.PassIssuer, error) {
	compact, err := db.compactFor(ctx, iss.Certificate().KeyID())
	if err != nil {
		return nil, err
	}
	return passIssuer{iss: iss, compact: compact}, nil
}

// SellSigned is Sell with this terminal's own pass issuer: a park sale
// gets its signed pass, a counter sale a receipt.
func (db *DB) SellSigned(ctx context.Context, op *terminal.Operator, req terminal.SaleRequest) (*terminal.SaleResult, error) {
	iss, err := db.PassIssuer(ctx)
	if err != nil {
		return nil, err
	}
	return db.Sell(ctx, op, req, iss)
}

// IssuePass signs the pass of a park sale; counter sales get none.
func (p passIssuer) IssuePass(ctx context.Context, s *terminal.Sale, cat *terminal.Catalogue) (string, error) {
	site, _ := cat.Site(s.Site)
	if site.Kind != "park" {
		return "", nil
	}
	id, err := uuid.Parse(s.ID)
	if err != nil {
		return "", fmt.Errorf("pass id: %w", err)
	}
	ps := pass.Pass{
		ID:               id,
		ValidUntil:       s.At.Add(time.Duration(cat.PassHours) * time.Hour),
		CatalogueVersion: s.CatalogueVersion,
		Plate:            pass.NormalizePlate(s.Vehicle),
		Paid:             s.State == terminal.SalePaid,
	}
	for _, pc := range s.PartyCounts() {
		ps.Party = append(ps.Party, pass.PartyLine(pc))
	}
	for _, l := range s.Lines {
		if l.Kind == "vehicle" && ps.SeatBand == "" {
			ps.SeatBand = l.Code
		}
	}
	for _, c := range s.Due.Currencies() {
		ps.Due = append(ps.Due, pass.Amount{Currency: string(c), Minor: s.Due[c]})
	}
	if p.compact {
		return p.iss.IssueCompact(ps)
	}
	return p.iss.Issue(ps)
}

// newSaleID returns a UUIDv7 whose timestamp is t, so that a pass's id (the
// sale's id) carries its issue time.
func newSaleID(t time.Time) (string, error) {
	id, err := pass.NewID(t, rand.Reader)
	if err != nil {
		return "", fmt.Errorf("sale id: %w", err)
	}
	return id.String(), nil
}

func (db *DB) marks(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, passID string) ([]terminal.PassMark, error) {
	rows, err := q.QueryContext(ctx, `SELECT mark, terminal, at, ref FROM pass_marks WHERE pass_id = ? ORDER BY at`, passID)
	if err != nil {
		return nil, fmt.Errorf("pass marks: %w", err)
	}
	defer rows.Close()
	var out []terminal.PassMark
	for rows.Next() {
		var m terminal.PassMark
		var at string
		if err := rows.Scan(&m.Mark, &m.Terminal, &at, &m.Ref); err != nil {
			return nil, err
		}
		m.At = parseTS(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// CheckPass verifies a scanned or typed pass: its signature, site and
// validity, then what this terminal knows of it (revoked, used, settled). It
// changes nothing. A refusal is returned in PassCheck.Refusal, not as error.
func (db *DB) CheckPass(ctx context.Context, text string) (*terminal.PassCheck, error) {
	v, err := db.Verifier(ctx)
	if err != nil {
		return nil, err
	}
	p, verr := v.Verify(text, db.Now())
	pc := &terminal.PassCheck{Pass: p, State: p.State()}
	if verr != nil {
		var re *pass.RefusedError
		if !errors.As(verr, &re) {
			return nil, verr
		}
		pc.Refusal = re
		if re.Reason != pass.Expired {
			return pc, nil
		}
	}
	if re, err := db.issuerRevoked(ctx, &p); err != nil {
		return nil, err
	} else if re != nil {
		pc.Refusal = re
		return pc, nil
	}
	pc.Marks, err = db.marks(ctx, db.db, p.ID.String())
	if err != nil {
		return nil, err
	}
	for _, m := range pc.Marks {
		switch m.Mark {
		case "revoked":
			pc.Refusal = pass.Refuse(pass.Revoked, "the sale was voided (%s)", m.Ref)
			return pc, nil
		case "settled":
			pc.State = "settled"
		}
	}
	if pc.Refusal == nil {
		for _, m := range pc.Marks {
			if m.Mark == "used" {
				pc.Refusal = pass.Refuse(pass.AlreadyUsed, "used at %s on %s", m.Terminal, db.SiteTime(m.At, "2006-01-02 15:04"))
			}
		}
	}
	return pc, nil
}

// UsePass admits a paid (or settled) pass once at this terminal: a second
// scan is refused as already used.
func (db *DB) UsePass(ctx context.Context, op *terminal.Operator, text string) (*terminal.PassCheck, error) {
	pc, err := db.CheckPass(ctx, text)
	if err != nil {
		return nil, err
	}
	if pc.Refusal != nil {
		return pc, nil
	}
	if pc.State == "deferred" {
		return pc, terminal.Errorf(terminal.ECONFLICT, "payment was deferred: settle this pass before it is used")
	}
	id := pc.Pass.ID.String()
	err = db.record(ctx, "this pass use", func(tx *Tx) error {
		if err := tx.mark(ctx, id, "used", ""); err != nil {
			return err
		}
		_, err := tx.appendEvent(ctx, op.Name, terminal.PassUsed{PassID: id, IssuerTerminal: pc.Pass.Terminal})
		return err
	})
	if err != nil {
		return nil, err
	}
	pc.Marks = append(pc.Marks, terminal.PassMark{Mark: "used", Terminal: db.terminalName(ctx), At: db.Now()})
	return pc, nil
}

func (db *DB) terminalName(ctx context.Context) string {
	id, _ := db.Identity(ctx)
	return id.Name
}

func (tx *Tx) mark(ctx context.Context, passID, mark, ref string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO pass_marks (pass_id, mark, terminal, at, ref) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, passID, mark, tx.id.Name, ts(tx.now), ref)
	if err != nil {
		return fmt.Errorf("mark pass %s: %w", mark, err)
	}
	return nil
}

// QuoteSettlement verifies a pass and says what it owes now: the amount due
// written in the pass, plus overstay fees when the site's rule applies.
func (db *DB) QuoteSettlement(ctx context.Context, text string) (*terminal.SettleQuote, error) {
	pc, err := db.CheckPass(ctx, text)
	if err != nil {
		return nil, err
	}
	cat, err := db.Catalogue(ctx)
	if err != nil {
		return nil, err
	}
	return terminal.QuoteSettlement(cat, pc, db.Now())
}

// Settle settles a deferred pass at exit: verify, quote, take tenders, and
// record the settlement, its tenders, the pass marks and its event in one
// transaction. It works on a terminal whose store never saw the sale; the
// same pass settled twice here is refused.
func (db *DB) Settle(ctx context.Context, op *terminal.Operator, text string, tenders []terminal.TenderRequest) (*terminal.SettleResult, error) {
	for _, t := range tenders {
		if t.Kind == terminal.TenderDefer {
			return nil, terminal.Errorf(terminal.EINVALID, "a settlement cannot be deferred again")
		}
	}
	if err := terminal.CheckApproved(tenders); err != nil {
		return nil, err
	}
	q, err := db.QuoteSettlement(ctx, text)
	if err != nil {
		return nil, err
	}
	cat, err := db.Catalogue(ctx)
	if err != nil {
		return nil, err
	}
	tendering, err := terminal.ApplyTenders(cat, q.Totals, tenders)
	if err != nil {
		return nil, err
	}
	passID := q.Check.Pass.ID.String()
	res := &terminal.SettleResult{Quote: q}
	err = db.record(ctx, "this settlement", func(tx *Tx) error {
		sh, err := tx.openShift(ctx, op.ID)
		if err != nil {
			return err
		}
		if sh == nil {
			return terminal.Errorf(terminal.ECONFLICT, "%s has no open shift: open a shift before settling", op.Name).WithID("no_shift", map[string]any{"Name": op.Name})
		}
		// Re-check inside the transaction: another process may have settled
		// or voided it since the quote.
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pass_marks WHERE pass_id = ? AND mark IN ('settled', 'revoked')`, passID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return pass.Refuse(pass.AlreadyUsed, "this pass was settled or voided a moment ago")
		}
		if err := tx.checkTendersUnused(ctx, tendering.Tenders); err != nil {
			return err
		}
		if err := tx.stampPaybill(ctx, tendering.Tenders); err != nil {
			return err
		}
		st := &terminal.Settlement{
			ID: newID(), PassID: passID, IssuerTerminal: q.Check.Pass.Terminal, Terminal: tx.terminal, Site: tx.id.Site,
			ShiftID: sh.ID, Operator: op.Name, At: tx.now, Due: q.Due, Overstay: q.Overstay, Totals: q.Totals,
			Tenders: tendering.Tenders, Conversions: tendering.Conversions, Plate: q.Check.Pass.Plate,
		}
		var local sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT id FROM sales WHERE id = ?`, passID).Scan(&local); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var saleID any
		if local.Valid {
			st.SaleID, saleID = local.String, local.String
			if _, err := tx.ExecContext(ctx, `UPDATE sales SET state = 'settled' WHERE id = ? AND state = 'deferred'`, local.String); err != nil {
				return err
			}
		}
		doc, err := json.Marshal(st)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO settlements (id, pass_id, issuer_terminal, sale_id, shift_id, operator_id, at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			st.ID, passID, st.IssuerTerminal, saleID, sh.ID, op.ID, ts(tx.now), string(doc)); err != nil {
			if sqlitefile.IsUnique(err) {
				return pass.Refuse(pass.AlreadyUsed, "this pass was already settled here")
			}
			return fmt.Errorf("insert settlement: %w", err)
		}
		if err := tx.useMpesaCodes(ctx, op.Name, st.Tenders, "", st.ID); err != nil {
			return err
		}
		if err := tx.useBankRefs(ctx, op.Name, st.Tenders, "", st.ID); err != nil {
			return err
		}
		if err := tx.mark(ctx, passID, "settled", st.ID); err != nil {
			return err
		}
		if err := tx.mark(ctx, passID, "used", st.ID); err != nil {
			return err
		}
		if res.PrintJob, err = tx.queuePrintRef(ctx, "settlement", st.ID); err != nil {
			return err
		}
		payload := terminal.PassSettled{SettlementID: st.ID, PassID: passID, IssuerTerminal: st.IssuerTerminal, Settlement: doc, SaleID: st.SaleID}
		if _, err := tx.appendEvent(ctx, op.Name, payload); err != nil {
			return err
		}
		res.Settlement = st
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// queuePrintRef queues a print job for something that is not a sale.
func (tx *Tx) queuePrintRef(ctx context.Context, kind, ref string) (string, error) {
	id, err := tx.queuePrint(ctx, "", kind, false)
	if err != nil || id == "" {
		return id, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE print_jobs SET ref = ? WHERE id = ?`, ref, id)
	return id, err
}

// Settlement returns a settlement by id.
func (db *DB) Settlement(ctx context.Context, id string) (*terminal.Settlement, error) {
	var doc string
	err := db.db.QueryRowContext(ctx, `SELECT doc FROM settlements WHERE id = ?`, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, terminal.Errorf(terminal.ENOTFOUND, "no settlement %q", id)
	}
	if err != nil {
		return nil, err
	}
	var st terminal.Settlement
	if err := json.Unmarshal([]byte(doc), &st); err != nil {
		return nil, err
	}
	return &st, nil
}
