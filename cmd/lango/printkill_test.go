package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/lango-pos/lango/printer"
	"github.com/lango-pos/lango/printer/emulator"
	"github.com/lango-pos/lango/printer/escpos"
	"github.com/lango-pos/lango/terminal/printing"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// TestCLIPrintKilledMidImage: `lango print --pending`, a real process
// printing a pass at 9,600 baud to the emulator on a pseudo-terminal, is
// killed -9 while it sends the QR image (GS v 0 bands, generic58-2x), once
// it has recorded that some bands are out; a second `lango print
// --pending` goes on from there. One slip comes out, dot for dot the slip
// of an uninterrupted print: the bands sent are not printed again, and no
// half QR precedes a whole one.
func TestCLIPrintKilledMidImage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills a child process")
	}
	const profile = "generic58-2x"
	prof, err := printer.LookupProfile(profile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	em, err := printer.NewEmulator(prof, out, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "ttyPRN")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- printer.ServePTY(ctx, link, em) }()
	t.Cleanup(func() { cancel(); <-done })
	for i := 0; i < 100 && !exists(link); i++ {
		time.Sleep(10 * time.Millisecond) // the emulator creates the link
	}

	c := newCLI(t)
	c.initNNP("--printer", "serial:"+link+"?baud=9600&profile="+profile)
	c.ok("shift", "open", "--as", "admin", "--float", "KES=1000")
	em.SetPaperOut(true) // the sale leaves its pass queued
	var sale struct {
		Pass  string
		Print struct{ Status string }
	}
	if err := json.Unmarshal([]byte(c.ok("sell", "--as", "admin", "--item", "INT-ADULT=2", "--item", "TOUR-VAN=1",
		"--vehicle", "KDA 123A", "--pay", "defer", "--json")), &sale); err != nil {
		t.Fatal(err)
	}
	if sale.Print.Status != "queued" || sale.Pass == "" {
		t.Fatalf("sale: %+v; want a pass, queued", sale)
	}
	em.SetPaperOut(false)

	db, err := sqlite.Open(context.Background(), filepath.Join(c.data, "lango.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	job, ok, err := (&printing.Queue{DB: db, Profile: prof}).NextJob(context.Background())
	if err != nil || !ok {
		t.Fatalf("the queued job: %v %v", ok, err)
	}
	start, end, ok := escpos.ImageSpan(job.Data)
	if !ok {
		t.Fatal("the job has no image")
	}

	cmd := exec.Command(os.Args[0], "--data", c.data, "print", "--pending")
	cmd.Env = append(os.Environ(), "LANGO_TEST_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	at := 0
	for at <= start || at >= end {
		if time.Now().After(deadline) {
			t.Fatalf("lango print recorded no progress inside the image (%d–%d) in 30 s; last %d", start, end, at)
		}
		time.Sleep(5 * time.Millisecond)
		j, ok, err := db.NextPrintJob(context.Background())
		if err != nil || !ok {
			t.Fatalf("watching the job: %v %v", ok, err)
		}
		at = j.ResumeAt
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) {
		t.Fatalf("lango print ended with %v; want killed", err)
	}
	if st := em.Stats(); st.Jobs != 0 {
		t.Fatalf("the emulator finished %d jobs before the kill; want the job cut off", st.Jobs)
	}

	c.ok("config", "set", "printer", "serial:"+link+"?baud=115200&profile="+profile)
	c.ok("print", "--pending")
	files, err := filepath.Glob(filepath.Join(out, "*.png"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 {
		t.Fatalf("%d slips; want one", len(files))
	}
	clean, _, err := emulator.Render(job.Data, emulator.Config{WidthDots: prof.WidthDots, MarginDots: prof.MarginDots()})
	if err != nil || len(clean) != 1 {
		t.Fatalf("clean render: %d pages, %v", len(clean), err)
	}
	if n, err := emulator.DotsOffFile(files[0], clean[0]); err != nil || n != 0 {
		t.Errorf("the slip after the kill differs from an uninterrupted print in %d dots (%v)", n, err)
	}
	decodeQR(t, files[0], sale.Pass)
}
