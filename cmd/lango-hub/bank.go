package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lango-pos/lango/sync/hub/bank"
	"github.com/lango-pos/lango/terminal"
)

// bankZone is the time zone of a statement's days: the banks of the
// catalogue's sites book in East Africa Time.
var bankZone = time.FixedZone("EAT", 3*60*60)

// bankFlags are lango-hub bank import's flags: how to read a CSV export
// (a camt.053 file says it all itself; --bank overrides its BIC).
type bankFlags struct {
	ledger   *bank.Ledger
	code     string
	account  string
	currency string
	csv      bank.CSVConfig
	comma    string
}

func (b *bankFlags) define(fs *flag.FlagSet) {
	d := bank.DefaultCSV()
	fs.StringVar(&b.code, "bank", "", "the bank's code (KCB, EQTY…): required for a CSV, else from the camt.053 servicer's BIC")
	fs.StringVar(&b.account, "account", "", "CSV: the account number the statement is of")
	fs.StringVar(&b.currency, "currency", string(d.Currency), "CSV: the account's currency")
	fs.StringVar(&b.csv.Date, "csv-date", d.Date, "CSV: the column of the booking date")
	fs.StringVar(&b.csv.Reference, "csv-reference", d.Reference, "CSV: the column of the payer's reference")
	fs.StringVar(&b.csv.Credit, "csv-credit", d.Credit, "CSV: the column of credits (money in)")
	fs.StringVar(&b.csv.Debit, "csv-debit", d.Debit, "CSV: the column of debits (money out), if any")
	fs.StringVar(&b.csv.ID, "csv-id", d.ID, "CSV: the column of the bank's own entry reference, if any")
	fs.StringVar(&b.csv.DateFormat, "csv-date-format", "", "CSV: the date's Go layout, e.g. 02/01/2006 (default: the usual ones)")
	fs.StringVar(&b.comma, "csv-comma", ",", "CSV: the field separator")
}

func (m *Main) bankPath() string { return filepath.Join(m.data, "bank.db") }

// bankImport reads a statement file and records its credits in the bank
// ledger; importing it again changes nothing.
func (m *Main) bankImport(ctx context.Context) error {
	b := &m.bank
	cfg := b.csv
	if b.code != "" {
		code, err := terminal.NormalizeBankCode(b.code)
		if err != nil {
			return err
		}
		cfg.Bank = code
	}
	cfg.Account = strings.TrimSpace(b.account)
	cfg.Currency = terminal.Currency(strings.ToUpper(strings.TrimSpace(b.currency)))
	r, n := utf8.DecodeRuneInString(b.comma)
	if n != len(b.comma) || r == '"' || r == '\n' {
		return usagef("--csv-comma is one character, not a quote or a newline")
	}
	cfg.Comma = r
	f, err := os.Open(m.file)
	if err != nil {
		return terminal.Errorf(terminal.EINVALID, "cannot read %s: %v", m.file, err)
	}
	defer f.Close()
	body, err := bank.ReadFile(f)
	if err != nil {
		return err
	}
	st, err := bank.Parse(body, cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(m.data, 0o700); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	if b.ledger, err = bank.OpenLedger(ctx, m.bankPath()); err != nil {
		return err
	}
	imp, err := b.ledger.Import(ctx, st, m.Now())
	if err != nil {
		return err
	}
	if m.json {
		return m.printJSON(imp)
	}
	what := "imported"
	if imp.Known {
		what = "already imported"
	}
	fmt.Fprintf(m.Stdout, "%s statement %s of %s %s (%s, %s to %s): %d credits, %d new, %d debits not kept\n",
		what, imp.Statement, imp.Bank, imp.Account, imp.Format, imp.From, imp.To, imp.Credits, imp.New, imp.Debits)
	return nil
}

// printBank writes the report's bank section for a person: the counts,
// then every line that is not matched and every unclaimed credit.
func printBank(w io.Writer, b *bank.Report) {
	if b == nil {
		return
	}
	c := b.Counts
	fmt.Fprintf(w, "\nbank: %d matched, %d amount mismatches, %d unknown at the bank, %d pending, %d credits unclaimed\n",
		c[bank.Matched], c[bank.AmountMismatch], c[bank.UnknownAtBank], c[bank.Pending], c["unclaimed"])
	for _, ln := range b.Lines {
		if ln.Status == bank.Matched {
			continue
		}
		paid := ""
		if ln.Credit != nil {
			paid = ", the bank has " + terminal.Money{Currency: ln.Credit.Currency, Minor: ln.Credit.Amount}.String()
		}
		fmt.Fprintf(w, "  %s %s %s %s %s (%s %s)%s\n", ln.Status, ln.Kind, ln.Bank, ln.Reference,
			terminal.Money{Currency: ln.Currency, Minor: ln.Amount}, ln.Site, ln.Terminal, paid)
	}
	for _, u := range b.Unclaimed {
		fmt.Fprintf(w, "  unclaimed %s %s %s %s booked %s\n", u.Bank, u.Reference, terminal.Money{Currency: u.Currency, Minor: u.Amount}, u.Account, u.Booked)
	}
}
