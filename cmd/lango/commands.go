package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/lango-pos/lango/printer"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
	"github.com/lango-pos/lango/terminal/printing"
	"github.com/lango-pos/lango/terminal/sqlite"
)

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func readSecret(r io.Reader) (string, error) {
	if f, ok := r.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		return strings.TrimSpace(string(b)), err
	}
	var s string
	_, err := fmt.Fscanln(r, &s)
	return strings.TrimSpace(s), err
}

func (m *Main) printJSON(v any) error {
	enc := json.NewEncoder(m.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (m *Main) cmdInit(ctx context.Context, args []string) error {
	fs := m.newFlags("init")
	site := fs.String("site", "", "site code from the catalogue")
	name := fs.String("terminal", "", "this terminal's name, e.g. gate-1")
	catFile := fs.String("catalogue", "", "catalogue file")
	printerSpec := fs.String("printer", "", "printer SPEC: emulator:DIR, serial:PATH[?baud=N&profile=NAME] or none")
	if pos, err := fs.parse(args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("init takes no arguments, got %q", pos[0])
	}
	if *site == "" || *name == "" || *catFile == "" {
		return usagef("init needs --site, --terminal and --catalogue")
	}
	body, err := os.ReadFile(*catFile)
	if err != nil {
		return terminal.Errorf(terminal.EINVALID, "cannot read catalogue %s: %v", *catFile, err)
	}
	pin, err := m.pin("LANGO_PIN", "admin")
	if err != nil {
		return err
	}
	settings := map[string]string{}
	if *printerSpec != "" {
		if err := checkDevice("printer", *printerSpec); err != nil {
			return err
		}
		settings["printer"] = *printerSpec
	}
	dir, err := m.dataFolder()
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "lango.db")
	if _, err := os.Stat(path); err == nil {
		return terminal.Errorf(terminal.ECONFLICT, "%s already holds a terminal; use another --data folder", dir)
	}
	// Check everything before creating anything on disk.
	if _, err := terminal.ParseCatalogue(body); err != nil {
		return err
	}
	if err := terminal.ValidatePIN(pin); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return terminal.Errorf(terminal.EINVALID, "cannot create %s: %v", dir, err)
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	db.CheckDevice = checkDevice
	m.db = db
	id, err := db.Init(ctx, sqlite.InitRequest{Site: *site, Name: *name, Catalogue: body, AdminPIN: pin, Settings: settings})
	if err != nil {
		db.Close()
		m.db = nil
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(path + suffix)
		}
		return err
	}
	fmt.Fprintf(m.Stdout, "terminal %s of site %s created in %s; supervisor: admin\n", id.Name, id.Site, dir)
	return nil
}

func (m *Main) cmdConfig(ctx context.Context, args []string) error {
	fs := m.newFlags("config").withJSON()
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("config set KEY VALUE | config show --json")
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	switch pos[0] {
	case "set":
		if len(pos) != 3 {
			return usagef("config set KEY VALUE")
		}
		v, err := db.SetSetting(ctx, "", pos[1], pos[2])
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "%s = %s\n", pos[1], v)
		return nil
	case "show":
		s, err := db.Settings(ctx)
		if err != nil {
			return err
		}
		if fs.json {
			return m.printJSON(s)
		}
		keys := make([]string, 0, len(s))
		for k := range s {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(m.Stdout, "%s = %s\n", k, s[k])
		}
		return nil
	}
	return usagef("config %s: use set or show", pos[0])
}

func (m *Main) cmdOperator(ctx context.Context, args []string) error {
	fs := m.newFlags("operator").withAs().withJSON()
	name := fs.String("name", "", "the operator's name")
	role := fs.String("role", "attendant", "add: attendant or supervisor")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (pos[0] != "add" && pos[0] != "pin" && pos[0] != "disable") {
		return usagef("operator add --as SUPERVISOR --name NAME --role attendant|supervisor | operator pin|disable --as SUPERVISOR --name NAME")
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	sup, err := m.operator(ctx, db, fs.as)
	if err != nil {
		return err
	}
	if pos[0] == "disable" {
		op, err := db.DisableOperator(ctx, sup, *name)
		if err != nil {
			return err
		}
		if fs.json {
			return m.printJSON(op)
		}
		fmt.Fprintf(m.Stdout, "operator %s disabled\n", op.Name)
		return nil
	}
	whose := "the new operator"
	if pos[0] == "pin" {
		whose = *name + " (new)"
	}
	newPIN, err := m.pin("LANGO_NEW_PIN", whose)
	if err != nil {
		return err
	}
	var op *terminal.Operator
	if pos[0] == "pin" {
		op, err = db.SetOperatorPIN(ctx, sup, *name, newPIN)
	} else {
		op, err = db.AddOperator(ctx, sup, *name, *role, newPIN)
	}
	if err != nil {
		return err
	}
	if fs.json {
		return m.printJSON(op)
	}
	if pos[0] == "pin" {
		fmt.Fprintf(m.Stdout, "operator %s has a new PIN\n", op.Name)
	} else {
		fmt.Fprintf(m.Stdout, "operator %s added as %s\n", op.Name, op.Role)
	}
	return nil
}

func (m *Main) cmdCatalogue(ctx context.Context, args []string) error {
	fs := m.newFlags("catalogue").withJSON()
	file := fs.String("file", "", "show a catalogue file instead of the terminal's")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "show" {
		return usagef("catalogue show [--file FILE] --json")
	}
	var cat *terminal.Catalogue
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			return terminal.Errorf(terminal.EINVALID, "cannot read catalogue %s: %v", *file, err)
		}
		if cat, err = terminal.ParseCatalogue(b); err != nil {
			return err
		}
	} else {
		db, err := m.open(ctx)
		if err != nil {
			return err
		}
		if cat, err = db.Catalogue(ctx); err != nil {
			return err
		}
	}
	type site struct {
		Code string `json:"code"`
		Name string `json:"name"`
		Kind string `json:"kind"`
	}
	out := struct {
		Version string          `json:"version"`
		Name    string          `json:"name"`
		Sites   []site          `json:"sites"`
		Items   []terminal.Item `json:"items"`
	}{Version: cat.Version, Name: cat.Name, Items: cat.Items()}
	for _, s := range cat.Sites {
		out.Sites = append(out.Sites, site{s.Code, s.Name, s.Kind})
	}
	if fs.json {
		return m.printJSON(out)
	}
	fmt.Fprintf(m.Stdout, "%s (%s)\n", cat.Name, cat.Version)
	for _, it := range out.Items {
		fmt.Fprintf(m.Stdout, "  %-14s %s\n", it.Code, it.Name)
	}
	return nil
}

func parseAmounts(specs []string, what string) (terminal.Totals, error) {
	t := terminal.Totals{}
	for _, s := range specs {
		mny, err := terminal.ParseMoneyArg(s)
		if err != nil {
			return nil, &terminal.Error{Kind: terminal.EINVALID, Message: what + ": " + terminal.ErrorMessage(err)}
		}
		if _, dup := t[mny.Currency]; dup {
			return nil, terminal.Errorf(terminal.EINVALID, "%s: %s given twice", what, mny.Currency)
		}
		t[mny.Currency] = mny.Minor
	}
	return t, nil
}

func (m *Main) cmdShift(ctx context.Context, args []string) error {
	fs := m.newFlags("shift").withAs().withJSON()
	var floats, counted list
	fs.Var(&floats, "float", "opening cash CUR=AMOUNT (repeatable)")
	fs.Var(&counted, "counted", "counted cash CUR=AMOUNT (repeatable)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (pos[0] != "open" && pos[0] != "close") {
		return usagef("shift open --as NAME --float CUR=AMOUNT | shift close --as NAME --counted CUR=AMOUNT --json")
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	if pos[0] == "open" {
		fl, err := parseAmounts(floats, "--float")
		if err != nil {
			return err
		}
		op, err := m.operator(ctx, db, fs.as)
		if err != nil {
			return err
		}
		sh, err := db.OpenShift(ctx, op, fl)
		if err != nil {
			return err
		}
		if fs.json {
			return m.printJSON(sh)
		}
		fmt.Fprintf(m.Stdout, "shift of %s open with float %s\n", op.Name, sh.Float)
		return nil
	}
	if len(counted) == 0 {
		return usagef("shift close needs --counted CUR=AMOUNT for the cash in the drawer")
	}
	c, err := parseAmounts(counted, "--counted")
	if err != nil {
		return err
	}
	op, err := m.operator(ctx, db, fs.as)
	if err != nil {
		return err
	}
	z, err := db.CloseShift(ctx, op, c)
	if err != nil {
		return err
	}
	job, _ := db.QueuePrint(ctx, "zreport", z.ShiftID)
	if job != "" {
		m.printNow(ctx, db, job)
	}
	if fs.json {
		return m.printJSON(z)
	}
	fmt.Fprintf(m.Stdout, "shift closed: expected %s, counted %s, variance %s\n", z.Expected, z.Counted, z.Variance)
	return nil
}

// tenderJSON is a tender as the contract prints it: money as {CUR: minor}.
type tenderJSON struct {
	Kind      terminal.TenderKind `json:"kind"`
	Amount    terminal.Totals     `json:"amount"`
	Change    terminal.Totals     `json:"change,omitempty"`
	Reference string              `json:"reference,omitempty"`
	CardLast4 string              `json:"card_last4,omitempty"`
}

func tendersJSON(ts []terminal.Tender) []tenderJSON {
	out := []tenderJSON{}
	for _, t := range ts {
		j := tenderJSON{Kind: t.Kind, Amount: terminal.Totals{t.Currency: t.Amount}, Reference: t.Reference, CardLast4: t.CardLast4}
		if t.Change != 0 {
			j.Change = terminal.Totals{t.Currency: t.Change}
		}
		out = append(out, j)
	}
	return out
}

// lineJSON is a priced line as the contract prints money: {CUR: minor}.
type lineJSON struct {
	Code      string          `json:"code"`
	Name      string          `json:"name"`
	Kind      string          `json:"kind"`
	Qty       int             `json:"qty"`
	Unit      terminal.Totals `json:"unit"`
	Total     terminal.Totals `json:"total"`
	Season    string          `json:"season,omitempty"`
	Exemption string          `json:"exemption,omitempty"`
	Evidence  string          `json:"evidence,omitempty"`
	FreeDay   string          `json:"free_day,omitempty"`
}

func linesJSON(ls []terminal.Line) []lineJSON {
	out := []lineJSON{}
	for _, l := range ls {
		out = append(out, lineJSON{Code: l.Code, Name: l.Name, Kind: l.Kind, Qty: l.Qty,
			Unit: terminal.Totals{l.Currency: l.Unit}, Total: terminal.Totals{l.Currency: l.Total},
			Season: l.Season, Exemption: l.Exemption, Evidence: l.Evidence, FreeDay: l.FreeDay})
	}
	return out
}

// conversionJSON is a currency conversion: what was due, what it became,
// at which rate from which source.
type conversionJSON struct {
	Amount    terminal.Totals `json:"amount"`
	Converted terminal.Totals `json:"converted"`
	Rate      string          `json:"rate"`
	Source    string          `json:"source"`
}

func conversionsJSON(cs []terminal.Conversion) []conversionJSON {
	var out []conversionJSON
	for _, c := range cs {
		out = append(out, conversionJSON{Amount: terminal.Totals{c.From: c.Amount}, Converted: terminal.Totals{c.To: c.Converted}, Rate: c.Rate, Source: c.Source})
	}
	return out
}

type printJSON struct {
	Status string `json:"status"` // printed, queued, none
	Job    string `json:"job,omitempty"`
	Error  string `json:"error,omitempty"`
}

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

func parseItems(items list) ([]terminal.LineRequest, error) {
	var out []terminal.LineRequest
	for _, it := range items {
		// CODE=QTY[:EXEMPTION:EVIDENCE]
		code, rest, ok := strings.Cut(it, "=")
		if !ok {
			return nil, terminal.Errorf(terminal.EINVALID, "item %q is not CODE=QTY", it)
		}
		qtyS, exempt, _ := strings.Cut(rest, ":")
		qty, err := strconv.Atoi(strings.TrimSpace(qtyS))
		if err != nil {
			return nil, terminal.Errorf(terminal.EINVALID, "quantity of %s is not a whole number: %q", code, qtyS)
		}
		lr := terminal.LineRequest{Code: code, Qty: qty}
		if exempt != "" {
			lr.Exemption, lr.Evidence, _ = strings.Cut(exempt, ":")
		}
		out = append(out, lr)
	}
	return out, nil
}

func parseTenders(pays list) ([]terminal.TenderRequest, error) {
	var out []terminal.TenderRequest
	for _, p := range pays {
		tr, err := terminal.ParseTender(p)
		if err != nil {
			return nil, err
		}
		out = append(out, tr)
	}
	return out, nil
}

func (m *Main) cmdSell(ctx context.Context, args []string) error {
	fs := m.newFlags("sell").withAs().withJSON()
	var items, pays list
	fs.Var(&items, "item", "CODE=QTY[:EXEMPTION:EVIDENCE] (repeatable)")
	fs.Var(&pays, "pay", "tender: cash, cash:CUR=AMOUNT, mpesa:CODE, card:APPROVAL, card, defer (repeatable)")
	vehicle := fs.String("vehicle", "", "vehicle plate")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("sell takes no arguments, got %q", pos[0])
	}
	if len(items) == 0 {
		return usagef("sell needs --item CODE=QTY and --pay TENDER")
	}
	lines, err := parseItems(items)
	if err != nil {
		return err
	}
	tenders, err := parseTenders(pays)
	if err != nil {
		return err
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	if len(pays) == 0 {
		// --pay may be left out only when the sale comes to nothing (free
		// entry); otherwise it is a usage error, before the PIN is asked.
		if due, err := m.dueWithoutTender(ctx, db, lines); err != nil || len(due) > 0 {
			if err != nil {
				return err
			}
			return usagef("sell needs --pay TENDER: %s is due", due)
		}
	}
	op, err := m.operator(ctx, db, fs.as)
	if err != nil {
		return err
	}
	iss, err := db.PassIssuer(ctx)
	if err != nil {
		return err
	}
	// The card desk charges an integrated PDQ (after a trial of the sale,
	// so a refusal comes before the charge), then commits and clears.
	d, err := m.desk(db)
	if err != nil {
		return err
	}
	res, err := d.Sell(ctx, op, terminal.SaleRequest{Lines: lines, Vehicle: *vehicle, Tenders: tenders}, iss, m.announceCharge)
	if err != nil {
		return err
	}
	pr := m.printNow(ctx, db, res.PrintJob)
	s := res.Sale
	if fs.json {
		return m.printJSON(saleJSON(s, &pr))
	}
	fmt.Fprintf(m.Stdout, "sale %d %s: %s (%s)\n", s.Number, s.State, s.Totals, s.ID)
	if pr.Status == "queued" {
		fmt.Fprintf(m.Stderr, "lango: printing queued: %s\n", pr.Error)
	}
	return nil
}

// dueWithoutTender prices lines as a sale would now and returns what is
// due (nothing for free entry). A pricing refusal is returned as is.
func (m *Main) dueWithoutTender(ctx context.Context, db *sqlite.DB, lines []terminal.LineRequest) (terminal.Totals, error) {
	cat, err := db.Catalogue(ctx)
	if err != nil {
		return nil, err
	}
	id, err := db.Identity(ctx)
	if err != nil {
		return nil, err
	}
	p, err := cat.Price(db.Now(), id.Site, lines)
	if err != nil {
		return nil, err
	}
	return p.Totals.Clone().Clean(), nil
}

type saleOut struct {
	ID          string             `json:"id"`
	Number      int64              `json:"number"`
	Kind        string             `json:"kind"`
	State       terminal.SaleState `json:"state"`
	At          time.Time          `json:"at"`
	Operator    string             `json:"operator"`
	Vehicle     string             `json:"vehicle,omitempty"`
	Lines       []lineJSON         `json:"lines"`
	Totals      terminal.Totals    `json:"totals"`
	Tenders     []tenderJSON       `json:"tenders"`
	Conversions []conversionJSON   `json:"conversions,omitempty"`
	Due         terminal.Totals    `json:"due,omitempty"`
	RefundOf    string             `json:"refund_of,omitempty"`
	Void        *terminal.Void     `json:"void,omitempty"`
	Pass        string             `json:"pass,omitempty"`
	Print       *printJSON         `json:"print,omitempty"`
}

func saleJSON(s *terminal.Sale, pr *printJSON) saleOut {
	return saleOut{
		ID: s.ID, Number: s.Number, Kind: s.Kind, State: s.State, At: s.At, Operator: s.Operator, Vehicle: s.Vehicle,
		Lines: linesJSON(s.Lines), Totals: s.Totals, Tenders: tendersJSON(s.Tenders), Conversions: conversionsJSON(s.Conversions), Due: s.Due,
		RefundOf: s.RefundOf, Void: s.Void, Pass: s.Pass, Print: pr,
	}
}

func (m *Main) cmdSales(ctx context.Context, args []string) error {
	fs := m.newFlags("sales").withJSON()
	since := fs.String("since", "", "only sales at or after this RFC 3339 time")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	var t time.Time
	if *since != "" {
		var err error
		if t, err = time.Parse(time.RFC3339, *since); err != nil {
			return usagef("--since %q is not an RFC 3339 time, e.g. 2024-01-03T06:00:00+03:00", *since)
		}
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	sales, err := db.Sales(ctx, t)
	if err != nil {
		return err
	}
	if fs.json {
		out := []saleOut{}
		for _, s := range sales {
			out = append(out, saleJSON(s, nil))
		}
		return m.printJSON(out)
	}
	for _, s := range sales {
		fmt.Fprintf(m.Stdout, "%6d  %s  %-8s  %s  %s\n", s.Number, s.At.Local().Format("2006-01-02 15:04"), s.State, s.Totals, s.ID)
	}
	return nil
}

func (m *Main) voidOrRefund(ctx context.Context, name string, args []string, do func(*sqlite.DB, *terminal.Operator, string, string) (*terminal.Sale, error)) error {
	fs := m.newFlags(name).withAs().withJSON()
	reason := fs.String("reason", "", "why (required)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("%s --as SUPERVISOR SALE_ID --reason TEXT", name)
	}
	if _, err := terminal.ValidateReason(*reason); err != nil {
		return err
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	sup, err := m.operator(ctx, db, fs.as)
	if err != nil {
		return err
	}
	s, err := do(db, sup, pos[0], *reason)
	if err != nil {
		return err
	}
	if fs.json {
		return m.printJSON(saleJSON(s, nil))
	}
	fmt.Fprintf(m.Stdout, "sale %d %s\n", s.Number, map[string]string{"void": "voided", "refund": "refunded"}[name])
	return nil
}

func (m *Main) cmdVoid(ctx context.Context, args []string) error {
	return m.voidOrRefund(ctx, "void", args, func(db *sqlite.DB, op *terminal.Operator, id, r string) (*terminal.Sale, error) {
		return db.Void(ctx, op, id, r)
	})
}

func (m *Main) cmdRefund(ctx context.Context, args []string) error {
	return m.voidOrRefund(ctx, "refund", args, func(db *sqlite.DB, op *terminal.Operator, id, r string) (*terminal.Sale, error) {
		return db.Refund(ctx, op, id, r)
	})
}

func (m *Main) cmdAudit(ctx context.Context, args []string) error {
	fs := m.newFlags("audit").withJSON()
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "verify" {
		return usagef("audit verify")
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	if err := db.VerifyAudit(ctx); err != nil {
		if ae, ok := err.(*sqlite.AuditError); ok {
			if fs.json {
				m.printJSON(map[string]any{"ok": false, "seq": ae.Seq, "table": ae.Table, "row": ae.Row, "reason": ae.Reason})
			}
			return terminal.Errorf(terminal.ECONFLICT, "%s", ae.Error())
		}
		return err
	}
	counts, err := db.Counts(ctx)
	if err != nil {
		return err
	}
	n := counts["events"]
	if fs.json {
		return m.printJSON(map[string]any{"ok": true, "events": n})
	}
	fmt.Fprintf(m.Stdout, "audit chain intact: %d events\n", n)
	return nil
}

// passOut is a verified pass as `lango pass verify --json` prints it.
type passOut struct {
	Valid   bool              `json:"valid"`
	Reason  string            `json:"reason,omitempty"`
	Message string            `json:"message,omitempty"`
	Detail  string            `json:"detail,omitempty"`
	State   string            `json:"state,omitempty"`
	Pass    *pass.Pass        `json:"pass,omitempty"`
	Marks   []sqlite.PassMark `json:"marks,omitempty"`
}

func (m *Main) cmdPass(ctx context.Context, args []string) error {
	fs := m.newFlags("pass").withJSON().withAs()
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || (pos[0] != "verify" && pos[0] != "use") {
		return usagef("pass verify [--json] PASS | pass use --as NAME PASS")
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	var pc *sqlite.PassCheck
	if pos[0] == "use" {
		op, err := m.operator(ctx, db, fs.as)
		if err != nil {
			return err
		}
		if pc, err = db.UsePass(ctx, op, pos[1]); err != nil {
			return err
		}
	} else if pc, err = db.CheckPass(ctx, pos[1]); err != nil {
		return err
	}
	out := passOut{Valid: pc.Refusal == nil, State: pc.State, Marks: pc.Marks}
	if pc.Pass.Version != 0 {
		p := pc.Pass
		out.Pass = &p
	}
	if pc.Refusal != nil {
		out.Reason, out.Message, out.Detail = string(pc.Refusal.Reason), pc.Refusal.Reason.Message("en"), pc.Refusal.Detail
	}
	if fs.json {
		if err := m.printJSON(out); err != nil {
			return err
		}
	} else if out.Valid {
		p := pc.Pass
		fmt.Fprintf(m.Stdout, "valid %s pass %s from %s: %d people, %s, until %s\n", pc.State, p.ID, p.Terminal, p.People(), p.Plate, p.ValidUntil.Local().Format("2006-01-02 15:04"))
	}
	if pc.Refusal != nil {
		return pc.Refusal
	}
	return nil
}

func (m *Main) cmdSettle(ctx context.Context, args []string) error {
	fs := m.newFlags("settle").withAs().withJSON()
	var pays list
	fs.Var(&pays, "pay", "tender (repeatable)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || len(pays) == 0 {
		return usagef("settle --as NAME PASS --pay TENDER…")
	}
	tenders, err := parseTenders(pays)
	if err != nil {
		return err
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	op, err := m.operator(ctx, db, fs.as)
	if err != nil {
		return err
	}
	d, err := m.desk(db)
	if err != nil {
		return err
	}
	res, err := d.Settle(ctx, op, pos[0], tenders, m.announceCharge)
	if err != nil {
		return err
	}
	pr := m.printNow(ctx, db, res.PrintJob)
	st := res.Settlement
	if fs.json {
		return m.printJSON(map[string]any{
			"id": st.ID, "pass_id": st.PassID, "issuer_terminal": st.IssuerTerminal, "state": "settled",
			"due": st.Due, "overstay": linesJSON(st.Overstay), "totals": st.Totals, "tenders": tendersJSON(st.Tenders),
			"conversions": conversionsJSON(st.Conversions), "print": pr,
		})
	}
	fmt.Fprintf(m.Stdout, "pass %s settled: %s\n", st.PassID, st.Totals)
	return nil
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
		return &terminal.Error{Kind: terminal.EDEVICE, Message: fmt.Sprintf("%s; %d jobs wait in the spool, not lost", terminal.ErrorMessage(perr), left)}
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
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	sup, err := m.operator(ctx, db, fs.as)
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
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("printer list | test | emulate --pty LINK --out DIR [--profile NAME]")
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
	}
	return usagef("printer %s: use list, test or emulate", pos[0])
}

func profileNames() string {
	var names []string
	for _, p := range printer.Profiles() {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}
