package zvt

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

func testLink(t *testing.T, script []convStep) (*Link, *scriptPort) {
	t.Helper()
	p := newScriptPort(t, script)
	return NewLink(p, testTimeouts(), nil), p
}

func b(x ...byte) []byte { return x }

func TestSendRetransmitsOnNAK(t *testing.T) {
	f := frameOf(t, "06 B0 00")
	l, p := testLink(t, steps(byte('>'), f, byte('<'), b(nak), byte('>'), f, byte('<'), b(ack)))
	if err := l.Send(context.Background(), APDU{Class: 0x06, Instr: 0xB0}); err != nil {
		t.Fatal(err)
	}
	if err := p.done(); err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); s.NAKsReceived != 1 || s.Retransmits != 1 || s.FramesSent != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestSendGivesUpWithoutAck(t *testing.T) {
	f := frameOf(t, "06 B0 00")
	l, p := testLink(t, steps(byte('>'), f, byte('>'), f, byte('>'), f))
	start := time.Now()
	err := l.Send(context.Background(), APDU{Class: 0x06, Instr: 0xB0})
	if !errors.Is(err, ErrNoAck) {
		t.Fatalf("err = %v; want ErrNoAck", err)
	}
	if d := time.Since(start); d < 3*testTimeouts().Ack || d > 3*testTimeouts().Ack+time.Second {
		t.Fatalf("gave up after %v; want about 3 × %v", d, testTimeouts().Ack)
	}
	if err := p.done(); err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); s.AckTimeouts != 3 {
		t.Fatalf("stats %+v", s)
	}
}

// TestSendSkipsFramesWhileWaitingForAck: an 06 byte inside a frame the peer
// sends (here 06 0F) is not an ACK.
func TestSendSkipsFramesWhileWaitingForAck(t *testing.T) {
	f := frameOf(t, "06 B0 00")
	l, p := testLink(t, steps(byte('>'), f, byte('<'), frameOf(t, "06 0F 00"), byte('<'), b(ack)))
	if err := l.Send(context.Background(), APDU{Class: 0x06, Instr: 0xB0}); err != nil {
		t.Fatal(err)
	}
	if err := p.done(); err != nil {
		t.Fatal(err)
	}
}

func TestReceiveNAKsBadCRCAndTakesRetransmission(t *testing.T) {
	good := frameOf(t, "80 00 00")
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 0x40
	l, p := testLink(t, steps(byte('<'), bad, byte('>'), b(nak), byte('<'), good, byte('>'), b(ack)))
	a, err := l.Receive(context.Background(), time.Second)
	if err != nil || !a.positive() {
		t.Fatalf("Receive = %v, %v", a, err)
	}
	if err := p.done(); err != nil {
		t.Fatal(err)
	}
}

func TestReceiveGivesUpAfterThreeBadFrames(t *testing.T) {
	bad := frameOf(t, "80 00 00")
	bad[len(bad)-1] ^= 0x40
	l, p := testLink(t, steps(byte('<'), bad, byte('>'), b(nak), byte('<'), bad, byte('>'), b(nak), byte('<'), bad, byte('>'), b(nak)))
	_, err := l.Receive(context.Background(), time.Second)
	if !errors.Is(err, ErrBadFrame) {
		t.Fatalf("err = %v; want ErrBadFrame", err)
	}
	if err := p.done(); err != nil {
		t.Fatal(err)
	}
}

func TestReceiveSkipsGarbage(t *testing.T) {
	garbage := b(0x00, 0xFF, 0x06, 0x15, 0x10, 0x41, 0x03, 0x10)
	l, p := testLink(t, steps(byte('<'), append(garbage, frameOf(t, "04 FF 01 0A")...), byte('>'), b(ack)))
	a, err := l.Receive(context.Background(), time.Second)
	if err != nil || a.Command() != cmdIntermediate || !bytes.Equal(a.Data, b(0x0A)) {
		t.Fatalf("Receive = %v, %v", a, err)
	}
	if err := p.done(); err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); s.SkippedBytes < 5 {
		t.Fatalf("skipped %d bytes; want the garbage counted", s.SkippedBytes)
	}
}

func TestReceiveNAKsFrameCutShort(t *testing.T) {
	good := frameOf(t, "80 00 00")
	l, p := testLink(t, steps(byte('<'), good[:5], byte('>'), b(nak), byte('<'), good, byte('>'), b(ack)))
	a, err := l.Receive(context.Background(), time.Second)
	if err != nil || !a.positive() {
		t.Fatalf("Receive = %v, %v", a, err)
	}
	if err := p.done(); err != nil {
		t.Fatal(err)
	}
}

func TestReceiveTimesOut(t *testing.T) {
	l, _ := testLink(t, nil)
	start := time.Now()
	_, err := l.Receive(context.Background(), 100*time.Millisecond)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v; want ErrTimeout", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 600*time.Millisecond {
		t.Fatalf("timed out after %v; want about 100ms", d)
	}
}

func TestReceiveHonoursContext(t *testing.T) {
	l, _ := testLink(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
	defer cancel()
	_, err := l.Receive(ctx, 0)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want context deadline", err)
	}
}

// TestReceiveMalformedAPDU: CRC right, APDU length wrong → ACKed (the
// transport got it), reported as ErrBadAPDU.
func TestReceiveMalformedAPDU(t *testing.T) {
	l, p := testLink(t, steps(byte('<'), frameOf(t, "04 0F 05 27"), byte('>'), b(ack)))
	_, err := l.Receive(context.Background(), time.Second)
	if !errors.Is(err, ErrBadAPDU) {
		t.Fatalf("err = %v; want ErrBadAPDU", err)
	}
	if err := p.done(); err != nil {
		t.Fatal(err)
	}
}
