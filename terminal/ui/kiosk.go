// Package ui is Lango's kiosk: a Fyne touch UI for the entry gate, the exit
// lane and the service counter, over the terminal's store.
//
// Screens are structs that keep their widgets as fields, built from a
// fyne.App passed in, so tests build them with test.NewTempApp and drive
// them with test.Tap and test.Type. Store calls run in the event handler
// that asks for them (a sale is committed before its pass is shown); the
// status worker updates the screen through fyne.Do only.
package ui

import (
	"context"
	"errors"
	"image"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/lango-pos/lango/assets"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/carddesk"
	"github.com/lango-pos/lango/terminal/pass"
)

// opTimeout bounds one store call made for the attendant.
const opTimeout = 20 * time.Second

// screen is one of the kiosk's screens.
type screen interface {
	content() fyne.CanvasObject
	// shown is called each time the screen is made visible.
	shown()
}

// Kiosk is the terminal's window and its screens.
type Kiosk struct {
	app fyne.App
	win fyne.Window
	o   Options

	lang     string
	mode     string // the home screen: entry, exit, counter or express
	ident    terminal.Identity
	cat      *terminal.Catalogue
	settings map[string]string
	fatal    error // the store could not be read: nothing works

	// the session
	op    *terminal.Operator
	shift *terminal.Shift

	status  *statusBar
	nav     *navBar
	body    *fyne.Container
	login   *loginScreen
	shiftS  *shiftScreen
	entry   *entryScreen
	exit    *exitScreen
	counter *counterScreen
	tickets *ticketScreen // passes and prepaid tickets (tickets.go): the express lane
	super   *superScreen
	gate    *supervisorGate
	prompt  *confirmPrompt // the last confirmation asked
	current screen
	quit    func() // closes the kiosk: the app's Quit (tests record it)

	// preview is the printed-pass image the worker looks for.
	previewMu    sync.Mutex
	cards        sync.WaitGroup // card charges under way (tests wait)
	previewAfter time.Time      // zero: none wanted
	previewShow  func(img image.Image)
	printJob     string // the print job whose slip the screen says is printing
	printDone    func() // says it printed, once the spool has marked the job

	unsubscribe func()
	stop        chan struct{}
	wg          sync.WaitGroup
	closeOnce   sync.Once
}

// Run opens the kiosk's full-screen window on a new Fyne app and blocks
// until a supervisor quits it or ctx is done. It must be called from the
// main goroutine (Fyne's rule). The caller opened the store and started the
// spool and the sync worker.
func Run(ctx context.Context, o Options) error {
	if o.Store == nil {
		return errors.New("ui: no store")
	}
	a := app.NewWithID("ke.lango.terminal")
	k := NewKiosk(a, o)
	k.Start(ctx)
	defer k.Close()
	stop := context.AfterFunc(ctx, func() { fyne.Do(a.Quit) })
	defer stop()
	k.win.ShowAndRun()
	return nil
}

// NewKiosk builds the kiosk's window and screens on a, showing the login
// screen. It starts no goroutine: Start does.
func NewKiosk(a fyne.App, o Options) *Kiosk {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.StatusEvery <= 0 {
		o.StatusEvery = 2 * time.Second
	}
	k := &Kiosk{app: a, o: o, stop: make(chan struct{}), quit: a.Quit}
	a.Settings().SetTheme(kioskTheme{})
	a.SetIcon(fyne.NewStaticResource("lango.svg", assets.Icon()))
	k.win = a.NewWindow("Lango")
	k.win.SetPadded(false)
	k.win.Resize(fyne.NewSize(1280, 800))
	if o.FullScreen {
		k.win.SetFullScreen(true)
	}
	k.win.SetCloseIntercept(func() { k.askQuit() })
	k.load()
	lang := o.Lang
	if lang == "" {
		lang = k.settings["language"]
	}
	k.setLanguage(lang)
	if o.Printer != nil {
		k.unsubscribe = o.Printer.Subscribe(func(s printerState) {
			fyne.Do(func() { k.status.setPrinter(s) })
		})
	}
	return k
}

// load reads who this terminal is, its settings and catalogue.
func (k *Kiosk) load() {
	ctx, cancel := k.ctx()
	defer cancel()
	var err error
	if k.ident, err = k.o.Store.Identity(ctx); err != nil {
		k.fatal = err
		k.settings = terminal.DefaultSettings()
		return
	}
	if k.settings, err = k.o.Store.Settings(ctx); err != nil {
		k.fatal = err
		k.settings = terminal.DefaultSettings()
		return
	}
	if k.cat, err = k.o.Store.Catalogue(ctx); err != nil {
		k.fatal = err
		return
	}
	k.mode = k.settings["mode"]
}

// ctx is the context of one store call made for the attendant: a UI event
// has no context of its own, so each call gets a deadline.
func (k *Kiosk) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), opTimeout)
}

// Window is the kiosk's window.
func (k *Kiosk) Window() fyne.Window { return k.win }

// base is the catalogue's base currency.
func (k *Kiosk) base() terminal.Currency {
	if k.cat == nil {
		return "KES"
	}
	return k.cat.BaseCurrency
}

// setLanguage switches every text to lang and rebuilds the screens,
// keeping the session.
func (k *Kiosk) setLanguage(lang string) {
	if lang != "sw" {
		lang = "en"
	}
	if err := useLanguage(lang); err != nil {
		fyne.LogError("language", err)
	}
	k.lang = lang
	k.build()
}

// build makes every screen in the current language and shows the one the
// session is at.
func (k *Kiosk) build() {
	prev := k.status
	k.status = newStatusBar(k)
	if prev != nil && prev.syncSt != nil {
		// A rebuild (a setting saved, the language switched, a new
		// catalogue) keeps what is known of the sync: no false "offline"
		// until the next poll.
		k.status.setSync(*prev.syncSt)
	}
	k.nav = newNavBar(k)
	k.login = newLoginScreen(k)
	k.shiftS = newShiftScreen(k)
	k.entry = newEntryScreen(k)
	k.exit = newExitScreen(k)
	k.tickets = newTicketScreen(k)
	k.counter = newCounterScreen(k)
	k.super = newSuperScreen(k)
	k.gate = newSupervisorGate(k)
	k.body = container.NewStack()
	top := container.NewVBox(k.status.box, k.nav.box)
	k.win.SetContent(container.NewBorder(top, nil, nil, nil, k.body))
	k.win.Canvas().SetOnTypedKey(k.typedKey)
	k.win.Canvas().SetOnTypedRune(k.typedRune)
	for _, s := range []screen{k.login, k.shiftS, k.entry, k.exit, k.counter, k.super, k.tickets} {
		k.adopt(s.content())
	}
	k.adopt(k.status.box)
	k.adopt(k.nav.box)
	k.adopt(k.gate.popup.Content)
	k.adopt(k.super.settings.box) // shown in the supervisor's screen on demand
	if k.fatal != nil {
		msg := newMessage()
		msg.bad(T("kiosk.broken", "Error", terminal.ErrorMessage(k.fatal)))
		k.body.Objects = []fyne.CanvasObject{container.NewPadded(msg.Label)}
		k.body.Refresh()
		return
	}
	switch {
	case k.op == nil:
		k.show(k.login)
	case k.shift == nil:
		k.show(k.shiftS)
	default:
		k.goHome()
	}
}

// show makes s the visible screen.
func (k *Kiosk) show(s screen) {
	if k.fatal != nil {
		return
	}
	k.current = s
	k.body.Objects = []fyne.CanvasObject{s.content()}
	k.body.Refresh()
	k.nav.update()
	k.status.update()
	s.shown()
}

// home is the screen of the terminal's mode.
func (k *Kiosk) home() screen {
	switch k.mode {
	case "exit":
		return k.exit
	case "counter":
		return k.counter
	case "express":
		return k.tickets
	}
	return k.entry
}

func (k *Kiosk) goHome() { k.show(k.home()) }

// signedIn starts a session for op and goes home, or to the shift screen
// when op has no shift open.
func (k *Kiosk) signedIn(op *terminal.Operator) error {
	ctx, cancel := k.ctx()
	defer cancel()
	sh, err := k.o.Store.CurrentShift(ctx, op)
	if err != nil && terminal.ErrorKind(err) != terminal.ECONFLICT {
		return err
	}
	k.op, k.shift = op, sh
	if cat, err := k.o.Store.Catalogue(ctx); err == nil && cat != k.cat {
		k.cat = cat
		k.build() // prices and buttons come from the catalogue
		return nil
	}
	if sh == nil {
		k.show(k.shiftS)
	} else {
		k.goHome()
	}
	return nil
}

// logout ends the session.
func (k *Kiosk) logout() {
	k.op, k.shift = nil, nil
	k.entry.clearSale()
	k.show(k.login)
}

// cashCurrencies are those a drawer takes: the base currency and every
// currency the catalogue has a rate for.
func (k *Kiosk) cashCurrencies() []terminal.Currency {
	if k.cat == nil {
		return []terminal.Currency{k.base()}
	}
	return k.cat.CashCurrencies()
}

// printed tells the spool a job waits.
func (k *Kiosk) printed(job string) {
	if job != "" && k.o.Notify != nil {
		k.o.Notify()
	}
}

// askQuit asks for a supervisor's PIN before the kiosk closes: an
// attendant cannot leave the kiosk.
func (k *Kiosk) askQuit() {
	k.gate.open(T("quit.why"), func(*terminal.Operator) { k.quit() })
}

// adopt makes the function keys work while any entry or button under o
// has focus, and lets the entries hand a scanned pass to the pass check.
func (k *Kiosk) adopt(o fyne.CanvasObject) {
	walk(o, func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *entry:
			x.k = k
		case *button:
			x.k = k
		}
	})
}

// isFunctionKey reports whether name is one of the kiosk's function keys.
func isFunctionKey(name fyne.KeyName) bool {
	switch name {
	case fyne.KeyF1, fyne.KeyF2, fyne.KeyF3, fyne.KeyF4, fyne.KeyF12:
		return true
	}
	return false
}

// typedRune takes what is typed while no widget has focus: on the exit
// lane it goes to the scan field, so a keyboard-wedge scan after a stray
// tap is not lost; at the entry gate to the plate.
func (k *Kiosk) typedRune(r rune) {
	if k.op == nil || k.fatal != nil || len(k.win.Canvas().Overlays().List()) > 0 {
		return
	}
	switch k.current {
	case k.exit:
		k.win.Canvas().Focus(k.exit.scan)
		k.exit.scan.TypedRune(r)
	case k.tickets:
		k.win.Canvas().Focus(k.tickets.scan)
		k.tickets.scan.TypedRune(r)
	case k.entry:
		// the plate, typed after a tap on + or a vehicle; a pass's text
		// goes on from there to the exit lane's check (divertScan)
		k.win.Canvas().Focus(k.entry.plate)
		k.entry.plate.TypedRune(r)
	}
}

// divertScan moves a pass's text typed into e (a field other than the
// scan field: the plate, a tender's code) to the exit lane's scan field,
// where the scanner's Enter checks it. What e held before the pass's
// prefix stays in e.
func (k *Kiosk) divertScan(e *entry) {
	if k.divertTicket(e) { // a prepaid ticket, or any scan at the express lane (tickets.go)
		return
	}
	i := strings.Index(e.Text, pass.TextPrefix)
	if i < 0 || k.op == nil || k.shift == nil || k.fatal != nil {
		return
	}
	if len(k.win.Canvas().Overlays().List()) > 0 { // a prompt is open: the lane behind it is not the attendant's
		return
	}
	text := e.Text[i:]
	e.SetText(e.Text[:i])
	if k.current != k.exit {
		k.show(k.exit)
	}
	scan := k.exit.scan
	scan.SetText(text)
	scan.CursorRow, scan.CursorColumn = 0, utf8.RuneCountInString(text)
	scan.Refresh()
	k.win.Canvas().Focus(scan)
}

// typedKey handles keys no widget took: F1 home, F2 the other lane, F3 the
// shift, F4 the supervisor, F12 the language.
func (k *Kiosk) typedKey(ev *fyne.KeyEvent) {
	if k.op == nil || k.fatal != nil {
		return
	}
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		// a scan's Enter after its text lost the focus
		if k.current == k.exit && k.exit.scan.Text != "" {
			k.exit.checkPass()
		}
	case fyne.KeyF1:
		k.nav.tapHome()
	case fyne.KeyF2:
		k.nav.tapOther()
	case fyne.KeyF3:
		k.show(k.shiftS)
	case fyne.KeyF4:
		k.nav.super.Tapped(nil)
	case fyne.KeyF12:
		k.nav.lang.Tapped(nil)
	}
}

// Start runs the status worker: it polls the sync state and looks for the
// printed pass's image. ctx bounds the worker; so does Close.
func (k *Kiosk) Start(ctx context.Context) {
	if k.o.Scans != nil {
		k.wg.Add(1)
		go func() {
			defer k.wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case <-k.stop:
					return
				case text, ok := <-k.o.Scans:
					if !ok {
						return
					}
					fyne.Do(func() { k.Scanned(text) })
				}
			}
		}()
	}
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		t := time.NewTicker(k.o.StatusEvery)
		defer t.Stop()
		for {
			k.poll(ctx)
			select {
			case <-ctx.Done():
				return
			case <-k.stop:
				return
			case <-t.C:
			}
		}
	}()
}

// poll reads the slow sources off the UI goroutine and hands the results
// to it.
func (k *Kiosk) poll(ctx context.Context) {
	var st *SyncState
	if k.o.Sync != nil {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		s := k.o.Sync(c)
		cancel()
		st = &s
	}
	img, show := k.findPreview()
	printed := k.findPrinted(ctx)
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	cat, catErr := k.o.Store.Catalogue(c)
	cancel()
	fyne.Do(func() {
		if st != nil {
			k.status.setSync(*st)
		}
		if catErr == nil && cat != nil && cat != k.cat {
			k.switchCatalogue(cat)
		}
		k.status.update()
		if img != nil && show != nil {
			show(img)
		}
		if printed != nil {
			printed()
		}
	})
}

// switchCatalogue takes up a catalogue sync installed, between sales: at
// once when the attendant's screen holds no sale being keyed, no pass
// being settled and no supervisor prompt; otherwise at the next poll after
// it does. The screens are rebuilt, since prices and buttons come from the
// catalogue.
func (k *Kiosk) switchCatalogue(cat *terminal.Catalogue) {
	if k.fatal != nil || !k.betweenSales() {
		return
	}
	k.cat = cat
	k.build()
}

// betweenSales reports whether rebuilding the screens loses nothing the
// attendant has keyed or is showing.
func (k *Kiosk) betweenSales() bool {
	if len(k.win.Canvas().Overlays().List()) > 0 { // a supervisor prompt or another pop-up is open
		return false
	}
	switch k.current {
	case k.login, nil:
		return true
	case k.entry:
		return k.entry.empty()
	case k.counter:
		return len(k.counter.cart) == 0
	case k.exit:
		return k.exit.quote == nil && k.exit.text == ""
	}
	return false
}

// Close stops the worker and the printer subscription.
func (k *Kiosk) Close() error {
	k.closeOnce.Do(func() {
		close(k.stop)
		if k.unsubscribe != nil {
			k.unsubscribe()
		}
	})
	k.wg.Wait()
	return nil
}

// RefreshStatus reads the sync state now (tests and the first frame).
func (k *Kiosk) RefreshStatus(ctx context.Context) {
	if k.o.Sync != nil {
		k.status.setSync(k.o.Sync(ctx))
	}
	k.status.update()
}

// errorf is an invalid-input error with a translated message.
func errorf(key string, kv ...any) error {
	return terminal.Errorf(terminal.EINVALID, "%s", T(key, kv...))
}

// shiftLabel describes the session for the status bar.
func (k *Kiosk) shiftLabel() string {
	if k.op == nil {
		return T("status.signed_out")
	}
	if k.shift == nil {
		return T("status.no_shift", "Name", k.op.Name)
	}
	return T("status.shift", "Name", k.op.Name, "Time", k.shift.OpenedAt.In(k.loc()).Format("15:04 MST"))
}

// loc is the time zone times are shown in: the catalogue's.
func (k *Kiosk) loc() *time.Location {
	if k.cat != nil && k.cat.Location() != nil {
		return k.cat.Location()
	}
	return time.Local
}

// lineName is a sale line's item in the kiosk's language: the line keeps
// the English name it was priced with.
func (k *Kiosk) lineName(l terminal.Line) string {
	if k.cat == nil {
		return l.Name
	}
	switch l.Kind {
	case "entry":
		return k.cat.CategoryName(l.Category, k.lang) + ", " + k.cat.BandName(l.Band, k.lang)
	case "vehicle":
		for _, v := range k.cat.Vehicles {
			if v.Code == l.Code {
				return v.Name.In(k.lang)
			}
		}
	case "service":
		for _, sv := range k.cat.Services {
			if sv.Code == l.Code {
				return sv.Name.In(k.lang)
			}
		}
	}
	return l.Name
}

// Scanned takes a pass read by a serial scanner: it goes to the exit lane
// and is checked as if typed there. With nobody signed in, or no open
// shift, it is ignored (the scanner beeped; nothing happens on screen).
// Call it on the UI goroutine.
func (k *Kiosk) Scanned(text string) {
	if k.op == nil || k.shift == nil || k.fatal != nil {
		return
	}
	if k.scannedTicket(text) {
		return
	}
	if k.mode == "express" {
		k.tickets.show(text)
		return
	}
	if k.current != k.exit {
		k.show(k.exit)
	}
	k.exit.scan.SetText(text)
	k.exit.checkPass()
}

// cardTimeout bounds a charge on the PDQ: the customer has that long to
// present the card and key the PIN.
const cardTimeout = 2 * time.Minute

// paySale records req and calls sold with it on the UI goroutine, or
// refused with why not. A sale with a card tender for the integrated PDQ
// goes to the card desk (charge, record, clear the pending charge) off the
// UI goroutine, behind the card modal.
func (k *Kiosk) paySale(req terminal.SaleRequest, sold func(*terminal.SaleResult), refused func(error)) {
	op := k.op
	if k.o.Card == nil || !carddesk.HasIntegratedCard(req.Tenders) {
		ctx, cancel := k.ctx()
		defer cancel()
		res, err := k.o.Store.SellSigned(ctx, op, req)
		if err != nil {
			refused(err)
			return
		}
		sold(res)
		return
	}
	// The card is charged for the total the attendant read out: if the
	// store's catalogue prices it otherwise now, the desk refuses before
	// the charge.
	if k.cat != nil {
		if p, err := k.cat.Price(k.o.Now(), k.ident.Site, req.Lines); err == nil {
			req.Quoted = p.Totals
		}
	}
	chargeCard(k, func(ctx context.Context, announce func(terminal.Money)) (*terminal.SaleResult, error) {
		return k.o.Card.Sell(ctx, op, req, announce)
	}, sold, refused)
}

// paySettlement is paySale for the settlement of a deferred pass.
func (k *Kiosk) paySettlement(text string, tenders []terminal.TenderRequest, settled func(*terminal.SettleResult), refused func(error)) {
	op := k.op
	if k.o.Card == nil || !carddesk.HasIntegratedCard(tenders) {
		ctx, cancel := k.ctx()
		defer cancel()
		res, err := k.o.Store.Settle(ctx, op, text, tenders)
		if err != nil {
			refused(err)
			return
		}
		settled(res)
		return
	}
	chargeCard(k, func(ctx context.Context, announce func(terminal.Money)) (*terminal.SettleResult, error) {
		return k.o.Card.Settle(ctx, op, text, tenders, announce)
	}, settled, refused)
}

// chargeCard runs pay (the card desk: the customer's card, some seconds,
// then the store) off the UI goroutine, behind a modal that tells the
// attendant the amount and can cancel the charge, then calls done or
// refused on the UI goroutine with what it gave.
func chargeCard[R any](k *Kiosk, pay func(ctx context.Context, announce func(terminal.Money)) (R, error), done func(R), refused func(error)) {
	ctx, cancel := context.WithTimeout(context.Background(), cardTimeout)
	say := widget.NewLabel(T("card.wait")) // its lines break where the text says
	stop := newButton(T("card.cancel"), cancel)
	box := container.NewVBox(heading(T("card.title")), say, stop)
	pop := widget.NewModalPopUp(box, k.win.Canvas())
	fit := func() { pop.Resize(box.MinSize().Max(fyne.NewSize(480, 0))) }
	fit()
	pop.Show()
	k.cards.Add(1)
	go func() {
		defer k.cards.Done()
		res, err := pay(ctx, func(m terminal.Money) {
			fyne.Do(func() {
				say.SetText(T("card.present", "Amount", m.String()))
				fit()
			})
		})
		cancel()
		fyne.Do(func() {
			pop.Hide()
			if err != nil {
				refused(err)
				return
			}
			done(res)
		})
	}()
}
