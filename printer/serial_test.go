package printer

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lango-pos/lango/internal/pty"
	"github.com/lango-pos/lango/printer/emulator"
	"github.com/lango-pos/lango/printer/escpos"
	"github.com/lango-pos/lango/terminal"
)

// virtualPrinter is an emulator serving a real pseudo-terminal; link is
// the path go.bug.st/serial opens.
type virtualPrinter struct {
	em   *emulator.Emulator
	link string
	out  string
	done chan error
}

func startVirtualPrinter(t *testing.T, prof Profile, cfg func(*emulator.Config)) *virtualPrinter {
	t.Helper()
	p, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	dir := t.TempDir()
	link := filepath.Join(dir, "ttyPRN")
	if err := p.Link(link); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	sink, err := emulator.DirSink(out)
	if err != nil {
		t.Fatal(err)
	}
	c := prof.emulatorConfig()
	c.Sink = sink
	if cfg != nil {
		cfg(&c)
	}
	em, err := emulator.New(c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	vp := &virtualPrinter{em: em, link: link, out: out, done: make(chan error, 1)}
	go func() { vp.done <- ServePair(ctx, p, em) }()
	t.Cleanup(func() {
		cancel()
		if err := <-vp.done; err != nil {
			t.Errorf("emulator: %v", err)
		}
		p.Close()
	})
	return vp
}

func (vp *virtualPrinter) pngs(t *testing.T) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(vp.out, "job-*.png"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func openSpec(t *testing.T, spec string, opts Options) Device {
	t.Helper()
	d, err := Open(spec, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func wantKind(t *testing.T, err error, kind string) *terminal.Error {
	t.Helper()
	var e *terminal.Error
	if !errors.As(err, &e) || e.Kind != kind {
		t.Fatalf("err = %v; want a %s error", err, kind)
	}
	return e
}

// TestSerialEndToEnd prints a pass through go.bug.st/serial on a real
// pseudo-terminal to the emulator, and reads the QR back with zbarimg:
// once with native QR, once as raster.
func TestSerialEndToEnd(t *testing.T) {
	for _, pn := range []string{"epson-tm-t20", "generic58"} {
		t.Run(pn, func(t *testing.T) {
			prof, _ := LookupProfile(pn)
			vp := startVirtualPrinter(t, prof, nil)
			// 115200 baud keeps the raster test short; the pacing is the
			// same code at any rate.
			d := openSpec(t, "serial:"+vp.link+"?baud=115200&profile="+pn, Options{})
			if d.Profile().Name != pn {
				t.Fatalf("profile %s; want %s", d.Profile().Name, pn)
			}
			job, err := Render(d.Profile(), paidPass("en"))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			st, err := d.Status(ctx)
			if err != nil || st.Code() != "ready" {
				t.Fatalf("status = %v, %v; want ready", st, err)
			}
			if err := d.Print(ctx, job); err != nil {
				t.Fatal(err)
			}
			files := vp.pngs(t)
			if len(files) != 1 {
				t.Fatalf("%d PNG files; want 1", len(files))
			}
			if st := vp.em.Stats(); !st.Clean() || st.Bytes < int64(len(job)) {
				t.Errorf("emulator saw %d bytes (job %d), problems %v", st.Bytes, len(job), st.Problems())
			}
			if got := zbarDecode(t, files[0]); len(got) != 1 || got[0] != passText {
				t.Errorf("QR decodes to %q; want the pass text", got)
			}
		})
	}
}

// memStore is an in-memory JobStore, in the test only.
type memStore struct {
	mu       sync.Mutex
	jobs     []*memJob
	markErrs int // MarkPrinted fails this many more times
}

type memJob struct {
	Job
	printed   time.Time
	given     bool
	reasons   []string
	markCalls int
}

func (s *memStore) add(id string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs = append(s.jobs, &memJob{Job: Job{ID: id, Data: data}})
}

func (s *memStore) NextJob(ctx context.Context) (Job, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.jobs {
		if j.printed.IsZero() && !j.given {
			return j.Job, true, nil
		}
	}
	return Job{}, false, nil
}

func (s *memStore) find(id string) *memJob {
	for _, j := range s.jobs {
		if j.ID == id {
			return j
		}
	}
	return nil
}

func (s *memStore) MarkPrinted(ctx context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.find(id)
	j.markCalls++
	if s.markErrs > 0 {
		s.markErrs--
		return errors.New("disk full")
	}
	if !j.printed.IsZero() {
		return errors.New("marked printed twice")
	}
	j.printed = at
	return nil
}

func (s *memStore) MarkFailed(ctx context.Context, id, reason string, final bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.find(id)
	j.Attempts++
	j.reasons = append(j.reasons, reason)
	j.given = final
	return nil
}

func (s *memStore) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, j := range s.jobs {
		if j.printed.IsZero() && !j.given {
			n++
		}
	}
	return n
}

// TestPaperOut: with the paper out the printer refuses the job (EDEVICE),
// the spool keeps it queued and nothing is rendered; with paper back it
// prints exactly once.
func TestPaperOut(t *testing.T) {
	prof, _ := LookupProfile("epson-tm-t20")
	vp := startVirtualPrinter(t, prof, nil)
	d := openSpec(t, "serial:"+vp.link+"?profile=epson-tm-t20&baud=115200", Options{})
	job, err := Render(prof, duePass("sw"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	vp.em.SetPaperOut(true)
	e := wantKind(t, d.Print(ctx, job), terminal.EDEVICE)
	if !strings.Contains(e.Message, "out of paper") {
		t.Errorf("message %q does not say out of paper", e.Message)
	}
	st, err := d.Status(ctx)
	if err != nil || !st.PaperOut || st.Ready() {
		t.Errorf("status = %+v, %v; want paper out", st, err)
	}

	store := &memStore{}
	store.add("job-1", job)
	var states []string
	sp := NewSpool(store, d, SpoolOptions{OnState: func(s State) { states = append(states, s.Code()) }})
	n, err := sp.PrintPending(ctx)
	wantKind(t, err, terminal.EDEVICE)
	if n != 0 || store.pending() != 1 || len(vp.pngs(t)) != 0 {
		t.Fatalf("paper out: printed %d, pending %d, %d PNGs; want 0, 1, 0", n, store.pending(), len(vp.pngs(t)))
	}
	if got := sp.State().Code(); got != "paper_out" {
		t.Errorf("spool state %s; want paper_out", got)
	}

	vp.em.SetPaperOut(false)
	n, err = sp.PrintPending(ctx)
	if err != nil || n != 1 {
		t.Fatalf("paper back: printed %d, %v; want 1, nil", n, err)
	}
	n, err = sp.PrintPending(ctx)
	if err != nil || n != 0 {
		t.Fatalf("again: printed %d, %v; want 0, nil", n, err)
	}
	if got := len(vp.pngs(t)); got != 1 {
		t.Errorf("%d PNG files; want exactly 1", got)
	}
	if store.pending() != 0 || store.jobs[0].Attempts != 1 {
		t.Errorf("pending %d, attempts %d; want 0, 1", store.pending(), store.jobs[0].Attempts)
	}
	if strings.Join(states, ",") != "paper_out,ready" {
		t.Errorf("states %v; want paper_out then ready", states)
	}
}

func TestCoverOpen(t *testing.T) {
	prof, _ := LookupProfile("generic58")
	vp := startVirtualPrinter(t, prof, nil)
	d := openSpec(t, "serial:"+vp.link, Options{})
	vp.em.SetCoverOpen(true)
	job, _ := Render(prof, testPage("en"))
	e := wantKind(t, d.Print(context.Background(), job), terminal.EDEVICE)
	if !strings.Contains(e.Message, "cover open") {
		t.Errorf("message %q; want cover open", e.Message)
	}
}

// TestSerialErrors: a missing port, a port with nobody behind it and a
// damaged job each give a clear message.
func TestSerialErrors(t *testing.T) {
	ctx := context.Background()
	job, _ := Render(profileOrDie(t, "generic58"), testPage("en"))

	d := openSpec(t, "serial:/dev/does-not-exist/ttyUSB9", Options{})
	e := wantKind(t, d.Print(ctx, job), terminal.EDEVICE)
	if !strings.Contains(e.Message, "no printer port /dev/does-not-exist/ttyUSB9") {
		t.Errorf("missing port: %q", e.Message)
	}
	_, err := d.Status(ctx)
	wantKind(t, err, terminal.EDEVICE)

	notTTY := filepath.Join(t.TempDir(), "plain-file")
	if err := os.WriteFile(notTTY, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	d = openSpec(t, "serial:"+notTTY, Options{})
	e = wantKind(t, d.Print(ctx, job), terminal.EDEVICE)
	if !strings.Contains(e.Message, "not a serial port") {
		t.Errorf("plain file: %q", e.Message)
	}

	p, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	defer p.Close()
	d = openSpec(t, "serial:"+p.Path, Options{StatusTimeout: 200 * time.Millisecond})
	e = wantKind(t, d.Print(ctx, job), terminal.EDEVICE)
	if !strings.Contains(e.Message, "does not answer") {
		t.Errorf("silent printer: %q", e.Message)
	}

	wantKind(t, d.Print(ctx, job[:len(job)-1]), terminal.EINVALID)
}

func profileOrDie(t *testing.T, name string) Profile {
	t.Helper()
	p, err := LookupProfile(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// scriptedPort is a port whose printer side is an emulator called
// directly: it records every byte the host writes.
type scriptedPort struct {
	mu      sync.Mutex
	em      *emulator.Emulator
	written bytes.Buffer
	replies chan byte
	closed  chan struct{}
	once    sync.Once
}

func newScriptedPort(t *testing.T) *scriptedPort {
	em, err := emulator.New(emulator.Config{WidthDots: 576})
	if err != nil {
		t.Fatal(err)
	}
	return &scriptedPort{em: em, replies: make(chan byte, 1024), closed: make(chan struct{})}
}

func (p *scriptedPort) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.written.Write(b)
	out, err := p.em.Feed(b)
	for _, r := range out {
		p.replies <- r
	}
	return len(b), err
}

func (p *scriptedPort) Read(b []byte) (int, error) {
	select {
	case r := <-p.replies:
		b[0] = r
		return 1, nil
	case <-p.closed:
		return 0, errors.New("closed")
	case <-time.After(50 * time.Millisecond):
		return 0, nil // a read timeout returns (0, nil), as go.bug.st/serial does
	}
}

func (p *scriptedPort) SetReadTimeout(time.Duration) error { return nil }

func (p *scriptedPort) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}

func (p *scriptedPort) bytes() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]byte(nil), p.written.Bytes()...)
}

func scriptedSerial(t *testing.T, baud int, sp *scriptedPort) *Serial {
	t.Helper()
	spec, err := ParseSpec("serial:/dev/scripted?profile=epson-tm-t20")
	if err != nil {
		t.Fatal(err)
	}
	spec.Baud = baud
	s := NewSerial(spec, Options{})
	if sp != nil {
		s.open = func(string, int) (port, error) { return sp, nil }
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sessionStart is what the transport sends when it opens the port: clear
// the buffers (a previous session may have died mid-command), initialise.
func sessionStart() []byte { return append(escpos.ClearBuffers(), escpos.ESC, '@') }

// TestConversation checks the exact bytes on the line: the session start,
// status before, the job whole and untouched, GS r 1, status after — no
// query inside the job.
func TestConversation(t *testing.T) {
	sp := newScriptedPort(t)
	s := scriptedSerial(t, 115200, sp)
	job, _ := Render(s.Profile(), paidPass("en"))
	if err := s.Print(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	q := func() []byte {
		var b []byte
		for _, n := range []byte{1, 2, 4} {
			b = append(b, escpos.StatusQuery(n)...)
		}
		return b
	}
	want := append(append(append(append(sessionStart(), q()...), job...), escpos.JobDoneQuery()...), q()...)
	if got := sp.bytes(); !bytes.Equal(got, want) {
		t.Errorf("line carried %d bytes; want %d (session start, status, job, GS r 1, status)", len(got), len(want))
	}
	if st := sp.em.Stats(); st.Jobs != 1 {
		t.Errorf("emulator printed %d jobs; want 1", st.Jobs)
	}
}

// TestPacing: at 9600 baud a job takes its wire time, not less.
func TestPacing(t *testing.T) {
	sp := newScriptedPort(t)
	s := scriptedSerial(t, 9600, sp)
	job, _ := Render(s.Profile(), testPage("en"))
	start := time.Now()
	if err := s.Print(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	wire := time.Duration(float64(len(job)) / 960 * float64(time.Second))
	if took < wire*9/10 {
		t.Errorf("%d bytes at 9600 baud took %v; the line needs %v", len(job), took, wire)
	}
}

// TestCancelCompletesCommand: cancelling mid-image still sends the rest of
// the image (every band of it) and nothing after its end, then ESC @, so
// the printer is never left inside a command and the paper never holds
// part of a QR code; the error says where the job can go on.
func TestCancelCompletesCommand(t *testing.T) {
	sp := newScriptedPort(t)
	prof := profileOrDie(t, "generic58-2x")
	job, _ := Render(prof, paidPass("en")) // GS v 0 QR: long commands
	start, end := imageSpan(t, job)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := scriptedSerial(t, 115200, nil)
	s.open = func(string, int) (port, error) {
		return &cuttingPort{port: sp, n: len(sessionStart()) + 9 + start + 100, cancel: cancel}, nil
	}
	err := s.Print(ctx, job)
	wantKind(t, err, terminal.EDEVICE)
	var ie *Interrupted
	if !errors.As(err, &ie) || ie.At != end {
		t.Fatalf("err = %v; want an interruption at the image's end %d", err, end)
	}
	got := sp.bytes()
	if !bytes.HasPrefix(got, sessionStart()) {
		t.Fatalf("the line does not start with the session start")
	}
	body := got[len(sessionStart())+9:] // after the session start and the three status queries
	if want := append(append([]byte(nil), job[:end]...), escpos.ESC, '@'); !bytes.Equal(body, want) {
		t.Fatalf("interrupted job sent %d bytes; want the job up to the image's end (%d) and ESC @", len(body), end)
	}
}

// TestXonXoff: a slow printer with a small buffer that sends XOFF is
// never overrun when the host obeys XON/XOFF, and is overrun when it does
// not (which shows the test can fail).
func TestXonXoff(t *testing.T) {
	if testing.Short() {
		t.Skip("takes seconds")
	}
	prof := profileOrDie(t, "generic58")
	job, _ := Render(prof, paidPass("en"))
	for _, flow := range []Flow{FlowXonXoff, FlowNone} {
		t.Run(string(flow), func(t *testing.T) {
			vp := startVirtualPrinter(t, prof, func(c *emulator.Config) {
				c.BytesPerSecond = 6000
				c.BufferBytes = 1024
				c.XonXoff = true
			})
			d := openSpec(t, "serial:"+vp.link+"?baud=115200&profile=generic58&flow="+string(flow),
				Options{DoneTimeout: 3 * time.Second, StallTimeout: 5 * time.Second})
			err := d.Print(context.Background(), job)
			st := vp.em.Stats()
			t.Logf("job %d bytes; emulator: %d bytes, overrun %d, jobs %d, problems %v", len(job), st.Bytes, st.Overrun, st.Jobs, st.Problems())
			if flow == FlowXonXoff {
				if err != nil {
					t.Fatal(err)
				}
				if st.Overrun != 0 {
					t.Errorf("overrun %d bytes with XON/XOFF", st.Overrun)
				}
				files := vp.pngs(t)
				if len(files) != 1 {
					t.Fatalf("%d PNGs; want 1", len(files))
				}
				if got := zbarDecode(t, files[0]); len(got) != 1 || got[0] != passText {
					t.Errorf("QR decodes to %q", got)
				}
				return
			}
			if st.Overrun == 0 {
				t.Errorf("no overrun without flow control: the slow printer is not slow")
			}
		})
	}
}

func TestParseSpec(t *testing.T) {
	good := []struct {
		in   string
		want string
	}{
		{"none", "none"},
		{"NONE", "none"},
		{"emulator:/tmp/out", "emulator:/tmp/out?profile=generic58"},
		{"emulator:/tmp/out?profile=tm-t88", "emulator:/tmp/out?profile=epson-tm-t88"},
		{"serial:/dev/ttyUSB0", "serial:/dev/ttyUSB0?baud=9600&profile=generic58&flow=none"},
		{"serial:/dev/ttyS0?baud=115200&profile=epson-tm-t20", "serial:/dev/ttyS0?baud=115200&profile=epson-tm-t20&flow=xonxoff"},
		{"serial:/dev/ttyS0?profile=clone80-512&flow=xonxoff", "serial:/dev/ttyS0?baud=19200&profile=clone80-512&flow=xonxoff"},
	}
	for _, tt := range good {
		s, err := ParseSpec(tt.in)
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", tt.in, err)
			continue
		}
		if s.String() != tt.want {
			t.Errorf("ParseSpec(%q) = %s; want %s", tt.in, s, tt.want)
		}
		if back, err := ParseSpec(s.String()); err != nil || back.String() != s.String() {
			t.Errorf("round trip of %s: %v, %v", s, back, err)
		}
	}
	bad := []struct{ in, msg string }{
		{"", "empty"},
		{"usb:/dev/usb/lp0", "use emulator:DIR"},
		{"serial:", "names no a device path"},
		{"emulator:", "output folder"},
		{"serial:/dev/ttyUSB0?baud=9601", "baud \"9601\" is not one of"},
		{"serial:/dev/ttyUSB0?baud=fast", "baud \"fast\""},
		{"serial:/dev/ttyUSB0?profile=tm-x", "unknown printer profile \"tm-x\""},
		{"serial:/dev/ttyUSB0?speed=9600", "unknown option \"speed\""},
		{"serial:/dev/ttyUSB0?baud=9600&baud=19200", "baud given twice"},
		{"serial:/dev/ttyUSB0?flow=rtscts", "flow \"rtscts\""},
		{"emulator:/tmp/x?baud=9600", "unknown option \"baud\""},
		{"serial:/dev/ttyUSB0?%zz", "bad options"},
	}
	for _, tt := range bad {
		_, err := ParseSpec(tt.in)
		var e *terminal.Error
		if !errors.As(err, &e) || e.Kind != terminal.EINVALID {
			t.Errorf("ParseSpec(%q) = %v; want EINVALID", tt.in, err)
			continue
		}
		if !strings.Contains(e.Message, tt.msg) {
			t.Errorf("ParseSpec(%q): %q does not say %q", tt.in, e.Message, tt.msg)
		}
	}
}

func TestNonePrinter(t *testing.T) {
	d := openSpec(t, "none", Options{})
	e := wantKind(t, d.Print(context.Background(), []byte{escpos.ESC, '@'}), terminal.EDEVICE)
	if !strings.Contains(e.Message, "no printer is configured") {
		t.Errorf("none: %q", e.Message)
	}
}

// TestEmulatorSpec: emulator:DIR renders straight to PNG and honours the
// emulated paper state.
func TestEmulatorSpec(t *testing.T) {
	dir := t.TempDir()
	d := openSpec(t, "emulator:"+dir+"?profile=epson-tm-t20", Options{})
	job, _ := Render(d.Profile(), paidPass("sw"))
	ep := d.(*EmulatorPrinter)
	ep.Emulator().SetPaperOut(true)
	wantKind(t, d.Print(context.Background(), job), terminal.EDEVICE)
	ep.Emulator().SetPaperOut(false)
	if err := d.Print(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "job-*.png"))
	if len(files) != 1 {
		t.Fatalf("%d PNGs; want 1", len(files))
	}
	if got := zbarDecode(t, files[0]); len(got) != 1 || got[0] != passText {
		t.Errorf("QR decodes to %q", got)
	}
}

func TestListPorts(t *testing.T) {
	ports, err := ListPorts()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ports {
		if p.Name == "" {
			t.Errorf("port without a name: %+v", p)
		}
	}
	t.Logf("%d serial ports", len(ports))
}

// TestServePTYAndControl runs the emulator as `lango printer emulate`
// does: on a linked pseudo-terminal, with operator commands on a reader.
func TestServePTYAndControl(t *testing.T) {
	prof := profileOrDie(t, "epson-tm-t88")
	dir := t.TempDir()
	em, err := NewEmulator(prof, filepath.Join(dir, "out"), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "dev", "ttyLANGO")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServePTY(ctx, link, em) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServePTY: %v", err)
		}
		if _, err := os.Lstat(link); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("link left behind: %v", err)
		}
	}()
	var d Device
	for i := 0; ; i++ { // the link appears when ServePTY has started
		if _, err := os.Stat(link); err == nil {
			d = openSpec(t, "serial:"+link+"?profile=epson-tm-t88", Options{})
			break
		}
		if i > 200 {
			t.Fatal("no link")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var out bytes.Buffer
	if err := Control(ctx, strings.NewReader("paper out\nbogus\n"), &out, em); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "status: paper out") || !strings.Contains(out.String(), "unknown emulator command") {
		t.Errorf("control answers %q", out.String())
	}
	st, err := d.Status(ctx)
	if err != nil || !st.PaperOut {
		t.Errorf("status %v, %v; want paper out", st, err)
	}
	if _, err := em.Control("paper in"); err != nil {
		t.Fatal(err)
	}
	job, _ := Render(prof, testPage("sw"))
	pctx, pcancel := context.WithTimeout(ctx, prof.WireTime(len(job))+5*time.Second)
	defer pcancel()
	if err := d.Print(pctx, job); err != nil {
		t.Fatal(err)
	}
	d.Close()
}
