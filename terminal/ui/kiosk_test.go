package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"fyne.io/fyne/v2"

	"github.com/lango-pos/lango/assets"
	"github.com/lango-pos/lango/printer"
	"github.com/lango-pos/lango/printer/escpos"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

func translations(t *testing.T, lang string) map[string]string {
	t.Helper()
	b, err := assets.Translation(lang)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s.json: %v", lang, err)
	}
	return m
}

// TestTranslationsComplete: both languages have the same keys, every key
// the code asks for, and templates that parse.
func TestTranslationsComplete(t *testing.T) {
	en, sw := translations(t, "en"), translations(t, "sw")
	for k := range en {
		if _, ok := sw[k]; !ok {
			t.Errorf("sw.json lacks %q", k)
		}
	}
	for k := range sw {
		if _, ok := en[k]; !ok {
			t.Errorf("en.json lacks %q", k)
		}
	}
	for lang, m := range map[string]map[string]string{"en": en, "sw": sw} {
		for k, v := range m {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s %q is empty", lang, k)
			}
			if _, err := template.New(k).Parse(v); err != nil {
				t.Errorf("%s %q: %v", lang, k, err)
			}
		}
	}
	// Every literal key in the code, and the keys built from a prefix.
	used := map[string]bool{}
	lit := regexp.MustCompile(`\b(?:T|TN|errorf)\("([a-z0-9_.]+)"`)
	plural := regexp.MustCompile(`\bTN\("([a-z0-9_.]+)"`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], ".") && !strings.HasSuffix(m[1], "_") {
				used[m[1]] = true
			}
		}
		for _, m := range plural.FindAllStringSubmatch(string(b), -1) {
			used[m[1]+"_one"] = true // TN's singular form
		}
	}
	for _, k := range []terminal.TenderKind{terminal.TenderCash, terminal.TenderMpesa, terminal.TenderCard, terminal.TenderBank, terminal.TenderDefer} {
		used["tender."+string(k)] = true
	}
	for _, c := range []string{"ready", "paper_low", "paper_out", "cover_open", "error", "offline", "unreachable"} {
		used["printer."+c] = true
	}
	for _, s := range []string{"paid", "deferred", "settled", "voided", "refund"} {
		used["state."+s] = true
	}
	for _, k := range []string{"nav.language_en", "nav.language_sw", "language.en", "language.sw",
		"settings.printer", "settings.hub", "settings.printer_placeholder", "settings.hub_placeholder",
		"settings.mode_entry", "settings.mode_exit", "settings.mode_counter", "settings.mode_express"} {
		used[k] = true
	}
	// The ids the domain and the store give their messages (terminal.Error's
	// ID) are said as "err.<id>": each must be translated.
	withID := regexp.MustCompile(`\.\s*WithID\("([a-z0-9_]+)"`)
	for _, glob := range []string{"../*.go", "../sqlite/*.go"} {
		files, _ := filepath.Glob(glob)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range withID.FindAllStringSubmatch(string(b), -1) {
				used["err."+m[1]] = true
				if pluralArg(m[1]) != "" {
					used["err."+m[1]+"_one"] = true // said with TN
				}
			}
		}
	}
	delete(used, "sale.number") // an example in a comment
	for k := range used {
		if _, ok := en[k]; !ok {
			t.Errorf("key %q is used but not translated", k)
		}
	}
	for k := range en {
		fyneOwn := k != "" && k[0] >= 'A' && k[0] <= 'Z' // "Cancel", "OK": fyne's dialogs
		if !used[k] && !fyneOwn {
			t.Errorf("key %q is translated but never used", k)
		}
	}
}

// TestSwahili: the kiosk speaks the language setting, refusals included.
func TestSwahili(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Lang = "sw" })
	k := h.k
	sw := translations(t, "sw")
	if got := k.login.pad.ok.Text; got != sw["login.sign_in"] {
		t.Errorf("sign-in button = %q; want %q", got, sw["login.sign_in"])
	}
	h.login(attendant, attendantPIN)
	h.openShift("")
	if got := k.entry.complete.Text; got != "Kamilisha mauzo" {
		t.Errorf("complete button = %q; want Kamilisha mauzo", got)
	}
	h.fits("sw entry gate")
	h.tap(k.nav.exit)
	h.typeIn(k.exit.scan, "not a pass")
	h.enter(k.exit.scan)
	if got, want := k.exit.refusal.Text, pass.Malformed.Message("sw"); got != want {
		t.Errorf("refusal = %q; want %q", got, want)
	}
	h.fits("sw exit lane")
	h.tap(k.nav.super)
	h.typeIn(k.gate.name, "admin")
	h.pin(k.gate.pad, adminPIN)
	h.fits("sw supervisor")
	h.tap(k.super.setBtn)
	h.fits("sw settings")
	h.tap(k.super.done)
	h.tap(k.nav.shift)
	h.tap(k.shiftS.close)
	h.tap(k.shiftS.yes)
	if k.shiftS.z == nil {
		t.Fatalf("sw: shift not closed: %s", k.shiftS.msg.Text)
	}
	h.fits("sw Z-report")
	h.tap(k.shiftS.done)
	h.login(attendant, attendantPIN)
	h.openShift("")
	// Switching to English keeps the session and changes every text.
	h.tap(k.nav.lang)
	if k.op == nil || k.current != k.entry {
		t.Errorf("the language switch lost the session")
	}
	if got := k.entry.complete.Text; got != "Complete sale" {
		t.Errorf("after switching: complete button = %q; want Complete sale", got)
	}
	if v := k.settings["language"]; v != "en" {
		t.Errorf("language setting = %q; want en", v)
	}
	// And back, so other tests start from the default.
	h.tap(k.nav.lang)
	useLanguage("en")
}

// TestTouchTargets: every button of every screen is at least 48 px on
// each side at scale 1.
func TestTouchTargets(t *testing.T) {
	for _, site := range []struct{ cat, site string }{{"kws.json", "NNP"}, {"counters.json", "HUDUMA-GPO"}} {
		db := newStore(t, site.cat, site.site, nil)
		h := newHarnessOn(t, db, "")
		k := h.k
		h.login("admin", adminPIN)
		h.openShift("")
		k.super.begin(k.op)
		screens := map[string]screen{"login": k.login, "shift": k.shiftS, "entry": k.entry, "exit": k.exit, "counter": k.counter, "supervisor": k.super}
		n := 0
		check := func(name string, o fyne.CanvasObject) {
			walk(o, func(o fyne.CanvasObject) {
				var min fyne.Size
				switch b := o.(type) {
				case *button:
					min = b.MinSize()
				case *entry:
					min = b.MinSize()
				default:
					return
				}
				n++
				if min.Width < 48 || min.Height < 48 {
					t.Errorf("%s %s: a target of %v; want ≥ 48×48", site.site, name, min)
				}
			})
		}
		for name, s := range screens {
			check(name, s.content())
		}
		check("status", k.status.box)
		check("nav", k.nav.box)
		check("pass", k.entry.passView)
		check("settings", k.super.settings.box)
		check("gate", k.gate.popup.Content)
		if n < 50 {
			t.Errorf("%s: only %d targets checked", site.site, n)
		}
	}
}

// TestStatusBar shows the sync state, the printer, the operator and shift.
func TestStatusBar(t *testing.T) {
	feed := NewPrinterFeed()
	var now time.Time
	h := newHarness(t, func(o *Options) {
		o.Printer = feed
		o.Sync = func(context.Context) SyncState {
			return SyncState{Online: false, Queued: 12, OldestUnsynced: now.Add(-125 * time.Minute), LastError: "dial tcp: no route"}
		}
	})
	k := h.k
	now = k.o.Now()
	k.RefreshStatus(t.Context())
	contains(t, "sync chip", k.status.sync.text.Text, "Offline · 12 queued · oldest 2 h 5 min")
	contains(t, "printer chip", k.status.printer.text.Text, "Printer: checking")
	feed.Set(printer.State{Status: escpos.Status{Reachable: true, PaperOut: true}, At: now})
	contains(t, "printer chip", k.status.printer.text.Text, "OUT OF PAPER")
	feed.Set(printer.State{Status: escpos.Status{Reachable: true}, At: now})
	contains(t, "printer chip", k.status.printer.text.Text, "Printer: ready")
	contains(t, "operator chip", k.status.who.text.Text, "Nobody signed in")
	h.login(attendant, attendantPIN)
	contains(t, "operator chip", k.status.who.text.Text, "wanjiku · no shift open")
	h.openShift("")
	contains(t, "operator chip", k.status.who.text.Text, "wanjiku · shift since 06:0")
	contains(t, "operator chip's time zone", k.status.who.text.Text, " EAT") // site time, with its zone (issue 18)
	// Closing the window asks for a supervisor.
	k.win.Close()
	if !k.gate.popup.Visible() {
		t.Errorf("closing the window did not ask for a supervisor PIN")
	}
	h.tap(k.gate.cancel)
	h.k.Close()
	if got := len(feed.subs); got != 0 {
		t.Errorf("%d printer subscriptions after Close; want 0", got)
	}
}

// TestKeyboardPath: Enter submits the PIN, the float, a tender field, and a
// focused button; F2 switches lanes.
func TestKeyboardPath(t *testing.T) {
	h := newHarness(t)
	k := h.k
	h.typeIn(k.login.name, attendant)
	h.enter(k.login.name)
	if k.win.Canvas().Focused() != k.login.pad.field {
		t.Errorf("Enter in the name does not move to the PIN")
	}
	h.typeIn(k.login.pad.field, attendantPIN)
	h.enter(k.login.pad.field)
	if k.current != k.shiftS {
		t.Fatalf("Enter in the PIN did not sign in: %s", k.login.msg.Text)
	}
	h.typeIn(k.shiftS.float["KES"], "100")
	h.enter(k.shiftS.float["KES"])
	h.enter(k.shiftS.float["USD"])
	if k.current != k.entry {
		t.Fatalf("Enter in the float did not open the shift: %s", k.shiftS.msg.Text)
	}
	e := k.entry
	h.plus("EAC-ADULT", 1)
	e.tender.btn[terminal.TenderCash].TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if e.tender.kind != terminal.TenderCash {
		t.Fatalf("Enter on the focused Cash button did not choose cash")
	}
	h.typeIn(e.tender.cashGiven, "2000")
	h.enter(e.tender.cashGiven)
	if e.last == nil {
		t.Fatalf("Enter in the cash given did not complete the sale: %s", e.msg.Text)
	}
	h.press(fyne.KeyF2) // through the focused widget, as the window's driver sends it
	if k.current != k.exit || k.win.Canvas().Focused() != k.exit.scan {
		t.Errorf("F2 did not open the exit lane with its scan field focused")
	}
	if !slices.Contains(k.nav.lanes.Objects, fyne.CanvasObject(k.nav.exit)) {
		t.Errorf("the exit lane is not in the navigation")
	}
}

// TestScreensFit: every screen, in both languages, at a gate and at a
// counter, fits the kiosk's 1280×800 screen.
func TestScreensFit(t *testing.T) {
	for _, site := range []struct{ cat, site string }{{"kws.json", "NNP"}, {"counters.json", "HUDUMA-GPO"}} {
		for _, lang := range []string{"en", "sw"} {
			db := newStore(t, site.cat, site.site, nil)
			h := newHarnessOn(t, db, "", func(o *Options) { o.Lang = lang })
			k := h.k
			name := site.site + " " + lang
			h.fits(name + " login")
			h.login("admin", adminPIN)
			h.fits(name + " shift")
			h.openShift("")
			h.fits(name + " home")
			if k.mode != "counter" {
				h.tap(k.nav.exit)
				h.fits(name + " exit")
			}
			h.tap(k.nav.super)
			h.pin(k.gate.pad, adminPIN)
			h.fits(name + " supervisor")
			h.tap(k.super.setBtn)
			h.fits(name + " settings")
			h.tap(k.super.done)
			h.tap(k.nav.shift)
			h.tap(k.shiftS.close)
			h.fits(name + " shift close")
			h.tap(k.shiftS.yes)
			h.fits(name + " Z-report")
		}
	}
	useLanguage("en")
}

// TestStatusBarShowsRefusedCatalogue: a catalogue from the hub that this
// terminal could not use shows in the sync chip, which is no longer green.
func TestStatusBarShowsRefusedCatalogue(t *testing.T) {
	h := newHarness(t, func(o *Options) {
		o.Sync = func(context.Context) SyncState {
			return SyncState{Online: true, CatalogueRefused: "KWS-2025.2"}
		}
	})
	h.k.RefreshStatus(t.Context())
	contains(t, "sync chip", h.k.status.sync.text.Text, "Online · 0 queued · catalogue KWS-2025.2 refused")
	if h.k.status.sync.bg.FillColor != colWarn {
		t.Errorf("sync chip colour %v with a refused catalogue; want the warning colour", h.k.status.sync.bg.FillColor)
	}
}

// TestKioskSwitchesCatalogueBetweenSales: a catalogue sync installs in the
// middle of a sale does not change the sale being keyed; the kiosk takes it
// up as soon as that sale is cleared, without signing anyone out.
func TestKioskSwitchesCatalogueBetweenSales(t *testing.T) {
	h := newHarness(t)
	k := h.k
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	h.plus("EAC-ADULT", 1)
	before := k.entry.total.Text
	old := k.cat

	body := bytes.Replace(readCatalogue(t, "kws.json"), []byte(`"version": "KWS-2024.1"`), []byte(`"version": "KWS-2024.2"`), 1)
	body = bytes.ReplaceAll(body, []byte(`{"KES": 200000}`), []byte(`{"KES": 211100}`)) // an urban park's adult fee
	cat, err := terminal.ParseCatalogue(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.db.LoadCatalogue(t.Context(), cat); err != nil { // as sync's ApplyHubCatalogue does
		t.Fatal(err)
	}
	k.poll(t.Context()) // what the status ticker runs
	if k.cat != old || k.entry.total.Text != before {
		t.Fatalf("mid-sale the kiosk switched catalogue: total %q, was %q", k.entry.total.Text, before)
	}
	h.tap(h.counter("EAC-ADULT").minus)
	k.poll(t.Context()) // what the status ticker runs
	if k.cat == old || k.cat.Version != "KWS-2024.2" {
		t.Fatalf("after the sale was cleared the kiosk still sells on %s", k.cat.Version)
	}
	if k.op == nil || k.shift == nil || k.current != k.entry {
		t.Fatalf("the switch signed the attendant out or left the entry screen: op %v shift %v", k.op, k.shift)
	}
	h.plus("EAC-ADULT", 1)
	if got := k.entry.total.Text; got != "KES 2,111.00" {
		t.Errorf("the next sale's total: %q; want the new catalogue's price (was %q)", got, before)
	}
}

// TestRebuildKeepsTheSyncState: switching language rebuilds the screens;
// the sync chip goes on saying what was last known, not "sync not
// running", until the next poll.
func TestRebuildKeepsTheSyncState(t *testing.T) {
	h := newHarness(t, func(o *Options) {
		o.Sync = func(context.Context) SyncState { return SyncState{Online: true, Queued: 3} }
	})
	h.k.RefreshStatus(t.Context())
	contains(t, "sync chip", h.k.status.sync.text.Text, "Online · 3 queued")
	h.k.switchLanguage("sw")
	contains(t, "sync chip after the rebuild", h.k.status.sync.text.Text, "Mtandaoni · 3 zinasubiri")
}
