package zvt

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"
)

// Port is what the ZVT link needs from a serial line. go.bug.st/serial's
// Port satisfies it: a read that times out returns (0, nil). AdaptPort makes
// one from an *os.File (a pty master) or any io.ReadWriter.
type Port interface {
	io.ReadWriter
	SetReadTimeout(time.Duration) error
}

// Timeouts of the link and of the conversations on it. Zero fields take the
// defaults of DefaultTimeouts.
type Timeouts struct {
	// Byte is the longest gap allowed between two bytes of one frame (T1).
	// A frame cut short is answered with NAK.
	Byte time.Duration
	// Ack is how long a sender waits for ACK or NAK after a frame (T3).
	Ack time.Duration
	// Tries is how many times a frame is sent before giving up (the first
	// send plus retransmissions after NAK or a missing ACK); also how many
	// bad frames in a row a receiver NAKs before giving up.
	Tries int
	// Response is how long the ECR waits for the PDQ's answer (80 00 00 or
	// 84 xx) to a command, and the emulator for the ECR's 80 00 00 after
	// each message it sends.
	Response time.Duration
	// Idle is the longest silence allowed from the PDQ while it runs a
	// transaction (between intermediate statuses, status information and
	// completion). A customer keying a PIN or a slow bank fits in it.
	Idle time.Duration
	// Transaction bounds a whole authorisation or recovery query.
	Transaction time.Duration
	// Poll is the longest single blocking read, so a cancelled context is
	// noticed within Poll.
	Poll time.Duration
}

// DefaultTimeouts are the values used for real PDQs: Byte 500 ms, Ack 5 s,
// 3 tries, Response 5 s, Idle 180 s, Transaction 300 s, Poll 100 ms.
// A dead PDQ is reported after Tries × Ack = 15 s.
func DefaultTimeouts() Timeouts {
	return Timeouts{
		Byte:        500 * time.Millisecond,
		Ack:         5 * time.Second,
		Tries:       3,
		Response:    5 * time.Second,
		Idle:        180 * time.Second,
		Transaction: 300 * time.Second,
		Poll:        100 * time.Millisecond,
	}
}

func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts()
	if t.Byte <= 0 {
		t.Byte = d.Byte
	}
	if t.Ack <= 0 {
		t.Ack = d.Ack
	}
	if t.Tries <= 0 {
		t.Tries = d.Tries
	}
	if t.Response <= 0 {
		t.Response = d.Response
	}
	if t.Idle <= 0 {
		t.Idle = d.Idle
	}
	if t.Transaction <= 0 {
		t.Transaction = d.Transaction
	}
	if t.Poll <= 0 {
		t.Poll = d.Poll
	}
	return t
}

// LinkStats counts transport events, for tests and diagnostics.
type LinkStats struct {
	FramesSent, FramesReceived int64
	Retransmits                int64 // frames sent again after NAK or no ACK
	NAKsSent, NAKsReceived     int64
	AckTimeouts                int64
	SkippedBytes               int64 // garbage outside frames
}

type linkCounters struct {
	framesSent, framesReceived, retransmits atomic.Int64
	naksSent, naksReceived, ackTimeouts     atomic.Int64
	skipped                                 atomic.Int64
}

func (c *linkCounters) snapshot() LinkStats {
	return LinkStats{
		FramesSent: c.framesSent.Load(), FramesReceived: c.framesReceived.Load(),
		Retransmits: c.retransmits.Load(),
		NAKsSent:    c.naksSent.Load(), NAKsReceived: c.naksReceived.Load(),
		AckTimeouts: c.ackTimeouts.Load(), SkippedBytes: c.skipped.Load(),
	}
}

// Link is the ZVT serial transport over a Port: it frames APDUs, answers
// ACK/NAK, retransmits and times out. It is used by one goroutine at a time;
// CorruptNextFrame and Stats may be called from any goroutine.
type Link struct {
	port   Port
	t      Timeouts
	log    *slog.Logger
	parser frameParser // persists across calls, so no byte is lost between them
	buf    [512]byte
	pos    int
	end    int

	corrupt *atomic.Int32 // frames still to send with a broken CRC
	stats   *linkCounters
}

// NewLink returns a link over p. A nil logger discards.
func NewLink(p Port, t Timeouts, log *slog.Logger) *Link {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Link{port: p, t: t.withDefaults(), log: log, corrupt: new(atomic.Int32), stats: new(linkCounters)}
}

// CorruptNextFrame makes the next frame sent carry a wrong CRC (once; its
// retransmission is correct). For tests and the emulator.
func (l *Link) CorruptNextFrame() { l.corrupt.Add(1) }

// Stats returns the transport counters.
func (l *Link) Stats() LinkStats { return l.stats.snapshot() }

// errReadTimeout is readByte's deadline; callers turn it into ErrTimeout or
// a missing ACK.
var errReadTimeout = errors.New("read deadline")

// readByte returns the next byte, waiting until deadline (zero: no deadline,
// only ctx). Reads are sliced to t.Poll so ctx is honoured.
func (l *Link) readByte(ctx context.Context, deadline time.Time) (byte, error) {
	for l.pos >= l.end {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		wait := l.t.Poll
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return 0, errReadTimeout
			}
			wait = min(wait, left)
		}
		if err := l.port.SetReadTimeout(wait); err != nil {
			return 0, fmt.Errorf("set read timeout: %w", err)
		}
		n, err := l.port.Read(l.buf[:])
		if n > 0 {
			l.pos, l.end = 0, n
			l.debug("zvt read", "bytes", l.buf[:n])
			break
		}
		if err != nil {
			return 0, fmt.Errorf("read: %w", err)
		}
	}
	b := l.buf[l.pos]
	l.pos++
	return b, nil
}

// discardInput drops buffered input and half-read frames (and, when the port
// can, the driver's input queue): before a new command anything pending is
// stale by definition, e.g. frames a PDQ sent while the till was down.
func (l *Link) discardInput() error {
	l.pos, l.end = 0, 0
	l.parser.reset()
	if r, ok := l.port.(interface{ ResetInputBuffer() error }); ok {
		if err := r.ResetInputBuffer(); err != nil {
			return fmt.Errorf("reset input: %w", err)
		}
	}
	return nil
}

// debug logs raw bytes in hex, formatting them only when debug is on.
func (l *Link) debug(msg, key string, b []byte) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.log.Debug(msg, key, hex.EncodeToString(b))
	}
}

func (l *Link) write(b []byte) error {
	l.debug("zvt write", "bytes", b)
	if _, err := l.port.Write(b); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// Send frames a and writes it until the peer ACKs it: a NAK or no answer
// within t.Ack sends it again, up to t.Tries times in all (ErrNoAck).
// Frames the peer sends meanwhile are not acknowledged, so the peer will
// repeat them.
func (l *Link) Send(ctx context.Context, a APDU) error {
	raw, err := a.Encode()
	if err != nil {
		return err
	}
	frame := EncodeFrame(raw)
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.log.Debug("zvt send", "apdu", a.String())
	}
	var last string
	for try := 1; try <= l.t.Tries; try++ {
		out := frame
		if l.takeCorrupt() {
			out = append([]byte(nil), frame...)
			out[len(out)-2] ^= 0xFF
		}
		if try > 1 {
			l.stats.retransmits.Add(1)
		}
		if err := l.write(out); err != nil {
			return err
		}
		l.stats.framesSent.Add(1)
		got, err := l.waitAck(ctx, time.Now().Add(l.t.Ack))
		if err != nil {
			return err
		}
		switch got {
		case ack:
			return nil
		case nak:
			l.stats.naksReceived.Add(1)
			last = "NAK"
		default:
			l.stats.ackTimeouts.Add(1)
			last = "no answer"
		}
		l.log.Info("zvt frame not acknowledged", "apdu", fmt.Sprintf("%02X %02X", a.Class, a.Instr), "try", try, "answer", last)
	}
	return fmt.Errorf("%w: %02X %02X sent %d times, last answer: %s", ErrNoAck, a.Class, a.Instr, l.t.Tries, last)
}

func (l *Link) takeCorrupt() bool {
	for {
		n := l.corrupt.Load()
		if n <= 0 {
			return false
		}
		if l.corrupt.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// waitAck reads until ACK or NAK outside a frame (returned), or deadline
// (returns 0). Other bytes and whole frames are skipped unacknowledged.
func (l *Link) waitAck(ctx context.Context, deadline time.Time) (byte, error) {
	var p frameParser
	for {
		b, err := l.readByte(ctx, deadline)
		if errors.Is(err, errReadTimeout) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if p.hunting() && (b == ack || b == nak) {
			return b, nil
		}
		if p.hunting() && b != dle {
			l.stats.skipped.Add(1)
		}
		p.feed(b)
	}
}

// Receive waits up to wait (0: until ctx is done) for the start of a frame,
// then reads it, answers ACK when its CRC is right and NAK when not, and
// returns its APDU. Garbage before DLE STX and stray ACK/NAK bytes are
// skipped. A frame cut short (no byte for t.Byte) or bad is NAKed and its
// retransmission awaited; after t.Tries bad frames in a row Receive gives
// up with ErrBadFrame. A frame whose CRC is right but whose APDU is
// malformed is ACKed (the transport got it intact) and reported as
// ErrBadAPDU. Timeouts are ErrTimeout.
func (l *Link) Receive(ctx context.Context, wait time.Duration) (APDU, error) {
	var deadline time.Time
	if wait > 0 {
		deadline = time.Now().Add(wait)
	}
	bad := 0
	var byteDeadline time.Time
	for {
		dl := deadline
		if l.parser.inFrame() {
			dl = byteDeadline
		}
		b, err := l.readByte(ctx, dl)
		if errors.Is(err, errReadTimeout) {
			if !l.parser.inFrame() {
				return APDU{}, fmt.Errorf("%w: no frame within %v", ErrTimeout, wait)
			}
			l.parser.reset()
			if err := l.refuse(&bad, "frame cut short", &deadline); err != nil {
				return APDU{}, err
			}
			continue
		}
		if err != nil {
			return APDU{}, err
		}
		if l.parser.hunting() && b != dle && !(l.parser.state == huntDLE && b == stx) {
			l.stats.skipped.Add(1)
		}
		ev, raw := l.parser.feed(b)
		byteDeadline = time.Now().Add(l.t.Byte)
		switch ev {
		case evFrame:
			l.stats.framesReceived.Add(1)
			if err := l.write([]byte{ack}); err != nil {
				return APDU{}, err
			}
			a, err := DecodeAPDU(raw)
			if err != nil {
				return APDU{}, err
			}
			if l.log.Enabled(context.Background(), slog.LevelDebug) {
				l.log.Debug("zvt receive", "apdu", a.String())
			}
			return a, nil
		case evBadCRC:
			err = l.refuse(&bad, "bad CRC", &deadline)
		case evFraming:
			err = l.refuse(&bad, "bad DLE sequence", &deadline)
		case evTooLong:
			err = l.refuse(&bad, "frame too long", &deadline)
		}
		if err != nil {
			return APDU{}, err
		}
	}
}

// refuse answers a bad frame with NAK and, unless this was the last try,
// extends the deadline so the retransmission can arrive.
func (l *Link) refuse(bad *int, why string, deadline *time.Time) error {
	*bad++
	l.stats.naksSent.Add(1)
	l.log.Info("zvt frame refused", "reason", why, "count", *bad)
	if err := l.write([]byte{nak}); err != nil {
		return err
	}
	if *bad >= l.t.Tries {
		return fmt.Errorf("%w: %s (%d in a row)", ErrBadFrame, why, *bad)
	}
	if !deadline.IsZero() {
		if retry := time.Now().Add(l.t.Ack); retry.After(*deadline) {
			*deadline = retry
		}
	}
	return nil
}
