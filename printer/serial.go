package printer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"sync"
	"syscall"
	"time"

	"go.bug.st/serial"

	"github.com/lango-pos/lango/printer/escpos"
	"github.com/lango-pos/lango/terminal"
)

// port is what the serial transport needs of a serial port; a
// go.bug.st/serial Port satisfies it, and tests script one.
type port interface {
	io.ReadWriter
	SetReadTimeout(time.Duration) error
	Close() error
}

// openSerial opens path with go.bug.st/serial at baud, 8N1. Modem bits are
// left alone (InitialStatusBits nil), which is what a pseudo-terminal and
// printers that ignore DTR/RTS need.
func openSerial(path string, baud int) (port, error) {
	p, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Serial is a printer on a serial line (RS-232, or USB with a serial
// adapter or a CDC-ACM printer). It keeps the port open between jobs and
// reopens it after an error, so a printer unplugged and plugged back works
// again without a restart. One job or status query runs at a time.
type Serial struct {
	spec Spec
	opts Options
	log  *slog.Logger
	open func(path string, baud int) (port, error)

	mu sync.Mutex
	c  *conn
}

// NewSerial returns the printer s names; nothing is opened until it is
// used.
func NewSerial(s Spec, opts Options) *Serial {
	opts = opts.withDefaults()
	return &Serial{spec: s, opts: opts, log: opts.Logger.With("printer", s.Path), open: openSerial}
}

// Profile is the model the jobs must be laid out for.
func (p *Serial) Profile() Profile { return p.spec.Profile }

// Close closes the port.
func (p *Serial) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.disconnect()
}

func (p *Serial) disconnect() error {
	if p.c == nil {
		return nil
	}
	err := p.c.close()
	p.c = nil
	return err
}

// connect returns the open connection, opening the port if needed.
func (p *Serial) connect() (*conn, error) {
	if p.c != nil && p.c.alive() {
		return p.c, nil
	}
	_ = p.disconnect()
	pt, err := p.open(p.spec.Path, p.spec.Baud)
	if err != nil {
		return nil, openError(p.spec.Path, err)
	}
	p.c = startConn(pt, p.spec.Flow == FlowXonXoff, p.log)
	// A previous session may have died inside a command (the terminal was
	// killed mid-raster): clear the printer's buffers, then initialise it,
	// so the first job is not swallowed as the rest of that command.
	if err := p.c.write(append(escpos.ClearBuffers(), escpos.ESC, '@')); err != nil {
		_ = p.disconnect()
		return nil, openError(p.spec.Path, err)
	}
	return p.c, nil
}

// openError says why a port did not open, in words for the counter.
func openError(path string, err error) error {
	var pe *serial.PortError
	code := serial.PortErrorCode(-1)
	if errors.As(err, &pe) {
		code = pe.Code()
	}
	switch {
	case code == serial.PortNotFound || errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENXIO):
		return deviceError(err, "no printer port %s: is the printer plugged in and switched on? (lango printer list shows the ports)", path)
	case code == serial.PermissionDenied || errors.Is(err, fs.ErrPermission):
		return deviceError(err, "no permission to open printer port %s: add the user to the dialout group", path)
	case code == serial.PortBusy || errors.Is(err, syscall.EBUSY):
		return deviceError(err, "printer port %s is in use by another program", path)
	case code == serial.InvalidSerialPort || errors.Is(err, syscall.ENOTTY):
		return deviceError(err, "%s is not a serial port", path)
	}
	return deviceError(err, "cannot open printer port %s", path)
}

func (p *Serial) where() string { return "on " + p.spec.Path }

// Status asks the printer for its status (DLE EOT 1, 2 and 4).
func (p *Serial) Status(ctx context.Context) (Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, err := p.connect()
	if err != nil {
		return Status{}, err
	}
	st, err := p.query(ctx, c)
	if err != nil {
		_ = p.disconnect()
	}
	return st, err
}

// query sends the three status requests, one at a time, each only after
// the previous answer, and decodes the answers.
func (p *Serial) query(ctx context.Context, c *conn) (Status, error) {
	c.drain()
	var r [3]byte
	for i, n := range []byte{escpos.StatusPrinter, escpos.StatusOffline, escpos.StatusPaper} {
		if err := c.write(escpos.StatusQuery(n)); err != nil {
			return Status{}, deviceError(err, "cannot write to the printer %s", p.where())
		}
		b, err := c.await(ctx, p.opts.StatusTimeout, escpos.IsStatusReply)
		if err != nil {
			if ctx.Err() != nil {
				return Status{}, deviceError(err, "status query cancelled")
			}
			return Status{}, deviceError(err, "the printer %s does not answer: is it switched on and connected, at %d baud?", p.where(), p.spec.Baud)
		}
		r[i] = b
	}
	st, err := escpos.DecodeStatus(r[0], r[1], r[2])
	if err != nil {
		return Status{}, deviceError(err, "the printer %s sent a garbled status", p.where())
	}
	return st, nil
}

// Print sends job and waits until the printer has processed it: it checks
// the status first, paces the bytes to the line speed and obeys XON/XOFF,
// then sends GS r 1, which the printer answers only after everything
// before it, and checks the status again. Any failure is EDEVICE; an
// interruption (ctx done mid-job) is an *Interrupted saying where the job
// can go on (PrintFrom).
func (p *Serial) Print(ctx context.Context, job []byte) error { return p.PrintFrom(ctx, job, 0) }

// PrintFrom prints job from offset from, a point an *Interrupted named for
// these same bytes: it resets the printer, replays the job's modes up to
// from (escpos.ResumePrefix) and sends the rest, so nothing printed before
// the interruption prints again. An offset that is not a command boundary
// of job prints it whole.
func (p *Serial) PrintFrom(ctx context.Context, job []byte, from int) error {
	return p.PrintProgress(ctx, job, from, nil)
}

// PrintProgress is PrintFrom telling progress, as the bytes go out, each
// offset up to which the paper will hold the job whole
// (escpos.PrintedWhole: the end of a line, a feed, a printed QR code, a
// GS v 0 band) once it passes one, at most once per slice written (about
// 20 ms of line). A process killed part way has then told, at worst, a
// point one slice behind what went out: recorded durably, the next
// attempt goes on from there (PrintFrom) instead of printing again from
// the start. progress runs on the sending goroutine and must not block
// (the spool hands the point to a recorder); nil tells nothing.
func (p *Serial) PrintProgress(ctx context.Context, job []byte, from int, progress func(at int)) error {
	if err := escpos.Validate(job); err != nil {
		return &terminal.Error{Kind: terminal.EINVALID, Message: "the print job is damaged", Err: err}
	}
	if from < 0 || from > len(job) || escpos.CommandEnd(job, from) != from {
		from = 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c, err := p.connect()
	if err != nil {
		return err
	}
	if err := p.print(ctx, c, job, from, progress); err != nil {
		_ = p.disconnect()
		return err
	}
	return nil
}

func (p *Serial) print(ctx context.Context, c *conn, job []byte, from int, progress func(int)) error {
	start := time.Now()
	st, err := p.query(ctx, c)
	if err != nil {
		return err
	}
	if !st.Ready() {
		return notReady(p.where(), st)
	}
	if err := p.send(ctx, c, job, from, progress); err != nil {
		return err
	}
	c.drain() // stray answers to status bytes that occurred inside image data
	if err := c.write(escpos.JobDoneQuery()); err != nil {
		return deviceError(err, "cannot write to the printer %s", p.where())
	}
	b, err := c.await(ctx, p.opts.DoneTimeout, escpos.IsSensorReply)
	if err != nil {
		if st, qerr := p.query(ctx, c); qerr == nil && !st.Ready() {
			e := notReady(p.where(), st)
			e.Message += "; the last job may be incomplete"
			return e
		}
		return deviceError(err, "the printer %s did not confirm the job", p.where())
	}
	if _, out, _ := escpos.DecodeSensor(b); out {
		return notReady(p.where(), Status{Reachable: true, PaperOut: true})
	}
	st, err = p.query(ctx, c)
	if err != nil {
		return err
	}
	if !st.Ready() {
		return notReady(p.where(), st)
	}
	p.log.Info("printed", "bytes", len(job), "from", from, "took", time.Since(start).Round(time.Millisecond), "status", st.Code())
	return nil
}

// send writes job from offset from (after escpos.ResumePrefix when from is
// not 0) no faster than the line carries it, in slices of about 20 ms of
// line time, waiting while the printer has sent XOFF. If ctx ends mid-job
// it does not leave the printer inside a command, nor the paper with part
// of an image or a line: it goes on to the job's next escpos.StopPoint,
// resets the printer (ESC @) and returns an *Interrupted at that point.
func (p *Serial) send(ctx context.Context, c *conn, job []byte, from int, progress func(int)) error {
	prefix := escpos.ResumePrefix(job, from)
	told := from // the last offset progress was told
	wire := append(prefix, job[from:]...)
	rate := float64(max(1, p.spec.Baud/10))
	chunk := max(16, int(rate/50))
	// next is when the line is free again. It never lags behind now, so a
	// pause (XOFF) earns no credit for a burst afterwards.
	next := time.Now()
	sent := 0
	for sent < len(wire) {
		if ctx.Err() != nil {
			// Checked at every slice: a late line (a loaded machine) skips
			// the pacing sleep, where the select would notice.
			return p.abort(c, job, from, wire, len(prefix), sent, ctx.Err())
		}
		if err := c.waitFlow(ctx, p.opts.StallTimeout); err != nil {
			if ctx.Err() != nil {
				return p.abort(c, job, from, wire, len(prefix), sent, ctx.Err())
			}
			return deviceError(err, "the printer %s stopped taking data: check its paper and cover", p.where())
		}
		n := min(chunk, len(wire)-sent)
		if err := c.write(wire[sent : sent+n]); err != nil {
			return deviceError(err, "cannot write to the printer %s", p.where())
		}
		sent += n
		if progress != nil && sent > len(prefix) {
			if w := escpos.PrintedWhole(job, told, from+sent-len(prefix)); w > told {
				progress(w)
				told = w
			}
		}
		if now := time.Now(); next.Before(now) {
			next = now
		}
		next = next.Add(time.Duration(float64(n) / rate * float64(time.Second)))
		if d := time.Until(next); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return p.abort(c, job, from, wire, len(prefix), sent, ctx.Err())
			}
		}
	}
	return nil
}

// Interrupted is the error of a job stopped part way on purpose (its
// context ended): the paper holds job[:At] whole, and PrintFrom(job, At)
// prints the rest.
type Interrupted struct {
	At  int
	Err error // EDEVICE, for the attendant
}

func (e *Interrupted) Error() string { return e.Err.Error() }
func (e *Interrupted) Unwrap() error { return e.Err }

// abort stops a job sent up to byte sent of wire (prefix bytes of replayed
// modes, then job[from:]): it sends on to the job's next stop point, so an
// image under way prints whole and a line is not left in the buffer, then
// resets the printer.
func (p *Serial) abort(c *conn, job []byte, from int, wire []byte, prefix, sent int, cause error) error {
	var rest []byte
	at := from
	if sent <= prefix {
		rest = wire[sent:escpos.CommandEnd(wire, sent)]
	} else {
		jsent := from + sent - prefix
		at = escpos.StopPoint(job, jsent)
		rest = job[jsent:at]
	}
	rest = append(append([]byte(nil), rest...), escpos.ESC, '@')
	stall, cancel := context.WithTimeout(context.Background(), p.opts.StallTimeout)
	defer cancel()
	rate := float64(max(1, p.spec.Baud/10))
	for len(rest) > 0 {
		if err := c.waitFlow(stall, p.opts.StallTimeout); err != nil {
			at = -1
			break
		}
		n := min(64, len(rest))
		if err := c.write(rest[:n]); err != nil {
			at = -1
			break
		}
		rest = rest[n:]
		// Paced as in send: a printer without flow control has a small
		// buffer.
		t := time.NewTimer(time.Duration(float64(n) / rate * float64(time.Second)))
		<-t.C
	}
	total := len(wire) - prefix + from
	p.log.Warn("print job interrupted", "sent", from+max(0, sent-prefix), "stopped_at", at, "of", total)
	e := deviceError(cause, "printing was interrupted after %d of %d bytes", max(at, from), total)
	if at < 0 {
		return e // the stop point was not reached: where the paper stops is unknown
	}
	return &Interrupted{At: at, Err: e}
}

// conn is an open port with a reader that routes the printer's bytes:
// XON/XOFF to the flow state, everything else to replies.
type conn struct {
	p       port
	xonxoff bool
	log     *slog.Logger
	replies chan byte
	dead    chan struct{}
	err     error // why the reader stopped; read after dead is closed
	wg      sync.WaitGroup

	mu     sync.Mutex
	xoff   bool
	resume chan struct{} // closed at XON
}

func startConn(p port, xonxoff bool, log *slog.Logger) *conn {
	_ = p.SetReadTimeout(100 * time.Millisecond)
	c := &conn{p: p, xonxoff: xonxoff, log: log, replies: make(chan byte, 256), dead: make(chan struct{})}
	c.wg.Add(1)
	go c.read()
	return c
}

func (c *conn) read() {
	defer c.wg.Done()
	defer close(c.dead)
	buf := make([]byte, 256)
	for {
		n, err := c.p.Read(buf)
		for _, b := range buf[:n] {
			if c.xonxoff && (b == escpos.XON || b == escpos.XOF) {
				c.flow(b == escpos.XOF)
				continue
			}
			select {
			case c.replies <- b:
			default:
				c.log.Debug("printer reply dropped", "byte", b)
			}
		}
		if err != nil {
			c.err = err
			return
		}
	}
}

func (c *conn) flow(off bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case off && !c.xoff:
		c.xoff = true
		c.resume = make(chan struct{})
	case !off && c.xoff:
		c.xoff = false
		close(c.resume)
	}
}

// waitFlow returns once the printer accepts data (no XOFF pending).
func (c *conn) waitFlow(ctx context.Context, stall time.Duration) error {
	c.mu.Lock()
	if !c.xoff {
		c.mu.Unlock()
		return nil
	}
	ch := c.resume
	c.mu.Unlock()
	t := time.NewTimer(stall)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("XOFF for %v", stall)
	case <-c.dead:
		return c.readErr()
	}
}

func (c *conn) alive() bool {
	select {
	case <-c.dead:
		return false
	default:
		return true
	}
}

func (c *conn) readErr() error {
	if c.err != nil {
		return fmt.Errorf("port closed: %w", c.err)
	}
	return errors.New("port closed")
}

func (c *conn) write(b []byte) error {
	for len(b) > 0 {
		n, err := c.p.Write(b)
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrShortWrite
		}
		b = b[n:]
	}
	return nil
}

// drain discards replies nobody asked for.
func (c *conn) drain() {
	for {
		select {
		case <-c.replies:
		default:
			return
		}
	}
}

var errNoAnswer = errors.New("no answer")

// await returns the next reply that accept takes, discarding others.
func (c *conn) await(ctx context.Context, timeout time.Duration, accept func(byte) bool) (byte, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case b := <-c.replies:
			if accept(b) {
				return b, nil
			}
			c.log.Debug("unexpected printer byte", "byte", b)
		case <-t.C:
			return 0, fmt.Errorf("%w in %v", errNoAnswer, timeout)
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-c.dead:
			return 0, c.readErr()
		}
	}
}

func (c *conn) close() error {
	err := c.p.Close()
	c.wg.Wait()
	if err != nil {
		return fmt.Errorf("close printer port: %w", err)
	}
	return nil
}
