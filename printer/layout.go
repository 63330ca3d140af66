package printer

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lango-pos/lango/printer/escpos"
	"github.com/lango-pos/lango/terminal"
)

// Document is a PassSlip, Receipt, Settlement, ZReport or TestPage.
type Document interface {
	layout(pg *page) error
}

// Layout renders documents as ESC/POS jobs for one printer profile.
type Layout struct {
	Profile Profile
	// Logo, optional, is printed centred at the top of every document;
	// make it with escpos.FromImage(img, width).
	Logo *escpos.Bitmap
	// Location for printed times; nil means Africa/Nairobi.
	Location *time.Location
	trace    func(traceItem)
}

// Render returns the ESC/POS job that prints d on p's paper.
func Render(p Profile, d Document) ([]byte, error) { return Layout{Profile: p}.Render(d) }

// Render returns the ESC/POS job that prints d.
func (l Layout) Render(d Document) ([]byte, error) {
	if l.Profile.Columns < 20 || l.Profile.WidthDots < 128 {
		return nil, terminal.Errorf(terminal.EINVALID, "printer profile %q has no paper size", l.Profile.Name)
	}
	pg := newPage(l)
	pg.trace = l.trace
	if err := d.layout(pg); err != nil {
		return nil, err
	}
	if err := pg.e.Err(); err != nil {
		return nil, &terminal.Error{Kind: terminal.EINVALID, Message: "cannot lay out the document", Err: err}
	}
	return pg.buf.Bytes(), nil
}

// nairobi is East Africa Time; Kenya has kept UTC+3 without daylight saving
// since 1942, so the fixed zone is exact when no tz database is installed.
func nairobi() *time.Location {
	if loc, err := time.LoadLocation("Africa/Nairobi"); err == nil {
		return loc
	}
	return time.FixedZone("EAT", 3*60*60)
}

// page is a document being laid out: an encoder over a buffer, and the
// profile's columns and words.
type page struct {
	buf  bytes.Buffer
	e    *escpos.Encoder
	prof Profile
	cp   escpos.CodePage
	cols int
	w    *[nLabels]string
	logo *escpos.Bitmap
	loc  *time.Location
	// trace, when set (tests only), is told each element as it is laid
	// out: the slip that scripts/peers hands to other libraries.
	trace  func(traceItem)
	noting bool
}

// traceItem is one element of a laid-out document: a centred line, a
// left/right pair, a text line, a rule, the QR code, a banner or the cut,
// with its text folded to the page's code page.
type traceItem struct {
	Kind  string `json:"kind"`
	Text  string `json:"text,omitempty"`
	Right string `json:"right,omitempty"`
	Bold  bool   `json:"bold,omitempty"`
	Size  int    `json:"size,omitempty"`
}

// note tells the trace about it, unless an element being noted is laying
// it out (a pair's lines are not noted again as text); call the func it
// returns when the element is done.
func (pg *page) note(it traceItem) func() {
	if pg.trace == nil || pg.noting {
		return func() {}
	}
	pg.trace(it)
	pg.noting = true
	return func() { pg.noting = false }
}

func newPage(l Layout) *page {
	pg := &page{prof: l.Profile, cp: l.Profile.codePage(), cols: l.Profile.Columns, logo: l.Logo, loc: l.Location}
	if pg.loc == nil {
		pg.loc = nairobi()
	}
	pg.w = words("en")
	pg.e = escpos.NewEncoder(&pg.buf, pg.cp)
	pg.e.SetLazy(true)
	pg.e.Init()
	return pg
}

func (pg *page) lang(l string) { pg.w = words(l) }

// time formats t in the terminal's zone: "2024-01-03 06:12 EAT".
func (pg *page) time(t time.Time) string {
	return t.In(pg.loc).Format("2006-01-02 15:04 MST")
}

// fold makes s printable in the page's code page: its rune count is then
// its width in columns.
func (pg *page) fold(s string) string { return strings.TrimSpace(pg.cp.Fold(s)) }

// wrap breaks folded text into lines of at most width columns, at spaces
// where it can and inside words longer than a line.
func wrap(s string, width int) []string {
	width = max(width, 1)
	var lines []string
	var cur []rune
	for _, word := range strings.Fields(s) {
		rw := []rune(word)
		for len(rw) > 0 {
			need := len(rw)
			if len(cur) > 0 {
				need++
			}
			if len(cur)+need <= width {
				if len(cur) > 0 {
					cur = append(cur, ' ')
				}
				cur = append(cur, rw...)
				rw = nil
				continue
			}
			if len(cur) > 0 {
				lines = append(lines, string(cur))
				cur = nil
				continue
			}
			cur = append(cur, rw[:width]...)
			rw = rw[width:]
			lines = append(lines, string(cur))
			cur = nil
		}
	}
	if len(cur) > 0 {
		lines = append(lines, string(cur))
	}
	return lines
}

func width(s string) int { return utf8.RuneCountInString(s) }

// text prints s wrapped to the page, left-aligned; leading spaces indent
// every line of it.
func (pg *page) text(s string) {
	defer pg.note(traceItem{Kind: "text", Text: pg.cp.Fold(s)})()
	ind, body := indent(s)
	for _, l := range wrap(pg.fold(body), pg.cols-ind) {
		pg.e.Line(strings.Repeat(" ", ind) + l)
	}
}

// indent splits s into its count of leading spaces and the rest.
func indent(s string) (int, string) {
	t := strings.TrimLeft(s, " ")
	return len(s) - len(t), t
}

// center prints s wrapped and centred, magnified size times.
func (pg *page) center(s string, bold bool, size int) {
	if s = pg.fold(s); s == "" {
		return
	}
	defer pg.note(traceItem{Kind: "center", Text: s, Bold: bold, Size: size})()
	pg.e.Align(escpos.Center)
	if bold {
		pg.e.Bold(true)
	}
	if size > 1 {
		pg.e.Size(size, size)
	}
	for _, l := range wrap(s, pg.cols/max(size, 1)) {
		pg.e.Line(l)
	}
	if size > 1 {
		pg.e.Size(1, 1)
	}
	if bold {
		pg.e.Bold(false)
	}
	pg.e.Align(escpos.Left)
}

// pair prints left and right on one line, right flush to the edge: the
// left text wraps in the columns the right leaves, continuation lines
// indented. When the right part is too wide to share a line, or a word of
// the left would have to be broken, the right part gets a line of its own.
func (pg *page) pair(left, right string, bold bool) {
	defer pg.note(traceItem{Kind: "pair", Text: pg.cp.Fold(left), Right: pg.fold(right), Bold: bold})()
	ind, left := indent(left)
	left, right = pg.fold(left), pg.fold(right)
	if bold {
		pg.e.Bold(true)
		defer pg.e.Bold(false)
	}
	pad := strings.Repeat(" ", ind)
	if right == "" {
		pg.text(pad + left)
		return
	}
	rw := width(right)
	avail := pg.cols - ind - rw - 1
	longest := 0
	for _, w := range strings.Fields(left) {
		longest = max(longest, width(w))
	}
	if avail < pg.cols/4 || longest > avail {
		pg.text(pad + left)
		for _, l := range wrap(right, pg.cols-ind) {
			pg.e.Line(strings.Repeat(" ", pg.cols-width(l)) + l)
		}
		return
	}
	lines := wrap(left, avail)
	if len(lines) == 0 {
		lines = []string{""}
	}
	first := pad + lines[0]
	pg.flush(first, right)
	for _, l := range wrap(strings.Join(lines[1:], " "), pg.cols-ind-2) {
		pg.e.Line(pad + "  " + l)
	}
}

// fontADots is the width of a font A character cell.
const fontADots = 12

// flush prints left, then right flush to the last column. A gap wider than
// ESC $ (4 bytes) is jumped with it instead of spaces: the padding was a
// quarter of a pass's text bytes, which cost time on a 9,600-baud line.
func (pg *page) flush(left, right string) {
	gap := pg.cols - width(left) - width(right)
	if gap <= 4 {
		pg.e.Line(left + strings.Repeat(" ", gap) + right)
		return
	}
	pg.e.Text(left)
	pg.e.AbsPos((pg.cols - width(right)) * fontADots)
	pg.e.Line(right)
}

// id prints a label and an identifier in groups of four, on one line when
// they fit, else the groups on their own lines.
func (pg *page) id(label, id string) {
	g := passID(pg.fold(id))
	if width(label)+1+width(g) <= pg.cols {
		pg.pair(label, g, false)
		return
	}
	pg.text(label)
	pg.text("  " + g)
}

// rule prints a full-width rule: '-' a single line, '=' a double one. It
// is drawn with the code page's box-drawing character (─ or ═, 0xC4 and
// 0xCD in CP437 and CP858, drawn edge to edge so they join) at the widest
// magnification (at most 8, GS !) that divides the columns: 6 characters
// on 80 mm instead of 48 dashes, 13 bytes instead of 49 on a pass's slow
// serial line, and a solid line on paper.
func (pg *page) rule(c byte) {
	r := "─"
	if c == '=' {
		r = "═"
	}
	defer pg.note(traceItem{Kind: "rule", Text: string(c)})()
	w := 8
	for pg.cols%w != 0 {
		w--
	}
	pg.e.Size(w, 1)
	pg.e.Line(strings.Repeat(r, pg.cols/w))
	pg.e.Size(1, 1)
}

// banner prints lines white on black across the whole width, double size:
// the PAY AT EXIT and COPY markings, readable from a metre away. A line
// too long for double size prints at normal size.
func (pg *page) banner(lines ...string) {
	folded := make([]string, len(lines))
	for i, l := range lines {
		folded[i] = pg.fold(l)
	}
	defer pg.note(traceItem{Kind: "banner", Text: strings.Join(folded, "\n")})()
	// Line spacing at the character height, so the black rows join.
	pg.e.LineSpacing(24)
	pg.e.Reverse(true)
	pg.e.Bold(true)
	pad := func(s string, cols int) string {
		l := (cols - width(s)) / 2
		return strings.Repeat(" ", l) + s + strings.Repeat(" ", cols-width(s)-l)
	}
	pg.e.Line(strings.Repeat(" ", pg.cols))
	for _, s := range lines {
		s = pg.fold(s)
		if width(s) <= pg.cols/2 {
			pg.e.Size(2, 2)
			pg.e.Line(pad(s, pg.cols/2))
			pg.e.Size(1, 1)
			continue
		}
		for _, l := range wrap(s, pg.cols) {
			pg.e.Line(pad(l, pg.cols))
		}
	}
	pg.e.Line(strings.Repeat(" ", pg.cols))
	pg.e.Bold(false)
	pg.e.Reverse(false)
	pg.e.DefaultLineSpacing()
}

// header prints the logo, the site, the terminal line and the title, and
// the COPY banner on reprints.
func (pg *page) header(site, sub, title string, copy bool) {
	if pg.logo != nil {
		pg.e.Align(escpos.Center)
		pg.e.Raster(pg.logo, 0)
		pg.e.Align(escpos.Left)
		pg.e.FeedDots(8)
	}
	pg.center(site, true, 2)
	pg.center(sub, false, 1)
	pg.e.FeedDots(8)
	pg.center(title, true, 1)
	if copy {
		pg.banner(pg.w[lCopy])
	}
	pg.rule('-')
}

// money formats an amount for the right-hand column.
func money(c terminal.Currency, minor int64) string {
	return terminal.Money{Currency: c, Minor: minor}.String()
}

// totals prints one line per currency, label on the first.
func (pg *page) totals(label string, t terminal.Totals, bold bool) {
	for i, c := range t.Currencies() {
		l := label
		if i > 0 {
			l = ""
		}
		pg.pair(l, money(c, t[c]), bold)
	}
}

func (pg *page) lines(ls []Line) {
	for _, l := range ls {
		d := l.Description
		if l.Qty != 0 {
			d = fmt.Sprintf("%d × %s", l.Qty, d)
		}
		pg.pair(d, l.Amount.String(), false)
	}
}

func (pg *page) tenders(ts []Tender) {
	for _, t := range ts {
		pg.pair(tenderLabel(pg.w, t.Kind), t.Amount.String(), false)
		if t.Reference == "" {
			continue
		}
		ref := pg.w[lReference]
		if strings.EqualFold(t.Kind, "card") {
			ref = pg.w[lApproval]
		}
		if t.Bank != "" {
			ref = t.Bank + " " + ref // "KCB Ref: FT24003ABC12"
		}
		pg.text("  " + ref + ": " + t.Reference)
	}
}

// passID formats an ID for reading aloud: upper case, in groups of four.
func passID(id string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.ToUpper(id) {
		if r == '-' || r == ' ' {
			continue
		}
		if n > 0 && n%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// qrLevel is the error correction of every printed QR code: Q, as the
// pass format chose after fold-and-scratch tests (docs/PASS-FORMAT.md).
const qrLevel = escpos.ECQuart

// qr prints data as a QR code, natively where the profile can, else as a
// raster image. Modules are the profile's QRModule dots, or fewer when the
// symbol would not fit the paper. The quiet zone is 4 modules of blank
// paper: fed above and below (free), and beside the symbol white raster
// columns as far as the printable width allows; past it the unprinted
// paper margin is white.
func (pg *page) qr(data string) error {
	lv := pg.prof.qrLevel()
	n, err := escpos.QRModules(data, lv)
	if err != nil {
		return &terminal.Error{Kind: terminal.EINVALID, Message: "the text does not fit in a QR code", Err: err}
	}
	w := pg.prof.WidthDots
	m := pg.prof.QRModule
	for m > 2 && n*m > w {
		m--
	}
	if n*m > w {
		return terminal.Errorf(terminal.EINVALID, "the QR code (%d modules) is too wide for %d mm paper", n, pg.prof.PaperMM)
	}
	defer pg.note(traceItem{Kind: "qr", Text: data})()
	pg.e.Align(escpos.Center)
	pg.e.FeedDots(4 * m)
	switch {
	case pg.prof.NativeQR:
		pg.e.NativeQR(data, m, lv)
	case pg.prof.BitImageQR && m == 3:
		qx := min(4, (w/m-n)/2)
		bm, err := escpos.QRBitmap(data, lv, 1, qx, 0)
		if err != nil {
			return &terminal.Error{Kind: terminal.EINVALID, Message: "the text does not fit in a QR code", Err: err}
		}
		pg.e.BitImageLines(bm, 3)
	default:
		qx := min(4, (w/m-n)/2)
		scale := 1
		if pg.prof.RasterDouble && m%2 == 0 {
			scale = 2
		}
		bm, err := escpos.QRBitmap(data, lv, m/scale, qx, 0)
		if err != nil {
			return &terminal.Error{Kind: terminal.EINVALID, Message: "the text does not fit in a QR code", Err: err}
		}
		pg.e.RasterScaled(bm, scale, qrBand(bm.Stride, m/scale))
	}
	pg.e.FeedDots(4 * m)
	pg.e.Align(escpos.Left)
	return nil
}

// qrBandBytes bounds one GS v 0 band of a QR code: the printer starts
// burning a band only once it holds all of it, so at 9,600 baud a 1 KiB
// band is on paper about a second after its first byte (a 4 KiB one, four),
// and the smallest receive buffers (2 KiB on some clones) hold it whole.
// Each band costs 8 bytes of header.
const qrBandBytes = 1024

// qrBand is the band size for a QR bitmap of stride bytes a row and rows
// a module: whole module rows, at most qrBandBytes (one module row if that
// is already more).
func qrBand(stride, rows int) int {
	per := stride * rows
	return max(1, qrBandBytes/per) * per
}

// end feeds the last lines clear of the cutter and cuts (partially, so
// the slip stays on the printer until torn off).
func (pg *page) end() {
	defer pg.note(traceItem{Kind: "cut"})()
	pg.e.Cut(true, pg.prof.CutFeed)
}

func (pg *page) kick(open, copy bool) {
	if open && !copy {
		pg.e.KickDrawer(0, 100, 200)
	}
}

// checkMoney refuses amounts in currencies Lango does not know.
func checkMoney(what string, ms ...terminal.Money) error {
	for _, m := range ms {
		if !m.Currency.Valid() {
			return terminal.Errorf(terminal.EINVALID, "%s: unknown currency %q", what, m.Currency)
		}
	}
	return nil
}

func checkTotals(what string, ts ...terminal.Totals) error {
	for _, t := range ts {
		for c := range t {
			if !c.Valid() {
				return terminal.Errorf(terminal.EINVALID, "%s: unknown currency %q", what, c)
			}
		}
	}
	return nil
}

func checkLines(ls []Line, ts []Tender) error {
	for _, l := range ls {
		if err := checkMoney("line "+l.Description, l.Amount); err != nil {
			return err
		}
	}
	for _, t := range ts {
		if err := checkMoney("tender "+t.Kind, t.Amount); err != nil {
			return err
		}
	}
	return nil
}

func nonZero(t terminal.Totals) bool {
	for _, v := range t {
		if v != 0 {
			return true
		}
	}
	return false
}

// conversions prints each rate a tender was taken at: "Rate 1 USD = 129.5
// KES", then what it came to ("USD 20.00 = KES 2,590.00").
func (pg *page) conversions(cs []Conversion) {
	for _, c := range cs {
		pg.pair(pg.w[lRate], "1 "+string(c.From.Currency)+" = "+c.Rate+" "+string(c.To.Currency), false)
		pg.text("  " + money(c.From.Currency, c.From.Minor) + " = " + money(c.To.Currency, c.To.Minor))
	}
}

func (s PassSlip) layout(pg *page) error {
	switch {
	case strings.TrimSpace(s.PassID) == "":
		return terminal.Errorf(terminal.EINVALID, "the pass has no ID")
	case s.QR == "":
		return terminal.Errorf(terminal.EINVALID, "the pass has no QR text")
	case len(s.QR) > escpos.MaxQRData:
		return terminal.Errorf(terminal.EINVALID, "the pass text is %d bytes: a QR code holds at most %d", len(s.QR), escpos.MaxQRData)
	case s.Issued.IsZero():
		return terminal.Errorf(terminal.EINVALID, "the pass has no issue time")
	}
	if err := checkLines(s.Lines, s.Tenders); err != nil {
		return err
	}
	if err := checkTotals("pass", s.Totals, s.Due); err != nil {
		return err
	}
	pg.lang(s.Lang)
	w := pg.w
	pg.kick(s.OpenDrawer, s.Copy)
	pg.header(s.Site, s.Gate, w[lGatePass], s.Copy)
	pg.pair(w[lDate], pg.time(s.Issued), false)
	if !s.ValidUntil.IsZero() {
		pg.pair(w[lValidUntil], pg.time(s.ValidUntil), false)
	}
	if s.Terminal != "" {
		pg.pair(w[lTerminal], s.Terminal, false)
	}
	pg.rule('-')
	pg.lines(s.Lines)
	if s.Vehicle != "" {
		pg.pair(w[lVehicle], s.Vehicle, true)
	}
	pg.owed(s.Owed)
	pg.rule('-')
	pg.totals(w[lTotal], s.Totals, true)
	if nonZero(s.Due) {
		lines := []string{w[lPayAtExit]}
		for _, c := range s.Due.Currencies() {
			if s.Due[c] != 0 {
				lines = append(lines, money(c, s.Due[c]))
			}
		}
		pg.e.FeedDots(12)
		pg.banner(lines...)
	} else {
		pg.tenders(s.Tenders)
		pg.conversions(s.Conversions)
		if nonZero(s.Change) {
			pg.totals(w[lChange], s.Change, true)
		}
		pg.e.FeedDots(12)
		pg.center(w[lPaid], true, 2)
	}
	if err := pg.qr(s.QR); err != nil {
		return err
	}
	pg.center(w[lPassID], false, 1)
	pg.center(passID(s.PassID), true, 1)
	pg.e.FeedDots(12)
	pg.center(w[lShowAtExit], false, 1)
	if s.Footer != "" {
		pg.center(s.Footer, false, 1)
	}
	if s.Operator != "" {
		pg.center(w[lOperator]+": "+s.Operator, false, 1)
	}
	if s.Copy {
		pg.center("*** "+w[lCopy]+" ***", true, 1)
	}
	pg.end()
	return nil
}

func (r Receipt) layout(pg *page) error {
	switch {
	case strings.TrimSpace(r.SaleID) == "":
		return terminal.Errorf(terminal.EINVALID, "the receipt has no sale ID")
	case r.Time.IsZero():
		return terminal.Errorf(terminal.EINVALID, "the receipt has no time")
	}
	if err := checkLines(r.Lines, r.Tenders); err != nil {
		return err
	}
	if err := checkTotals("receipt", r.Totals, r.Change); err != nil {
		return err
	}
	pg.lang(r.Lang)
	w := pg.w
	pg.kick(r.OpenDrawer, r.Copy)
	pg.header(r.Site, r.Terminal, w[lReceipt], r.Copy)
	pg.pair(w[lDate], pg.time(r.Time), false)
	pg.id(w[lReceiptNo], r.SaleID)
	if r.PassID != "" {
		pg.id(w[lPassID], r.PassID)
	}
	pg.rule('-')
	pg.lines(r.Lines)
	pg.rule('-')
	pg.totals(w[lTotal], r.Totals, true)
	pg.tenders(r.Tenders)
	pg.conversions(r.Conversions)
	if nonZero(r.Change) {
		pg.totals(w[lChange], r.Change, true)
	}
	pg.rule('-')
	if r.Operator != "" {
		pg.text(w[lOperator] + ": " + r.Operator)
	}
	if r.Footer != "" {
		pg.center(r.Footer, false, 1)
	}
	pg.center(w[lThankYou], false, 1)
	if r.Copy {
		pg.center("*** "+w[lCopy]+" ***", true, 1)
	}
	pg.end()
	return nil
}

func (s Settlement) layout(pg *page) error {
	switch {
	case strings.TrimSpace(s.ReceiptID) == "":
		return terminal.Errorf(terminal.EINVALID, "the exit receipt has no ID")
	case strings.TrimSpace(s.PassID) == "":
		return terminal.Errorf(terminal.EINVALID, "the exit receipt names no pass")
	case s.Time.IsZero():
		return terminal.Errorf(terminal.EINVALID, "the exit receipt has no time")
	}
	if err := checkLines(s.Lines, s.Tenders); err != nil {
		return err
	}
	if err := checkTotals("exit receipt", s.Totals, s.Change); err != nil {
		return err
	}
	pg.lang(s.Lang)
	w := pg.w
	pg.kick(s.OpenDrawer, s.Copy)
	pg.header(s.Site, s.Terminal, w[lSettlement], s.Copy)
	pg.pair(w[lDate], pg.time(s.Time), false)
	pg.id(w[lReceiptNo], s.ReceiptID)
	pg.rule('-')
	pg.text(w[lSettledPass] + ":")
	pg.e.Bold(true)
	pg.text("  " + passID(s.PassID))
	pg.e.Bold(false)
	if s.IssuedBy != "" {
		pg.pair(w[lIssuedBy], s.IssuedBy, false)
	}
	if !s.IssuedAt.IsZero() {
		pg.pair(w[lIssuedAt], pg.time(s.IssuedAt), false)
	}
	if s.Vehicle != "" {
		pg.pair(w[lVehicle], s.Vehicle, false)
	}
	pg.rule('-')
	pg.lines(s.Lines)
	if len(s.Lines) > 0 {
		pg.rule('-')
	}
	pg.totals(w[lTotal], s.Totals, true)
	pg.tenders(s.Tenders)
	pg.conversions(s.Conversions)
	if nonZero(s.Change) {
		pg.totals(w[lChange], s.Change, true)
	}
	pg.rule('-')
	if s.Operator != "" {
		pg.text(w[lOperator] + ": " + s.Operator)
	}
	if s.Footer != "" {
		pg.center(s.Footer, false, 1)
	}
	pg.center(w[lThankYou], false, 1)
	if s.Copy {
		pg.center("*** "+w[lCopy]+" ***", true, 1)
	}
	pg.end()
	return nil
}

func (z ZReport) layout(pg *page) error {
	switch {
	case z.Closed.IsZero():
		return terminal.Errorf(terminal.EINVALID, "the Z-report has no closing time")
	}
	for _, t := range z.ByTender {
		if err := checkTotals("tender "+t.Kind, t.Totals); err != nil {
			return err
		}
	}
	if err := checkTotals("cash drawer", z.Float, z.Expected, z.Counted); err != nil {
		return err
	}
	pg.lang(z.Lang)
	w := pg.w
	pg.header(z.Site, z.Terminal, w[lZReport], z.Copy)
	if z.ShiftID != "" {
		pg.id(w[lShift], z.ShiftID)
	}
	if z.Operator != "" {
		pg.pair(w[lOperator], z.Operator, false)
	}
	if !z.Opened.IsZero() {
		pg.pair(w[lOpened], pg.time(z.Opened), false)
	}
	pg.pair(w[lClosed], pg.time(z.Closed), false)
	pg.pair(w[lSales], fmt.Sprint(z.Sales), false)
	pg.pair(w[lVoids], fmt.Sprint(z.Voids), false)
	if z.Visitors > 0 {
		pg.pair(w[lVisitors], fmt.Sprint(z.Visitors), false)
	}
	pg.rule('=')
	pg.e.Bold(true)
	pg.text(w[lByTender])
	pg.e.Bold(false)
	all := terminal.Totals{}
	for _, t := range z.ByTender {
		label := tenderLabel(w, t.Kind)
		if t.Count > 0 {
			label = fmt.Sprintf("%s (%d)", label, t.Count)
		}
		pg.totals(label, t.Totals, false)
		all.AddAll(t.Totals)
	}
	pg.rule('-')
	pg.totals(w[lTotal], all, true)
	pg.rule('=')
	pg.e.Bold(true)
	pg.text(w[lCashDrawer])
	pg.e.Bold(false)
	cur := terminal.Totals{}
	for _, t := range []terminal.Totals{z.Float, z.Expected, z.Counted} {
		for c := range t {
			cur[c] = 0
		}
	}
	for _, c := range cur.Currencies() {
		pg.e.Bold(true)
		pg.text(string(c))
		pg.e.Bold(false)
		pg.pair("  "+w[lFloat], terminal.FormatMinor(c, z.Float[c]), false)
		pg.pair("  "+w[lExpected], terminal.FormatMinor(c, z.Expected[c]), false)
		pg.pair("  "+w[lCounted], terminal.FormatMinor(c, z.Counted[c]), false)
		v := z.Counted[c] - z.Expected[c]
		vs := terminal.FormatMinor(c, v)
		if v > 0 {
			vs = "+" + vs
		}
		pg.pair("  "+w[lVariance], vs, true)
	}
	z.openPasses(pg)
	pg.rule('-')
	if !z.Printed.IsZero() {
		pg.pair(w[lPrinted], pg.time(z.Printed), false)
	}
	if z.Copy {
		pg.center("*** "+w[lCopy]+" ***", true, 1)
	}
	pg.end()
	return nil
}

func (tp TestPage) layout(pg *page) error {
	pg.lang(tp.Lang)
	w := pg.w
	p := pg.prof
	pg.header("Lango", tp.Terminal, w[lTestPage], false)
	if !tp.Printed.IsZero() {
		pg.pair(w[lPrinted], pg.time(tp.Printed), false)
	}
	pg.pair(w[lProfile], p.Name, false)
	pg.pair(w[lColumns], fmt.Sprintf("%d x %d dots, %d dpi", p.Columns, p.WidthDots, p.DPI), false)
	qrKind := "raster"
	switch {
	case p.NativeQR:
		qrKind = "native"
	case p.BitImageQR:
		qrKind = "ESC *"
	}
	pg.pair("QR", fmt.Sprintf("%s, %d dots/module", qrKind, p.QRModule), false)
	pg.pair("Serial", fmt.Sprintf("%d baud, %s", p.Baud, p.Flow), false)
	pg.pair("Code page", pg.cp.Name, false)
	pg.rule('-')
	var ruler strings.Builder
	for i := 1; i <= pg.cols; i++ {
		ruler.WriteByte(byte('0' + i%10))
	}
	pg.e.Line(ruler.String())
	pg.rule('-')
	pg.text(w[lStyles] + ":")
	pg.e.Bold(true)
	pg.e.Line(w[lBold])
	pg.e.Bold(false)
	pg.e.Underline(1)
	pg.e.Line(w[lUnderline])
	pg.e.Underline(0)
	pg.e.Reverse(true)
	pg.e.Line(" " + w[lReverse] + " ")
	pg.e.Reverse(false)
	pg.e.Size(2, 2)
	pg.e.Line(w[lDoubleSize])
	pg.e.Size(1, 1)
	pg.e.Align(escpos.Right)
	pg.e.Line("KES 4,000.00")
	pg.e.Align(escpos.Left)
	pg.rule('-')
	pg.text(w[lCharset] + ":")
	pg.text("Äéñ Ümit Çelik, Nyambura wa Kĩmani")
	pg.text("“curly” ‘quotes’ — dash … ₹500 €20 £5")
	pg.rule('-')
	q := tp.QR
	if q == "" {
		q = "LANGO TEST " + tp.Terminal
		if !tp.Printed.IsZero() {
			q += " " + tp.Printed.UTC().Format(time.RFC3339)
		}
	}
	if err := pg.qr(q); err != nil {
		return err
	}
	pg.center(q, false, 1)
	pg.end()
	return nil
}

// owed prints who owes a deferred pass: the tour operator's name and
// licence, and the driver's phone.
func (pg *page) owed(o *terminal.Owed) {
	if o == nil {
		return
	}
	w := pg.w
	if o.Name != "" {
		pg.pair(w[lAccount], o.Name, false)
		pg.pair(w[lLicence], o.Licence, false)
	}
	if o.Phone != "" {
		pg.pair(w[lPhone], o.Phone, false)
	}
}

// openPasses prints the deferred passes still owed at the close and the
// supervisor who named them.
func (z ZReport) openPasses(pg *page) {
	if len(z.OpenPasses) == 0 {
		return
	}
	w := pg.w
	pg.rule('=')
	pg.e.Bold(true)
	pg.text(fmt.Sprintf("%s (%d)", w[lOpenPasses], len(z.OpenPasses)))
	pg.e.Bold(false)
	for _, u := range z.OpenPasses {
		left := fmt.Sprintf("%d %s", u.Number, u.Vehicle)
		var due []string
		for _, c := range u.Due.Currencies() {
			due = append(due, money(c, u.Due[c]))
		}
		pg.pair(left, strings.Join(due, " "), false)
		if u.OperatorName != "" {
			pg.pair("  "+u.OperatorName, "", false)
		}
		if u.Phone != "" {
			pg.pair("  "+u.Phone, "", false)
		}
	}
	pg.pair(w[lNamedBy], z.OpenPassesBy, true)
}
