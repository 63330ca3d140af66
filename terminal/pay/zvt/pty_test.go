package zvt

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lango-pos/lango/internal/pty"
	"github.com/lango-pos/lango/terminal"
	"go.bug.st/serial"
)

// ptyRig is the emulator on a pty master and the till's side opened with
// go.bug.st/serial, as in production.
type ptyRig struct {
	t    *testing.T
	emu  *Emulator
	path string
}

func startEmulator(t *testing.T, cfg EmulatorConfig) *ptyRig {
	t.Helper()
	p, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Think == 0 {
		cfg.Think = 20 * time.Millisecond
	}
	if cfg.Timeouts == (Timeouts{}) {
		cfg.Timeouts = testTimeouts()
	}
	e, err := NewEmulator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, p.Master) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("emulator Serve: %v", err)
		}
		p.Close()
	})
	link := filepath.Join(t.TempDir(), "ttyPDQ")
	if err := p.Link(link); err != nil {
		t.Fatal(err)
	}
	return &ptyRig{t: t, emu: e, path: link}
}

// open opens the till's side; the port is closed at cleanup (closing twice
// is harmless).
func (r *ptyRig) open(cfg Config) (*Client, serial.Port) {
	r.t.Helper()
	port, err := serial.Open(r.path, &serial.Mode{BaudRate: 9600, DataBits: 8, StopBits: serial.TwoStopBits})
	if err != nil {
		r.t.Fatalf("serial.Open(%s): %v", r.path, err)
	}
	r.t.Cleanup(func() { port.Close() })
	if cfg.Timeouts == (Timeouts{}) {
		cfg.Timeouts = testTimeouts()
	}
	c, err := NewClient(port, cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	return c, port
}

// waitIdle waits until the emulator has finished its current command.
func (r *ptyRig) waitIdle() {
	r.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for r.emu.Busy() {
		if time.Now().After(deadline) {
			r.t.Fatal("emulator still busy after 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPTYApprovedSale(t *testing.T) {
	rig := startEmulator(t, EmulatorConfig{Mode: ModeApprove, Card: Card{PAN: "5413********4242", Name: "MASTERCARD"}})
	c, _ := rig.open(Config{})
	ctx := context.Background()
	reg, err := c.Register(ctx)
	if err != nil || reg.TerminalID != "52000001" {
		t.Fatalf("Register = %+v, %v", reg, err)
	}
	var texts []string
	r, err := c.Authorize(ctx, Request{Reference: "S-1", Amount: kes(250050), OnStatus: func(s Status) { texts = append(texts, s.Text) }})
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	j := rig.emu.Charges()
	if len(j) != 1 {
		t.Fatalf("emulator charges %+v; want 1", j)
	}
	if !r.Approved || r.Approval == "" || r.Approval != j[0].Approval || r.CardLast4 != "4242" || r.CardName != "MASTERCARD" ||
		r.Amount != kes(250050) || r.Trace != j[0].Trace || r.Receipt != j[0].Receipt || r.Reference != "S-1" {
		t.Fatalf("result %+v; journal %+v", r, j[0])
	}
	if len(texts) == 0 || texts[0] != "Insert, tap or swipe the card" {
		t.Fatalf("status texts %q", texts)
	}
	rig.waitIdle()
	if !rig.emu.Journal()[0].Delivered {
		t.Fatal("journal: result not marked delivered")
	}
	// A second sale gets the next trace number.
	r2, err := c.Authorize(ctx, Request{Amount: terminal.Money{Currency: "USD", Minor: 3500}})
	if err != nil || r2.Trace != r.Trace+1 || r2.Amount.Currency != "USD" {
		t.Fatalf("second sale %+v, %v", r2, err)
	}
}

func TestPTYDeclinedSale(t *testing.T) {
	rig := startEmulator(t, EmulatorConfig{Mode: ModeDecline, DeclineCode: 0x33})
	c, _ := rig.open(Config{})
	r, err := c.Authorize(context.Background(), Request{Amount: kes(400000)})
	if !errors.Is(err, ErrDeclined) || terminal.ErrorKind(err) != terminal.EINVALID {
		t.Fatalf("err = %v; want declined (EINVALID)", err)
	}
	if r.Approved || r.ResultCode != 0x33 || !strings.Contains(terminal.ErrorMessage(err), "not enough money on the card") {
		t.Fatalf("result %+v, message %q", r, terminal.ErrorMessage(err))
	}
	if n := len(rig.emu.Charges()); n != 0 {
		t.Fatalf("%d charges after a decline", n)
	}
}

func TestPTYTimeoutThenRecovery(t *testing.T) {
	rig := startEmulator(t, EmulatorConfig{Mode: ModeTimeout})
	tm := testTimeouts()
	tm.Idle = 400 * time.Millisecond
	c, _ := rig.open(Config{Timeouts: tm})
	p := Pending{Reference: "S-9", Amount: kes(120000), Started: time.Now()}
	start := time.Now()
	r, err := c.Authorize(context.Background(), Request{Reference: p.Reference, Amount: p.Amount})
	elapsed := time.Since(start)
	if terminal.ErrorKind(err) != terminal.EDEVICE || !errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v (kind %q); want EDEVICE, outcome unknown, timeout", err, terminal.ErrorKind(err))
	}
	if r.Approved {
		t.Fatal("approved reported on a timeout")
	}
	if msg := terminal.ErrorMessage(err); !strings.Contains(msg, "PDQ screen") || !strings.Contains(msg, "do not charge") {
		t.Fatalf("message %q does not say what to check", msg)
	}
	if elapsed > 2*time.Second {
		t.Fatalf("timeout took %v; want about Idle (%v) after the last status", elapsed, tm.Idle)
	}
	// The PDQ took the money; recovery finds it.
	rig.waitIdle()
	rec, err := c.Recover(context.Background(), p)
	if err != nil || rec.Outcome != OutcomeCharged || rec.Last.Trace != rig.emu.Charges()[0].Trace {
		t.Fatalf("Recover = %+v, %v", rec, err)
	}
}

func TestPTYSilentMidTransaction(t *testing.T) {
	rig := startEmulator(t, EmulatorConfig{Mode: ModeSilent})
	tm := testTimeouts()
	tm.Idle = 300 * time.Millisecond
	c, _ := rig.open(Config{Timeouts: tm})
	var statuses int
	p := Pending{Amount: kes(5000), Started: time.Now()}
	_, err := c.Authorize(context.Background(), Request{Amount: p.Amount, OnStatus: func(Status) { statuses++ }})
	if !errors.Is(err, ErrOutcomeUnknown) || terminal.ErrorKind(err) != terminal.EDEVICE {
		t.Fatalf("err = %v; want EDEVICE outcome unknown", err)
	}
	if statuses != 1 {
		t.Fatalf("%d statuses; want the one before the silence", statuses)
	}
	rig.waitIdle()
	rec, err := c.Recover(context.Background(), p)
	if err != nil || rec.Outcome != OutcomeNotCharged {
		t.Fatalf("Recover = %+v, %v; want not charged", rec, err)
	}
}

func TestPTYCorruptedFramesAreNAKedAndResent(t *testing.T) {
	rig := startEmulator(t, EmulatorConfig{Mode: ModeApprove})
	c, _ := rig.open(Config{})
	rig.emu.CorruptNextFrame() // the 80 00 00 …
	rig.emu.CorruptNextFrame() // … and its first retransmission
	c.link.CorruptNextFrame()  // the till's 06 01
	r, err := c.Authorize(context.Background(), Request{Amount: kes(100000)})
	if err != nil || !r.Approved {
		t.Fatalf("Authorize = %+v, %v", r, err)
	}
	rig.waitIdle()
	es, cs := rig.emu.Stats(), c.Stats()
	if es.NAKsReceived != 2 || cs.NAKsSent != 2 || es.NAKsSent != 1 || cs.NAKsReceived != 1 || cs.Retransmits != 1 || es.Retransmits != 2 {
		t.Fatalf("emulator %+v; client %+v", es, cs)
	}
	if n := len(rig.emu.Charges()); n != 1 {
		t.Fatalf("%d charges; want 1", n)
	}
}

func TestPTYTooManyCorruptFramesFail(t *testing.T) {
	rig := startEmulator(t, EmulatorConfig{Mode: ModeApprove})
	c, _ := rig.open(Config{})
	for range 3 {
		rig.emu.CorruptNextFrame()
	}
	r, err := c.Authorize(context.Background(), Request{Amount: kes(100000)})
	if err == nil || r.Approved || !errors.Is(err, ErrBadFrame) || terminal.ErrorKind(err) != terminal.EDEVICE {
		t.Fatalf("Authorize = %+v, %v; want EDEVICE bad frame", r, err)
	}
	rig.waitIdle()
	if n := len(rig.emu.Charges()); n != 0 {
		t.Fatalf("%d charges; the PDQ could not confirm the command, so none", n)
	}
}

// TestPTYRecoveryAfterTillDies: the till's port closes right after the PDQ
// took the 06 01 (its first intermediate status), as when the till is
// killed. The PDQ still completes the payment. A new client on the same
// port recovers it from the PDQ — and nothing is charged twice.
func TestPTYRecoveryAfterTillDies(t *testing.T) {
	et := testTimeouts()
	et.Ack = 100 * time.Millisecond // the PDQ gives up on the dead till sooner
	rig := startEmulator(t, EmulatorConfig{Mode: ModeApprove, Think: 100 * time.Millisecond, Timeouts: et})
	c1, port1 := rig.open(Config{})
	p := Pending{Reference: "S-42", Amount: kes(350000), Started: time.Now()}
	_, err := c1.Authorize(context.Background(), Request{Reference: p.Reference, Amount: p.Amount,
		OnStatus: func(Status) { port1.Close() }}) // the till dies mid-authorisation
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("interrupted Authorize: err = %v; want outcome unknown", err)
	}
	rig.waitIdle() // the PDQ finishes (and fails to deliver) its result
	j := rig.emu.Journal()
	if len(j) != 1 || !j[0].Approved || j[0].Delivered {
		t.Fatalf("journal %+v; want one approved, undelivered charge", j)
	}

	c2, _ := rig.open(Config{})
	rec, err := c2.Recover(context.Background(), p)
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if rec.Outcome != OutcomeCharged || rec.Last == nil || rec.Last.Trace != j[0].Trace || rec.Last.Receipt != j[0].Receipt ||
		rec.Last.Approval != j[0].Approval || rec.Last.Amount != p.Amount || rec.Last.CardLast4 != "0119" {
		t.Fatalf("recovery %+v (last %+v); journal %+v", rec, rec.Last, j[0])
	}
	rig.waitIdle()
	if n := len(rig.emu.Charges()); n != 1 {
		t.Fatalf("emulator has %d charges after recovery; want exactly 1", n)
	}
}

func TestPTYAbortDuringAuthorisation(t *testing.T) {
	rig := startEmulator(t, EmulatorConfig{Mode: ModeApprove, Think: 400 * time.Millisecond})
	c, _ := rig.open(Config{})
	var once sync.Once
	r, err := c.Authorize(context.Background(), Request{Amount: kes(100000), OnStatus: func(Status) {
		once.Do(func() {
			go func() {
				if err := c.Abort(context.Background()); err != nil {
					t.Errorf("Abort: %v", err)
				}
			}()
		})
	}})
	if !errors.Is(err, ErrDeclined) || r.ResultCode != 0x6C || r.Approved {
		t.Fatalf("Authorize = %+v, %v; want declined 6C", r, err)
	}
	rig.waitIdle()
	if n := len(rig.emu.Charges()); n != 0 {
		t.Fatalf("%d charges after abort", n)
	}
	// Abort with nothing running is answered at once.
	if err := c.Abort(context.Background()); err != nil {
		t.Fatalf("idle Abort: %v", err)
	}
}

func TestPTYNoPDQ(t *testing.T) {
	p, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	port, err := serial.Open(p.Path, &serial.Mode{BaudRate: 9600})
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	c, err := NewClient(port, Config{Timeouts: testTimeouts()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Authorize(context.Background(), Request{Amount: kes(100)})
	if terminal.ErrorKind(err) != terminal.EDEVICE || !errors.Is(err, ErrNoAck) || errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("err = %v; want EDEVICE no ACK, not outcome unknown", err)
	}
	if msg := terminal.ErrorMessage(err); !strings.Contains(msg, "not charged") || !strings.Contains(msg, "switched on") {
		t.Fatalf("message %q", msg)
	}
}

// TestPTYEmulatorRefusesGarbage: random bytes, bad frames and malformed
// APDUs sent to the emulator are refused; it keeps serving.
func TestPTYEmulatorRefusesGarbage(t *testing.T) {
	rig := startEmulator(t, EmulatorConfig{Mode: ModeApprove})
	c, port := rig.open(Config{})
	rng := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(rng.Uint32())
	}
	bad := frameOf(t, "06 01 0A 04 00 00 00 10 00 00 49 04 04")
	bad[len(bad)-1] ^= 1
	// Not frames, or frames with a bad CRC or DLE sequence, or whose APDU
	// length is wrong: NAKed or dropped, never answered.
	for _, g := range [][]byte{junk, bad, {0x10, 0x02, 0x10, 0x99}, frameOf(t, "06 01 05 04 00")} {
		if _, err := port.Write(g); err != nil {
			t.Fatal(err)
		}
	}
	// Well-framed commands the emulator must refuse with 84 xx.
	l := NewLink(port, testTimeouts(), nil)
	ctx := context.Background()
	for _, tc := range []struct {
		apdu string
		code byte
	}{
		{"06 01 02 7F 00", protoError},                         // unknown BMP
		{"06 01 09 04 00 00 00 00 00 00 49 99", protoError},    // currency truncated
		{"06 01 0A 04 00 00 00 00 1A 00 49 04 04", protoError}, // amount not BCD
		{"06 01 07 04 00 00 00 00 00 00", protoError},          // amount zero
		{"06 00 01 00", protoError},                            // registration too short
		{"06 20 03 12 34 56", refuseCode},                      // wrong password
		{"0F 0F 00", refuseCode},                               // unknown command
	} {
		raw := frameOf(t, tc.apdu)
		a, _, err := DecodeFrame(raw)
		if err != nil {
			t.Fatal(err)
		}
		cmd, err := DecodeAPDU(a)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Send(ctx, cmd); err != nil {
			t.Fatalf("%s: %v", tc.apdu, err)
		}
		ans, err := l.Receive(ctx, time.Second)
		if err != nil || !ans.negative() || ans.Instr != tc.code {
			t.Fatalf("%s: answer %v, %v; want 84 %02X", tc.apdu, ans, err, tc.code)
		}
	}
	if _, err := c.Register(ctx); err != nil {
		t.Fatalf("Register after garbage: %v", err)
	}
	if n := len(rig.emu.Journal()); n != 0 {
		t.Fatalf("garbage produced %d transactions", n)
	}
	if s := rig.emu.Stats(); s.NAKsSent == 0 || s.SkippedBytes == 0 {
		t.Fatalf("emulator stats %+v; want NAKs and skipped bytes", s)
	}
}

func TestRunEmulator(t *testing.T) {
	link := filepath.Join(t.TempDir(), "pdq")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunEmulator(ctx, link, EmulatorConfig{Mode: ModeApprove, Think: 10 * time.Millisecond, Timeouts: testTimeouts()})
	}()
	var port serial.Port
	var err error
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if port, err = serial.Open(link, &serial.Mode{BaudRate: 9600}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("emulator link never appeared: %v", err)
		}
	}
	c, _ := NewClient(port, Config{Timeouts: testTimeouts()})
	if _, err := c.Register(context.Background()); err != nil {
		t.Fatalf("Register: %v", err)
	}
	port.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunEmulator: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("RunEmulator did not return after cancel")
	}
}

func TestDial(t *testing.T) {
	rig := startEmulator(t, EmulatorConfig{})
	s, err := ParseSetting("zvt:" + rig.path + "?baud=9600")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Dial(s, Config{Timeouts: testTimeouts()})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if _, err := c.Register(context.Background()); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Dial(Setting{Path: filepath.Join(t.TempDir(), "nothing"), Baud: 9600}, Config{})
	if terminal.ErrorKind(err) != terminal.EDEVICE || !strings.Contains(terminal.ErrorMessage(err), "check the cable") {
		t.Fatalf("Dial of a missing port: %v", err)
	}
}

func TestAuthorizeCancelledBeforeStart(t *testing.T) {
	c, err := NewClient(newScriptPort(t, nil), Config{Timeouts: testTimeouts()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Authorize(ctx, Request{Amount: kes(100)})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrOutcomeUnknown) || !strings.Contains(terminal.ErrorMessage(err), "not charged") {
		t.Fatalf("err = %v", err)
	}
}

// TestPTYCancelledContextIsNotAnAbort: cancelling Authorize's context stops
// waiting (outcome unknown) but does not cancel on the PDQ, which charges.
func TestPTYCancelledContextIsNotAnAbort(t *testing.T) {
	et := testTimeouts()
	et.Ack = 100 * time.Millisecond // the PDQ gives up on the deaf till sooner
	rig := startEmulator(t, EmulatorConfig{Mode: ModeApprove, Think: 50 * time.Millisecond, Timeouts: et})
	c, _ := rig.open(Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := c.Authorize(ctx, Request{Amount: kes(100000), OnStatus: func(Status) { cancel() }})
	if !errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, context.Canceled) || terminal.ErrorKind(err) != terminal.EDEVICE {
		t.Fatalf("err = %v; want EDEVICE outcome unknown (cancelled)", err)
	}
	rig.waitIdle()
	if n := len(rig.emu.Charges()); n != 1 {
		t.Fatalf("%d charges; the PDQ was never told to abort, so 1", n)
	}
}
