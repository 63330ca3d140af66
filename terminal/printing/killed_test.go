package printing_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/lango-pos/lango/printer"
	"github.com/lango-pos/lango/printer/emulator"
	"github.com/lango-pos/lango/printer/escpos"
	"github.com/lango-pos/lango/terminal/printing"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// TestKilledMidImageResumes: a printing process (the spool that `lango
// print --pending` runs, in a child process on a real pseudo-terminal at
// 9,600 baud) is killed -9 while it sends the pass's QR image, after some
// of its bands (GS v 0) or lines (ESC *) went out. The progress it
// recorded as it went is in the store, inside the image; the restarted
// spool goes on from there, and the one slip that comes out is dot for dot
// the slip of an uninterrupted print: the bands already on the paper are
// not printed again, and no half image is followed by the whole one.
func TestKilledMidImageResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process mid-job")
	}
	for _, profile := range []string{"generic58-2x", "generic58"} {
		t.Run(profile, func(t *testing.T) {
			g := newGate(t, profile, "9600")
			ctx := context.Background()
			sale := g.sellVan(t)
			prof, err := printer.LookupProfile(profile)
			if err != nil {
				t.Fatal(err)
			}
			job, ok, err := (&printing.Queue{DB: g.db, Profile: prof, Lang: "en"}).NextJob(ctx)
			if err != nil || !ok {
				t.Fatalf("the sale's print job: %v %v", ok, err)
			}
			imgStart, imgEnd, ok := escpos.ImageSpan(job.Data)
			if !ok {
				t.Fatal("the job has no image")
			}
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
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			buf := make([]byte, 9)
			if _, err := stdout.Read(buf); err != nil || string(buf) != "PRINTING\n" {
				t.Fatalf("child: %q %v", buf, err)
			}
			// Watch the child's progress from another connection; kill it
			// as soon as it has recorded a point inside the image.
			watch, err := sqlite.Open(ctx, g.path)
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(30 * time.Second)
			at := 0
			for at <= imgStart || at >= imgEnd {
				if time.Now().After(deadline) {
					t.Fatalf("the child recorded no progress inside the image (%d–%d) in 30 s; last %d", imgStart, imgEnd, at)
				}
				time.Sleep(5 * time.Millisecond)
				j, ok, err := watch.NextPrintJob(ctx)
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
				t.Fatalf("child ended with %v; want killed", err)
			}
			watch.Close()
			if st := g.em.Stats(); st.Jobs != 0 {
				t.Fatalf("emulator finished %d jobs before the kill; want the job cut off", st.Jobs)
			}

			db, err := sqlite.Open(ctx, g.path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			// Restart at full speed, as `lango print --pending` would.
			if _, err := db.SetSetting(ctx, "", "printer", "serial:"+g.link+"?baud=115200&profile="+profile); err != nil {
				t.Fatal(err)
			}
			again, ok, err := (&printing.Queue{DB: db, Profile: prof, Lang: "en"}).NextJob(ctx)
			if err != nil || !ok {
				t.Fatalf("after the kill: %v %v", ok, err)
			}
			if again.From <= imgStart || again.From >= imgEnd || again.From < at {
				t.Fatalf("after the kill the job goes on from %d; want inside the image (%d–%d), at least %d", again.From, imgStart, imgEnd, at)
			}
			sp, err := spoolFor(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := sp.PrintPending(ctx); err != nil || n != 1 {
				t.Fatalf("print --pending: %d printed, %v", n, err)
			}
			files := g.pngs(t)
			if len(files) != 1 {
				t.Fatalf("%d pages; want one slip", len(files))
			}
			clean, _, err := emulator.Render(job.Data, emulator.Config{WidthDots: prof.WidthDots, MarginDots: prof.MarginDots()})
			if err != nil || len(clean) != 1 {
				t.Fatalf("clean render: %d pages, %v", len(clean), err)
			}
			if n, err := emulator.DotsOffFile(files[0], clean[0]); err != nil || n != 0 {
				t.Errorf("the slip after the kill is not the slip of an uninterrupted print: %d dots differ (%v)", n, err)
			}
			if got := zbar(t, files[0]); got != sale.Pass {
				t.Errorf("printed QR reads %q; want the pass", got)
			}
		})
	}
}
