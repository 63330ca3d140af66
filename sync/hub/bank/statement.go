// Package bank reads the bank statements a hub imports (ISO 20022
// camt.053 XML, or the CSV a Kenyan bank exports) into a ledger of credits,
// and reconciles the bank tenders and cash deposits the terminals recorded
// against it (docs/BANK.md).
package bank

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// MaxStatement is the largest statement file read: a month of a busy
// gate's credits is well under a megabyte.
const MaxStatement = 16 << 20

// MaxEntries is the most entries one statement may hold.
const MaxEntries = 200000

// Statement is a bank statement as read: its account's credits.
type Statement struct {
	Bank     string            // the bank's code (KCB)
	Account  string            // the account's number or IBAN
	ID       string            // the statement's own id, or the file's SHA-256
	Currency terminal.Currency // the account's currency
	From, To time.Time         // the days it covers (dates, UTC)
	Format   string            // camt.053 or csv
	Credits  []Entry
	Debits   int // entries that are not credits (not kept)
}

// Entry is one credit of a statement.
type Entry struct {
	Key       string // unique in the account: the bank's entry reference
	Reference string // what the payer quoted: the slip's or transfer's reference
	Amount    int64  // minor units
	Booked    time.Time
}

// bad is a statement refused: EINVALID with a message for the operator.
func bad(format string, args ...any) error {
	return terminal.Errorf(terminal.EINVALID, "bank statement refused: "+format, args...)
}

// ReadFile reads a statement's bytes, refusing one larger than
// MaxStatement before reading it whole.
func ReadFile(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxStatement+1))
	if err != nil {
		return nil, fmt.Errorf("read statement: %w", err)
	}
	if len(b) > MaxStatement {
		return nil, bad("the file is larger than %d MB; a statement is split by month", MaxStatement>>20)
	}
	return b, nil
}

// Parse reads a statement in whichever format it is: camt.053 when it
// starts with '<', else CSV (read with cfg).
func Parse(b []byte, cfg CSVConfig) (*Statement, error) {
	t := bytes.TrimLeft(b, "\ufeff \t\r\n")
	if len(t) == 0 {
		return nil, bad("the file is empty")
	}
	if t[0] == '<' {
		return ParseCamt053(b, cfg.Bank)
	}
	return ParseCSV(b, cfg)
}

// bicBanks maps the first four letters of a Kenyan bank's BIC to its code.
var bicBanks = map[string]string{
	"KCBL": "KCB", "EQBL": "EQTY", "KCOO": "COOP", "CBAF": "NCBA", "BARC": "ABSA", "SCBL": "STAN",
	"DTKE": "DTB", "SBIC": "STANBIC", "IMBL": "IM", "FABL": "FAMILY",
}

type camtDoc struct {
	XMLName xml.Name `xml:"Document"`
	Stmts   []struct {
		ID   string `xml:"Id"`
		FrTo struct {
			From string `xml:"FrDtTm"`
			To   string `xml:"ToDtTm"`
		} `xml:"FrToDt"`
		Acct struct {
			IBAN  string `xml:"Id>IBAN"`
			Other string `xml:"Id>Othr>Id"`
			Ccy   string `xml:"Ccy"`
			BICFI string `xml:"Svcr>FinInstnId>BICFI"`
			BIC   string `xml:"Svcr>FinInstnId>BIC"`
		} `xml:"Acct"`
		Ntries []camtEntry `xml:"Ntry"`
	} `xml:"BkToCstmrStmt>Stmt"`
}

type camtAmt struct {
	Value string `xml:",chardata"`
	Ccy   string `xml:"Ccy,attr"`
}

type camtEntry struct {
	Ref    string  `xml:"NtryRef"`
	Amt    camtAmt `xml:"Amt"`
	CdtDbt string  `xml:"CdtDbtInd"`
	Sts    struct {
		Text string `xml:",chardata"` // camt.053.001.02: <Sts>BOOK</Sts>
		Cd   string `xml:"Cd"`        // later versions: <Sts><Cd>BOOK</Cd></Sts>
	} `xml:"Sts"`
	BookDt      string `xml:"BookgDt>Dt"`
	BookDtTm    string `xml:"BookgDt>DtTm"`
	AcctSvcrRef string `xml:"AcctSvcrRef"`
	Txs         []struct {
		EndToEnd    string  `xml:"Refs>EndToEndId"`
		AcctSvcrRef string  `xml:"Refs>AcctSvcrRef"`
		Amt         camtAmt `xml:"Amt"`
		Ustrd       string  `xml:"RmtInf>Ustrd"`
	} `xml:"NtryDtls>TxDtls"`
}

// ParseCamt053 reads an ISO 20022 BankToCustomerStatement (camt.053) of
// one statement: its booked credits. bank, if set, names the bank;
// otherwise the account servicer's BIC does.
func ParseCamt053(b []byte, bank string) (*Statement, error) {
	var doc camtDoc
	dec := xml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		return nil, bad("not camt.053 XML: %v", err)
	}
	if len(doc.Stmts) != 1 {
		return nil, bad("a camt.053 file of %d statements; import one statement (BkToCstmrStmt/Stmt) per file", len(doc.Stmts))
	}
	s := doc.Stmts[0]
	st := &Statement{Format: "camt.053", ID: strings.TrimSpace(s.ID), Account: strings.TrimSpace(cmpOr(s.Acct.IBAN, s.Acct.Other))}
	if st.ID == "" {
		return nil, bad("the statement has no Id")
	}
	if st.Account == "" {
		return nil, bad("the statement names no account (Acct/Id)")
	}
	bic := strings.ToUpper(strings.TrimSpace(cmpOr(s.Acct.BICFI, s.Acct.BIC)))
	switch {
	case bank != "":
		st.Bank = bank
	case len(bic) >= 4 && bicBanks[bic[:4]] != "":
		st.Bank = bicBanks[bic[:4]]
	default:
		return nil, bad("cannot tell the bank from the account servicer's BIC %q: name it with --bank", bic)
	}
	cur := terminal.Currency(strings.TrimSpace(s.Acct.Ccy))
	var err error
	if st.From, err = camtDate(s.FrTo.From); err != nil {
		return nil, bad("statement period FrDtTm: %v", err)
	}
	if st.To, err = camtDate(s.FrTo.To); err != nil {
		return nil, bad("statement period ToDtTm: %v", err)
	}
	if st.To.Before(st.From) {
		return nil, bad("the statement period ends (%s) before it starts (%s)", day(st.To), day(st.From))
	}
	if len(s.Ntries) > MaxEntries {
		return nil, bad("%d entries; at most %d in one statement", len(s.Ntries), MaxEntries)
	}
	for i, n := range s.Ntries {
		what := fmt.Sprintf("entry %d", i+1)
		if n.Ref != "" {
			what += " (" + n.Ref + ")"
		}
		if cur == "" {
			cur = terminal.Currency(n.Amt.Ccy)
		}
		if !cur.Valid() {
			return nil, bad("%s: unknown currency %q", what, cur)
		}
		if sts := cmpOr(n.Sts.Cd, n.Sts.Text); !strings.EqualFold(strings.TrimSpace(sts), "BOOK") {
			continue // pending or information only: not money on the account yet
		}
		switch strings.ToUpper(strings.TrimSpace(n.CdtDbt)) {
		case "DBIT":
			st.Debits++
			continue
		case "CRDT":
		default:
			return nil, bad("%s: CdtDbtInd %q is neither CRDT nor DBIT", what, n.CdtDbt)
		}
		booked, err := camtDate(cmpOr(n.BookDt, n.BookDtTm))
		if err != nil {
			return nil, bad("%s: booking date: %v", what, err)
		}
		key := strings.TrimSpace(cmpOr(n.AcctSvcrRef, n.Ref))
		if key == "" {
			return nil, bad("%s has neither AcctSvcrRef nor NtryRef: it cannot be told from the others", what)
		}
		type part struct {
			key, ref string
			amt      camtAmt
		}
		var parts []part
		if len(n.Txs) <= 1 {
			ref := ""
			if len(n.Txs) == 1 {
				ref = cmpOr(n.Txs[0].EndToEnd, n.Txs[0].Ustrd)
			}
			parts = append(parts, part{key, ref, n.Amt})
		} else {
			for j, tx := range n.Txs {
				parts = append(parts, part{fmt.Sprintf("%s/%d", key, j+1), cmpOr(tx.EndToEnd, tx.Ustrd), cmpOr2(tx.Amt, n.Amt)})
			}
		}
		for _, p := range parts {
			if p.amt.Ccy != string(cur) {
				return nil, bad("%s: amount in %q; the account is in %s", what, p.amt.Ccy, cur)
			}
			amt, err := terminal.ParseMajor(cur, strings.TrimSpace(p.amt.Value))
			if err != nil || amt <= 0 {
				return nil, bad("%s: amount %q is not a positive amount of %s", what, p.amt.Value, cur)
			}
			st.Credits = append(st.Credits, Entry{Key: p.key, Reference: normRef(p.ref), Amount: amt, Booked: booked})
		}
	}
	if cur == "" {
		return nil, bad("the statement names no currency (Acct/Ccy)")
	}
	st.Currency = cur
	if err := st.check(); err != nil {
		return nil, err
	}
	return st, nil
}

func cmpOr(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return a
	}
	return b
}

func cmpOr2(a, b camtAmt) camtAmt {
	if strings.TrimSpace(a.Value) != "" {
		return a
	}
	return b
}

// camtDate reads an ISO date or date-time as its day.
func camtDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) < 10 {
		return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	d, err := time.Parse("2006-01-02", s[:10])
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	return d, nil
}

func day(t time.Time) string { return t.Format("2006-01-02") }

// normRef reads a payer's reference as a terminal keys it: upper case,
// spaces dropped; one that is no valid bank reference is kept as the bank
// wrote it (it is shown, and no tender claims it).
func normRef(s string) string {
	if r, err := terminal.NormalizeBankReference(s); err == nil {
		return r
	}
	return strings.TrimSpace(s)
}

// check refuses a statement with two credits of the same entry key.
func (st *Statement) check() error {
	seen := map[string]bool{}
	for _, e := range st.Credits {
		if seen[e.Key] {
			return bad("entry %s appears twice in the statement", e.Key)
		}
		seen[e.Key] = true
		if e.Booked.Before(st.From) || e.Booked.After(st.To) {
			return bad("entry %s is booked on %s, outside the statement's period %s to %s", e.Key, day(e.Booked), day(st.From), day(st.To))
		}
	}
	return nil
}

// CSVConfig says how to read a bank's CSV export (docs/BANK.md): the
// bank, account and currency the file does not carry, and the names of
// its columns.
type CSVConfig struct {
	Bank       string
	Account    string
	Currency   terminal.Currency
	Date       string // column of the booking date
	Reference  string // column of the payer's reference
	Credit     string // column of credits (money in)
	Debit      string // column of debits, if the export has one
	ID         string // column of the bank's entry reference, if any
	DateFormat string // Go layout; empty: the usual ones are tried
	Comma      rune
}

// DefaultCSV are the column names most Kenyan banks' internet banking
// exports use.
func DefaultCSV() CSVConfig {
	return CSVConfig{Currency: "KES", Date: "Transaction Date", Reference: "Reference", Credit: "Credit", Debit: "Debit", ID: "", Comma: ','}
}

var dateLayouts = []string{"2006-01-02", "02/01/2006", "02-01-2006", "02-Jan-2006", "02 Jan 2006", "2-Jan-06", "02.01.2006"}

// ParseCSV reads a CSV export with a header row, by the columns cfg
// names. The statement's id is the file's SHA-256 (a CSV carries none);
// an entry with no id column is keyed by its date, reference, amount and
// how many such rows came before it.
func ParseCSV(b []byte, cfg CSVConfig) (*Statement, error) {
	if cfg.Bank == "" {
		return nil, bad("a CSV statement needs --bank: the file does not say which bank it is from")
	}
	if cfg.Account == "" {
		return nil, bad("a CSV statement needs --account: the file does not say which account it is of")
	}
	if !cfg.Currency.Valid() {
		return nil, bad("unknown currency %q (--currency)", cfg.Currency)
	}
	sum := sha256.Sum256(b)
	st := &Statement{Bank: cfg.Bank, Account: cfg.Account, Currency: cfg.Currency, Format: "csv", ID: "sha256:" + hex.EncodeToString(sum[:])}
	r := csv.NewReader(bufio.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff")))))
	r.Comma = cfg.Comma
	if r.Comma == 0 {
		r.Comma = ','
	}
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, bad("no header row: %v", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	find := func(name, flag string, need bool) (int, error) {
		if name == "" && !need {
			return -1, nil
		}
		i, ok := col[strings.ToLower(name)]
		if !ok {
			if !need {
				return -1, nil
			}
			return 0, bad("no %q column (%s) in the header %q", name, flag, strings.Join(head, ","))
		}
		return i, nil
	}
	di, err := find(cfg.Date, "--csv-date", true)
	if err != nil {
		return nil, err
	}
	ri, err := find(cfg.Reference, "--csv-reference", true)
	if err != nil {
		return nil, err
	}
	ci, err := find(cfg.Credit, "--csv-credit", true)
	if err != nil {
		return nil, err
	}
	dbi, _ := find(cfg.Debit, "--csv-debit", false)
	ii, err := find(cfg.ID, "--csv-id", cfg.ID != "")
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, bad("line %d: %v", line, err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		get := func(i int) string {
			if i < 0 || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		if len(st.Credits)+st.Debits >= MaxEntries {
			return nil, bad("more than %d entries in one statement", MaxEntries)
		}
		credit := strings.ReplaceAll(get(ci), ",", "")
		if credit == "" || credit == "0" || credit == "0.00" || credit == "-" {
			if dbi >= 0 && get(dbi) != "" {
				st.Debits++
				continue
			}
			return nil, bad("line %d: neither a credit nor a debit", line)
		}
		if i := strings.IndexFunc(credit, func(r rune) bool { return r >= 'A' && r <= 'Z' }); i == 0 {
			// "KES 1500.00": a currency before the amount.
			c, rest, _ := strings.Cut(credit, " ")
			if terminal.Currency(c) != cfg.Currency {
				return nil, bad("line %d: a credit in %s; the account is in %s", line, c, cfg.Currency)
			}
			credit = strings.TrimSpace(rest)
		}
		amt, err := terminal.ParseMajor(cfg.Currency, credit)
		if err != nil || amt <= 0 {
			return nil, bad("line %d: credit %q is not a positive amount of %s", line, get(ci), cfg.Currency)
		}
		booked, err := csvDate(get(di), cfg.DateFormat)
		if err != nil {
			return nil, bad("line %d: %v", line, err)
		}
		ref := normRef(get(ri))
		key := get(ii)
		if key == "" {
			k := day(booked) + "|" + ref + "|" + credit
			seen[k]++
			key = fmt.Sprintf("%s#%d", k, seen[k])
		}
		st.Credits = append(st.Credits, Entry{Key: key, Reference: ref, Amount: amt, Booked: booked})
		if st.From.IsZero() || booked.Before(st.From) {
			st.From = booked
		}
		if booked.After(st.To) {
			st.To = booked
		}
	}
	if len(st.Credits)+st.Debits == 0 {
		return nil, bad("the statement has no entries")
	}
	if err := st.check(); err != nil {
		return nil, err
	}
	return st, nil
}

func csvDate(s, layout string) (time.Time, error) {
	if layout != "" {
		if t, err := time.Parse(layout, s); err == nil {
			return truncDay(t), nil
		}
		return time.Time{}, fmt.Errorf("date %q is not in the layout %q", s, layout)
	}
	if len(s) > 10 && (s[10] == ' ' || s[10] == 'T') {
		s = s[:10] // a time of day after the date
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return truncDay(t), nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q is not a date (e.g. 2025-01-03 or 03/01/2025)", s)
}

func truncDay(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
