package ui

// Programs that run the real kiosk window (GLFW, under X11 or Xvfb) on the
// test binary's main goroutine, as Fyne requires, chosen by environment:
//
//	LANGO_UI_SHOTS=DIR       screenshots of every screen, English and Swahili
//	LANGO_UI_COLDSTART=DIR   first run: make a store in DIR; later runs: time
//	                         from process start to the login's first frame
//	LANGO_UI_SOAK=N          N sales tapped through the real window, then
//	                         the resident memory (VmRSS)
//
// docs/UI.md gives the commands. Without these variables the tests run.

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/lango-pos/lango/printer"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/printing"
	"github.com/lango-pos/lango/terminal/sqlite"
)

func TestMain(m *testing.M) {
	run := func(name string, fn func(string) error) {
		if v := os.Getenv(name); v != "" {
			if err := fn(v); err != nil {
				fmt.Fprintln(os.Stderr, name+":", err)
				os.Exit(1)
			}
			os.Exit(0)
		}
	}
	run("LANGO_UI_SHOTS", runShots)
	run("LANGO_UI_COLDSTART", runColdStart)
	run("LANGO_UI_SOAK", runSoak)
	os.Exit(m.Run())
}

// makeStore creates a terminal store in dir with the admin and an
// attendant, on the fake clock of the tests.
func makeStore(ctx context.Context, dir, catalogue, site string, settings map[string]string) (*sqlite.DB, error) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "catalogues", catalogue))
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "lango.db"))
	if err != nil {
		return nil, err
	}
	db.Now = fakeClock()
	if _, err := db.Init(ctx, terminal.InitRequest{Site: site, Name: "gate-1", Catalogue: b, AdminPIN: adminPIN, Settings: settings}); err != nil {
		db.Close()
		return nil, err
	}
	admin, err := db.Authenticate(ctx, "admin", adminPIN)
	if err != nil {
		db.Close()
		return nil, err
	}
	if _, err := db.AddOperator(ctx, admin, attendant, "attendant", attendantPIN); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// realKiosk is a kiosk in a real window with the emulated printer's
// spool behind it.
type realKiosk struct {
	k      *Kiosk
	db     *sqlite.DB
	spool  *printer.Spool
	cancel context.CancelFunc
	dir    string
}

func openReal(a fyne.App, catalogue, site, lang string) (*realKiosk, error) {
	ctx, cancel := context.WithCancel(context.Background())
	dir, err := os.MkdirTemp("", "lango-ui-")
	if err != nil {
		cancel()
		return nil, err
	}
	prints := filepath.Join(dir, "prints")
	db, err := makeStore(ctx, dir, catalogue, site, map[string]string{"printer": "emulator:" + prints, "language": lang})
	if err != nil {
		cancel()
		return nil, err
	}
	prof, _ := printer.LookupProfile("")
	dev, err := printer.NewEmulatorPrinter(prints, prof, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	feed := NewPrinterFeed()
	spool := printer.NewSpool(&printing.Queue{DB: db, Profile: prof, Lang: lang}, dev,
		printer.SpoolOptions{OnState: feed.Set, Poll: 500 * time.Millisecond})
	spool.Start(ctx)
	r := &realKiosk{db: db, spool: spool, cancel: cancel, dir: dir}
	fyne.DoAndWait(func() {
		r.k = NewKiosk(a, Options{Store: db, Printer: feed, Sync: StoreSync(db, db.Now), Notify: spool.Notify,
			PreviewDir: prints, Now: db.Now, StatusEvery: 300 * time.Millisecond, FullScreen: true})
		r.k.win.Resize(fyne.NewSize(1280, 800))
		r.k.win.Show()
	})
	r.k.Start(ctx)
	return r, nil
}

func (r *realKiosk) close() {
	r.k.Close()
	r.spool.Close()
	r.cancel()
	fyne.DoAndWait(func() { r.k.win.Hide() })
	r.db.Close()
	os.RemoveAll(r.dir)
}

// do runs fn on the UI goroutine and lets a few frames paint.
func do(fn func()) {
	fyne.DoAndWait(fn)
	time.Sleep(250 * time.Millisecond)
}

func tapB(b *button) { b.Tapped(&fyne.PointEvent{}) }

func enterKey(e *entry) { e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) }

// capture writes what is on the X screen (the full-screen kiosk) to
// dir/name.png.
func capture(x *xScreen, dir, name string) error {
	// On a loaded machine Mesa's software GL paints the last change some
	// frames late: without this wait a shot can show the screen before.
	time.Sleep(1500 * time.Millisecond)
	img, err := x.screen()
	if err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, name+".png"))
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	fmt.Println("wrote", f.Name())
	return f.Close()
}

// runApp runs fn beside the app's event loop on the main goroutine, then
// quits.
func runApp(id string, fn func(a fyne.App) error) error {
	a := app.NewWithID(id)
	var err error
	go func() {
		defer fyne.Do(a.Quit)
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		err = fn(a)
	}()
	a.Run()
	return err
}

// runShots captures every screen of the real window in English and
// Swahili into dir.
func runShots(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	x, err := dialX()
	if err != nil {
		return err
	}
	defer x.Close()
	return runApp("ke.lango.terminal.shots", func(a fyne.App) error {
		for _, lang := range []string{"en", "sw"} {
			if err := shootPark(a, x, dir, lang); err != nil {
				return fmt.Errorf("%s park: %w", lang, err)
			}
			if err := shootCounter(a, x, dir, lang); err != nil {
				return fmt.Errorf("%s counter: %w", lang, err)
			}
		}
		return nil
	})
}

func shootPark(a fyne.App, x *xScreen, dir, lang string) error {
	r, err := openReal(a, "kws.json", "NNP", lang)
	if err != nil {
		return err
	}
	defer r.close()
	k := r.k
	shot := func(name string) error { return capture(x, dir, lang+"-"+name) }
	// login: the name tapped, two digits keyed
	do(func() {
		k.login.pick(attendant)
		tapB(k.login.pad.digits[2])
		tapB(k.login.pad.digits[4])
	})
	if err := shot("login"); err != nil {
		return err
	}
	do(func() {
		k.login.pad.field.SetText(attendantPIN)
		tapB(k.login.pad.ok)
		k.shiftS.float["KES"].SetText("5000")
	})
	if k.current != k.shiftS {
		return fmt.Errorf("login failed: %s", k.login.msg.Text)
	}
	if err := shot("shift-open"); err != nil {
		return err
	}
	// the entry gate, a family car keyed, cash given
	e := k.entry
	do(func() {
		tapB(k.shiftS.open)
		e.plate.SetText("KCB 123A")
		for _, c := range e.counters {
			switch c.code {
			case "EAC-ADULT", "EAC-CHILD":
				tapB(c.plus)
				tapB(c.plus)
			}
		}
		tapB(e.vbtn["CAR"])
		// A grandmother of 70, free on showing her ID.
		tapB(e.exempt.exBtn["SENIOR70"])
		tapB(e.exempt.whoBtn["EAC-ADULT"])
		e.exempt.evidence.SetText("ID 12345678")
		tapB(e.exempt.add)
		tapB(e.tender.btn[terminal.TenderCash])
		e.tender.cashGiven.SetText("6000")
	})
	if err := shot("entry"); err != nil {
		return err
	}
	do(func() { tapB(e.complete) })
	if e.last == nil {
		return fmt.Errorf("sale failed: %s", e.msg.Text)
	}
	time.Sleep(1500 * time.Millisecond) // the spool prints, the preview shows
	if err := shot("entry-pass"); err != nil {
		return err
	}
	// a tour van deferred, settled at the exit lane
	do(func() {
		e.plate.SetText("KDA 123A")
		for _, c := range e.counters {
			n := map[string]int{"INT-ADULT": 2, "INT-CHILD": 3}[c.code]
			for range n {
				tapB(c.plus)
			}
		}
		tapB(e.vbtn["TOUR-VAN"])
		tapB(e.tender.btn[terminal.TenderDefer])
	})
	if err := shot("entry-defer"); err != nil {
		return err
	}
	do(func() { tapB(e.complete) })
	van := e.last.Sale
	do(func() {
		tapB(k.nav.exit)
		k.exit.scan.SetText(van.Pass)
		enterKey(k.exit.scan)
		tapB(k.exit.tender.btn[terminal.TenderMpesa])
		k.exit.tender.mpesa.SetText("SG722NMVXQ")
	})
	if err := shot("exit"); err != nil {
		return err
	}
	do(func() { tapB(k.exit.settle) })
	if err := shot("exit-settled"); err != nil {
		return err
	}
	do(func() {
		k.exit.scan.SetText("LG1:1234567890")
		enterKey(k.exit.scan)
	})
	if err := shot("exit-refused"); err != nil {
		return err
	}
	// the supervisor
	do(func() {
		tapB(k.nav.super)
		k.gate.name.SetText("admin")
		k.gate.pad.field.SetText("12")
	})
	if err := shot("supervisor-pin"); err != nil {
		return err
	}
	do(func() {
		k.gate.pad.field.SetText(adminPIN)
		tapB(k.gate.pad.ok)
		k.super.selectSale(e.last.Sale.ID)
		k.super.reason.SetText("wrong category keyed")
	})
	if err := shot("supervisor"); err != nil {
		return err
	}
	do(func() {
		tapB(k.super.setBtn)
		k.super.settings.fields["hub"].SetText("ftp://hub")
		tapB(k.super.settings.save["hub"])
	})
	if err := shot("settings"); err != nil {
		return err
	}
	do(func() {
		tapB(k.super.done)
		tapB(k.nav.shift)
		k.shiftS.counted["KES"].SetText("10300")
		tapB(k.shiftS.close)
	})
	if err := shot("shift-close"); err != nil {
		return err
	}
	do(func() { tapB(k.shiftS.yes) })
	if k.shiftS.z == nil {
		return fmt.Errorf("close failed: %s", k.shiftS.msg.Text)
	}
	return shot("z-report")
}

func shootCounter(a fyne.App, x *xScreen, dir, lang string) error {
	r, err := openReal(a, "counters.json", "HUDUMA-GPO", lang)
	if err != nil {
		return err
	}
	defer r.close()
	k := r.k
	c := k.counter
	do(func() {
		k.login.pick(attendant)
		k.login.pad.field.SetText(attendantPIN)
		tapB(k.login.pad.ok)
		tapB(k.shiftS.open)
		c.search.SetText("cert")
		c.add("BIRTH-CERT")
		c.add("BIRTH-CERT")
		c.add("GOOD-CONDUCT")
		tapB(c.tender.btn[terminal.TenderCash])
		c.tender.cashGiven.SetText("1500")
	})
	if k.current != k.counter {
		return fmt.Errorf("not at the counter: %s %s", k.login.msg.Text, k.shiftS.msg.Text)
	}
	if err := capture(x, dir, lang+"-counter"); err != nil {
		return err
	}
	do(func() { tapB(c.complete) })
	time.Sleep(1500 * time.Millisecond) // the spool prints, the preview shows
	return capture(x, dir, lang+"-counter-receipt")
}

// sinceStart is how long ago this process started: /proc/self/stat's
// start time against /proc/uptime, both in clock ticks of 10 ms.
func sinceStart() (time.Duration, error) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 20 {
		return 0, errors.New("short /proc/self/stat")
	}
	ticks, err := strconv.ParseInt(f[19], 10, 64) // field 22: starttime
	if err != nil {
		return 0, err
	}
	up, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0, err
	}
	secs, err := strconv.ParseFloat(strings.Fields(string(up))[0], 64)
	if err != nil {
		return 0, err
	}
	return time.Duration(secs*float64(time.Second)) - time.Duration(ticks)*10*time.Millisecond, nil
}

// near reports whether c is want, give or take a little.
func near(c, want color.NRGBA) bool {
	d := func(a, b uint8) bool { v := int(a) - int(b); return v > -12 && v < 12 }
	return d(c.R, want.R) && d(c.G, want.G) && d(c.B, want.B)
}

// loginPainted reports whether the screen shows the kiosk: its dark status
// bar at the top and its white page below.
func loginPainted(x *xScreen) bool {
	top, err := x.pixel(3, 3)
	if err != nil || !near(top, colBar) {
		return false
	}
	page, err := x.pixel(x.width/2, x.height-20)
	return err == nil && near(page, colPaper)
}

// runColdStart prepares a store in dir, or times the kiosk's start on it:
// the same steps as Run, from process start to the first frame that shows
// the login screen.
func runColdStart(dir string) error {
	ctx := context.Background()
	path := filepath.Join(dir, "lango.db")
	if _, err := os.Stat(path); err != nil {
		db, err := makeStore(ctx, dir, "kws.json", "NNP", nil)
		if err != nil {
			return err
		}
		fmt.Println("store prepared in", dir, "- run again to measure")
		return db.Close()
	}
	x, err := dialX()
	if err != nil {
		return err
	}
	defer x.Close()
	if loginPainted(x) {
		return errors.New("a kiosk is on the screen already")
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	a := app.NewWithID("ke.lango.terminal")
	k := NewKiosk(a, Options{Store: db, FullScreen: true})
	k.Start(ctx)
	defer k.Close()
	var result error
	go func() {
		defer fyne.Do(a.Quit)
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if loginPainted(x) {
				d, err := sinceStart()
				if err != nil {
					result = err
					return
				}
				fmt.Printf("cold start: process start to the login screen's first frame: %d ms\n", d.Milliseconds())
				if t0 := os.Getenv("LANGO_T0"); t0 != "" {
					if ns, err := strconv.ParseInt(t0, 10, 64); err == nil {
						fmt.Printf("cold start: LANGO_T0 to first frame: %d ms\n", time.Since(time.Unix(0, ns)).Milliseconds())
					}
				}
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
		result = errors.New("the login screen never painted")
	}()
	k.win.ShowAndRun()
	return result
}

// vmRSS is the resident memory of this process in KiB.
func vmRSS() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return -1
}

// runSoak taps n family-car sales through the real window, each painted,
// and reports the resident memory.
func runSoak(arg string) error {
	n, err := strconv.Atoi(arg)
	if err != nil || n < 1 {
		return fmt.Errorf("LANGO_UI_SOAK=%q: want a number of sales", arg)
	}
	return runApp("ke.lango.terminal.soak", func(a fyne.App) error {
		r, err := openReal(a, "kws.json", "NNP", "en")
		if err != nil {
			return err
		}
		defer r.close()
		k := r.k
		do(func() {
			k.login.pick(attendant)
			k.login.pad.field.SetText(attendantPIN)
			tapB(k.login.pad.ok)
			tapB(k.shiftS.open)
		})
		e := k.entry
		start := time.Now()
		fmt.Printf("before the first sale: VmRSS %d KiB\n", vmRSS())
		for i := 1; i <= n; i++ {
			var failed string
			fyne.DoAndWait(func() {
				e.plate.SetText("KCB " + strconv.Itoa(100+i%900) + "A")
				for _, c := range e.counters {
					if c.code == "EAC-ADULT" || c.code == "EAC-CHILD" {
						tapB(c.plus)
						tapB(c.plus)
					}
				}
				tapB(e.vbtn["CAR"])
				tapB(e.tender.btn[terminal.TenderCash])
				tapB(e.complete)
				if !e.passView.Visible() {
					failed = e.msg.Text
				}
			})
			if failed != "" {
				return fmt.Errorf("sale %d: %s", i, failed)
			}
			time.Sleep(20 * time.Millisecond) // let the pass paint
			if i%(max(n/4, 1)) == 0 {
				fmt.Printf("after %d sales: VmRSS %d KiB\n", i, vmRSS())
			}
		}
		fmt.Printf("%d sales in %s through the real window: VmRSS %d KiB\n", n, time.Since(start).Round(time.Second), vmRSS())
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Printf("after a GC returning free memory to the OS: VmRSS %d KiB; Go heap in use %d KiB, held %d KiB\n",
			vmRSS(), ms.HeapInuse/1024, (ms.HeapSys-ms.HeapReleased)/1024)
		return nil
	})
}
