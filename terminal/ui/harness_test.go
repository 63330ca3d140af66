package ui

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// *sqlite.DB is the store the lead's `lango run` passes in.
var _ Store = (*sqlite.DB)(nil)

// outageDay is 06:00 in Nairobi on the day the national platform went down.
var outageDay = time.Date(2024, 1, 3, 3, 0, 0, 0, time.UTC)

// fakeClock starts at outageDay and advances a second each reading.
func fakeClock() func() time.Time {
	var n atomic.Int64
	return func() time.Time { return outageDay.Add(time.Duration(n.Add(1)) * time.Second) }
}

const (
	adminPIN     = "1234"
	attendant    = "wanjiku"
	attendantPIN = "2468"
)

// harness is a kiosk on a real store in a temp folder, with a tap counter.
type harness struct {
	t        testing.TB
	db       *sqlite.DB
	k        *Kiosk
	taps     int
	notified int
	prints   string // the emulator's folder, when the printer is set
}

func readCatalogue(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "catalogues", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newStore makes a terminal at site of catalogue, with the admin and an
// attendant.
func newStore(t testing.TB, catalogue, site string, settings map[string]string) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lango.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = fakeClock()
	if _, err := db.Init(ctx, terminal.InitRequest{Site: site, Name: "gate-1", Catalogue: readCatalogue(t, catalogue), AdminPIN: adminPIN, Settings: settings}); err != nil {
		t.Fatal(err)
	}
	admin, err := db.Authenticate(ctx, "admin", adminPIN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddOperator(ctx, admin, attendant, "attendant", attendantPIN); err != nil {
		t.Fatal(err)
	}
	return db
}

type harnessOpt func(*Options)

// newHarness opens a kiosk at Nairobi NP with the printer emulated.
func newHarness(t testing.TB, opts ...harnessOpt) *harness {
	t.Helper()
	prints := t.TempDir()
	db := newStore(t, "kws.json", "NNP", map[string]string{"printer": "emulator:" + prints})
	return newHarnessOn(t, db, prints, opts...)
}

func newHarnessOn(t testing.TB, db *sqlite.DB, prints string, opts ...harnessOpt) *harness {
	t.Helper()
	h := &harness{t: t, db: db, prints: prints}
	a := test.NewTempApp(t)
	o := Options{Store: db, Now: db.Now, Lang: "en", Notify: func() { h.notified++ }}
	for _, f := range opts {
		f(&o)
	}
	h.k = NewKiosk(a, o)
	t.Cleanup(func() { h.k.Close() })
	h.k.win.Resize(fyne.NewSize(1280, 800))
	return h
}

// tap taps o, counting the tap.
func (h *harness) tap(o fyne.Tappable) {
	h.t.Helper()
	if b, ok := o.(*button); ok && b.Disabled() {
		h.t.Fatalf("tap on disabled button %q", b.Text)
	}
	h.taps++
	test.Tap(o)
}

// typeIn types text into e, as a keyboard or a scanner would.
func (h *harness) typeIn(e *entry, text string) {
	h.t.Helper()
	e.SetText("")
	test.Type(e, text)
}

// enter presses Enter in e.
func (h *harness) enter(e *entry) {
	e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
}

func (h *harness) counts() map[string]int {
	h.t.Helper()
	c, err := h.db.Counts(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// pin taps a PIN on a pad and OK.
func (h *harness) pin(p *pinPad, pin string) {
	h.t.Helper()
	for _, r := range pin {
		h.tap(p.digits[r-'0'])
	}
	h.tap(p.ok)
}

// login signs in by tapping the name and the PIN.
func (h *harness) login(name, pin string) {
	h.t.Helper()
	s := h.k.login
	found := false
	for _, o := range s.names.Objects {
		if b, ok := o.(*button); ok && b.Text == name {
			h.tap(b)
			found = true
		}
	}
	if !found {
		h.typeIn(s.name, name)
	}
	h.pin(s.pad, pin)
}

// openShift opens the operator's shift with a KES float.
func (h *harness) openShift(floatKES string) {
	h.t.Helper()
	if h.k.current != h.k.shiftS {
		h.t.Fatalf("not on the shift screen after login: %s", h.k.login.msg.Text)
	}
	h.typeIn(h.k.shiftS.float["KES"], floatKES)
	h.tap(h.k.shiftS.open)
	if h.k.current != h.k.entry && h.k.current != h.k.counter {
		h.t.Fatalf("shift not opened: %s", h.k.shiftS.msg.Text)
	}
}

// counter returns the entry gate's counter for an item code.
func (h *harness) counter(code string) *counter {
	h.t.Helper()
	for _, c := range h.k.entry.counters {
		if c.code == code {
			return c
		}
	}
	h.t.Fatalf("no counter %s", code)
	return nil
}

// plus taps + n times on code's counter.
func (h *harness) plus(code string, n int) {
	h.t.Helper()
	c := h.counter(code)
	for range n {
		h.tap(c.plus)
	}
}

func sameCounts(t testing.TB, what string, before, after map[string]int) {
	t.Helper()
	if !maps.Equal(before, after) {
		t.Errorf("%s changed the store: before %v; after %v", what, before, after)
	}
}

func contains(t testing.TB, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Errorf("%s = %q; want it to contain %q", what, got, want)
	}
}

// sale reads a sale back from the store.
func (h *harness) sale(id string) *terminal.Sale {
	h.t.Helper()
	s, err := h.db.Sale(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// fits checks that the window's content fits a 1280×800 kiosk screen: a
// screen larger than that would be cut off, not scrolled.
func (h *harness) fits(what string) {
	h.t.Helper()
	if m := h.k.win.Content().MinSize(); m.Width > 1280 || m.Height > 800 {
		h.t.Errorf("%s: the screen needs %v; the kiosk has 1280×800", what, m)
	}
}

// press sends a key as the window's driver does: to the focused widget,
// or to the canvas when nothing has focus.
func (h *harness) press(name fyne.KeyName) {
	h.t.Helper()
	c := h.k.win.Canvas()
	ev := &fyne.KeyEvent{Name: name}
	if f := c.Focused(); f != nil {
		f.TypedKey(ev)
	} else if fn := c.OnTypedKey(); fn != nil {
		fn(ev)
	}
}

// keyboard types text as a keyboard or a keyboard-wedge scanner does,
// wherever the focus is: each rune to the focused widget, or to the canvas
// when nothing has focus; "\n" is Enter.
func (h *harness) keyboard(text string) {
	h.t.Helper()
	c := h.k.win.Canvas()
	for _, r := range text {
		if r == '\n' {
			h.press(fyne.KeyReturn)
			continue
		}
		if f := c.Focused(); f != nil {
			f.TypedRune(r)
		} else if fn := c.OnTypedRune(); fn != nil {
			fn(r)
		}
	}
}

// deferredPass sells n international adults at this gate, to pay at exit,
// and returns the sale.
func (h *harness) deferredPass(n int) *terminal.Sale {
	h.t.Helper()
	ctx := context.Background()
	iss, err := h.db.PassIssuer(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	op, err := h.db.Authenticate(ctx, attendant, attendantPIN)
	if err != nil {
		h.t.Fatal(err)
	}
	res, err := h.db.Sell(ctx, op, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "INT-ADULT", Qty: n}},
		Tenders: []terminal.TenderRequest{{Kind: terminal.TenderDefer}}}, iss)
	if err != nil {
		h.t.Fatal(err)
	}
	return res.Sale
}
