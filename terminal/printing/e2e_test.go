package printing_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lango-pos/lango/internal/pty"
	"github.com/lango-pos/lango/printer"
	"github.com/lango-pos/lango/printer/emulator"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/printing"
	"github.com/lango-pos/lango/terminal/sqlite"
)

func TestMain(m *testing.M) {
	if path := os.Getenv("LANGO_PRINT_CHILD"); path != "" {
		printChild(path)
		return
	}
	os.Exit(m.Run())
}

// printChild prints what waits in the spool of the store at path, then
// sleeps: the parent kills it in the middle of the job.
func printChild(path string) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sp, err := spoolFor(ctx, db)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Stdout.WriteString("PRINTING\n")
	sp.PrintPending(ctx)
	os.Stdout.WriteString("DONE\n")
	time.Sleep(time.Hour)
}

func spoolFor(ctx context.Context, db *sqlite.DB) (*printer.Spool, error) {
	spec, err := db.Setting(ctx, "printer")
	if err != nil {
		return nil, err
	}
	dev, err := printer.Open(spec, printer.Options{DoneTimeout: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	q := &printing.Queue{DB: db, Profile: dev.Profile(), Lang: "en"}
	return printer.NewSpool(q, dev, printer.SpoolOptions{}), nil
}

type gate struct {
	db    *sqlite.DB
	path  string
	op    *terminal.Operator
	em    *emulator.Emulator
	out   string
	link  string
	close func()
}

// newGate makes a terminal whose printer is a serial port: the terminal side
// of a pseudo-terminal, with the printer emulator on the device side.
func newGate(t *testing.T, profile, baud string) *gate {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	prof, err := printer.LookupProfile(profile)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{out: t.TempDir()}
	g.em, err = printer.NewEmulator(prof, g.out, false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	pair, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	g.link = filepath.Join(t.TempDir(), "ttyPRINTER")
	if err := pair.Link(g.link); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { printer.ServePair(ctx, pair, g.em); close(done) }()
	g.path = filepath.Join(t.TempDir(), "lango.db")
	g.db, err = sqlite.Open(ctx, g.path)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := os.ReadFile("../../testdata/catalogues/kws.json")
	if err != nil {
		t.Fatal(err)
	}
	spec := fmt.Sprintf("serial:%s?baud=%s&profile=%s", g.link, baud, profile)
	if _, err := g.db.Init(ctx, terminal.InitRequest{Site: "NNP", Name: "gate-1", Catalogue: cat, AdminPIN: "1234", Settings: map[string]string{"printer": spec}}); err != nil {
		t.Fatal(err)
	}
	if g.op, err = g.db.Authenticate(ctx, "admin", "1234"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.db.OpenShift(ctx, g.op, terminal.Totals{"KES": 100000}); err != nil {
		t.Fatal(err)
	}
	g.close = func() { g.db.Close(); cancel(); <-done; pair.Close() }
	t.Cleanup(g.close)
	return g
}

func (g *gate) sellVan(t *testing.T) *terminal.Sale {
	t.Helper()
	ctx := context.Background()
	iss, err := g.db.PassIssuer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.db.Sell(ctx, g.op, terminal.SaleRequest{
		Lines:   []terminal.LineRequest{{Code: "INT-ADULT", Qty: 2}, {Code: "INT-CHILD", Qty: 3}, {Code: "TOUR-VAN", Qty: 1}},
		Vehicle: "KDA 123A", Tenders: []terminal.TenderRequest{{Kind: terminal.TenderDefer}}}, iss)
	if err != nil {
		t.Fatal(err)
	}
	if res.PrintJob == "" {
		t.Fatal("no print job queued with the sale")
	}
	return res.Sale
}

func (g *gate) pngs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(g.out, "*.png"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func zbar(t *testing.T, png string) string {
	t.Helper()
	if _, err := exec.LookPath("zbarimg"); err != nil {
		t.Skip("zbarimg not installed (make test installs zbar-tools)")
	}
	out, err := exec.Command("zbarimg", "--quiet", "--raw", png).Output()
	if err != nil {
		t.Fatalf("zbarimg %s: %v", png, err)
	}
	return strings.TrimRight(string(out), "\n")
}

// TestSoldPassPrintsAndDecodes: the terminal sells a pass, the spool prints
// it over a real pseudo-terminal to the emulator, and zbarimg reads back
// exactly the pass text, for a native-QR printer and a raster one.
func TestSoldPassPrintsAndDecodes(t *testing.T) {
	for _, tt := range []struct{ profile, qr string }{{"epson-tm-t20", "native"}, {"generic58", "raster"}} {
		t.Run(tt.profile, func(t *testing.T) {
			g := newGate(t, tt.profile, "115200")
			sale := g.sellVan(t)
			ctx := context.Background()
			sp, err := spoolFor(ctx, g.db)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := sp.PrintPending(ctx); err != nil || n != 1 {
				t.Fatalf("PrintPending = %d, %v; want 1 job printed", n, err)
			}
			files := g.pngs(t)
			if len(files) != 1 {
				t.Fatalf("%d pages; want 1", len(files))
			}
			if got := zbar(t, files[0]); got != sale.Pass {
				t.Fatalf("printed QR (%s) reads %q; want the pass %q", tt.qr, got, sale.Pass)
			}
			if n, _ := g.db.PendingPrintJobs(ctx); n != 0 {
				t.Errorf("%d jobs still pending", n)
			}
		})
	}
}

// TestPaperOut: with the paper out the sale still completes and is durable,
// its job waits; with paper back it prints exactly once.
func TestPaperOut(t *testing.T) {
	g := newGate(t, "epson-tm-t20", "115200")
	ctx := context.Background()
	g.em.SetPaperOut(true)
	sale := g.sellVan(t)
	sp, err := spoolFor(ctx, g.db)
	if err != nil {
		t.Fatal(err)
	}
	_, err = sp.PrintPending(ctx)
	if terminal.ErrorKind(err) != terminal.EDEVICE || !strings.Contains(strings.ToLower(terminal.ErrorMessage(err)), "paper") {
		t.Fatalf("print with paper out: %v; want a device error about paper", err)
	}
	if got, err := g.db.Sale(ctx, sale.ID); err != nil || got.Pass != sale.Pass {
		t.Fatalf("sale not durable: %v", err)
	}
	if n, _ := g.db.PendingPrintJobs(ctx); n != 1 {
		t.Fatalf("%d jobs pending; want 1", n)
	}
	if files := g.pngs(t); len(files) != 0 {
		t.Fatalf("%d pages printed with the paper out", len(files))
	}
	g.em.SetPaperOut(false)
	for i := 0; i < 2; i++ { // a second run must not print it again
		if _, err := sp.PrintPending(ctx); err != nil {
			t.Fatal(err)
		}
	}
	files := g.pngs(t)
	if len(files) != 1 {
		t.Fatalf("%d pages after paper back; want exactly 1", len(files))
	}
	if got := zbar(t, files[0]); got != sale.Pass {
		t.Fatalf("printed QR reads %q; want the pass", got)
	}
}

// TestKilledMidJobPrintsOnce kills the printing process in the middle of a
// pass (9,600 baud makes a raster pass take ~19 s), restarts printing, and
// checks the pass comes out exactly once and reads back.
func TestKilledMidJobPrintsOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process mid-job")
	}
	g := newGate(t, "generic58", "9600")
	ctx := context.Background()
	sale := g.sellVan(t)
	g.db.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LANGO_PRINT_CHILD="+g.path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 9)
	if _, err := stdout.Read(buf); err != nil || string(buf) != "PRINTING\n" {
		t.Fatalf("child: %q %v", buf, err)
	}
	time.Sleep(1500 * time.Millisecond) // ~1.4 KB of an 18 KB job
	cmd.Process.Signal(syscall.SIGKILL)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child ended with %v; want killed", err)
	}
	if st := g.em.Stats(); st.Jobs != 0 {
		t.Fatalf("emulator finished %d jobs before the kill; want the job cut off", st.Jobs)
	}

	db, err := sqlite.Open(ctx, g.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, _ := db.PendingPrintJobs(ctx); n != 1 {
		t.Fatalf("after the kill %d jobs pending; want 1", n)
	}
	// Restart at full speed.
	if _, err := db.SetSetting(ctx, "", "printer", "serial:"+g.link+"?baud=115200&profile=generic58"); err != nil {
		t.Fatal(err)
	}
	sp, err := spoolFor(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := sp.PrintPending(ctx); err != nil {
			t.Fatal(err)
		}
	}
	files := g.pngs(t)
	if len(files) != 1 {
		t.Fatalf("%d pages; want the pass exactly once", len(files))
	}
	if got := zbar(t, files[0]); got != sale.Pass {
		t.Fatalf("printed QR reads %q; want the pass", got)
	}
}
