package zvt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lango-pos/lango/internal/pty"
	"github.com/lango-pos/lango/terminal"
)

// Mode is how the emulated PDQ answers authorisations.
type Mode string

const (
	// ModeApprove approves every payment.
	ModeApprove Mode = "approve"
	// ModeDecline declines every payment (result code EmulatorConfig.DeclineCode).
	ModeDecline Mode = "decline"
	// ModeTimeout approves and journals the payment but never sends the
	// result or the completion: the till times out, and recovery must find
	// the charge.
	ModeTimeout Mode = "timeout"
	// ModeSilent goes quiet after the first intermediate status ("insert
	// card"), before any card is read: nothing is charged.
	ModeSilent Mode = "silent"
)

// ParseMode parses a --mode flag value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeApprove, ModeDecline, ModeTimeout, ModeSilent:
		return m, nil
	}
	return "", terminal.Errorf(terminal.EINVALID, "PDQ emulator mode %q: use approve, decline, timeout or silent", s)
}

// Card is the card the emulated customer presents.
type Card struct {
	PAN  string // masked digits as '*', e.g. "476173******0119"
	Name string // e.g. "VISA"
}

// EmulatorConfig configures an Emulator. Zero fields take defaults.
type EmulatorConfig struct {
	Mode        Mode   // default approve
	JournalPath string // where the journal is kept; "" keeps it in memory
	Password    string // default "000000"
	TerminalID  string // 8 digits, default "52000001"
	Card        Card   // default a masked VISA ending 0119
	DeclineCode byte   // result code of declines, default 0x05 (do not honour)
	// Think is how long the emulated customer takes at each step (card,
	// PIN), default 1 s. A 06 B0 from the till during it cancels.
	Think    time.Duration
	Timeouts Timeouts
	Now      func() time.Time // default time.Now
	Location *time.Location   // the PDQ clock's zone, default time.Local
	Logger   *slog.Logger
}

// EmulatorStats counts what the emulator saw on its link.
type EmulatorStats struct {
	LinkStats
	Commands int64 // ECR commands handled
}

// Emulator is a ZVT card terminal (PT side) for demos and tests: it answers
// registration, authorisation, abort and repeat receipt, keeps a journal,
// and refuses garbage without stopping. Its methods are safe for
// concurrent use; Serve runs one link at a time.
type Emulator struct {
	cfg      EmulatorConfig
	log      *slog.Logger
	password int64

	serveMu  sync.Mutex
	mu       sync.Mutex // guards mode, journal, busy
	mode     Mode
	journal  *journal
	busy     bool
	corrupt  atomic.Int32
	counters linkCounters
	commands atomic.Int64
}

// NewEmulator loads the journal (if any) and returns an emulator.
func NewEmulator(cfg EmulatorConfig) (*Emulator, error) {
	if cfg.Mode == "" {
		cfg.Mode = ModeApprove
	}
	if _, err := ParseMode(string(cfg.Mode)); err != nil {
		return nil, err
	}
	if cfg.Password == "" {
		cfg.Password = "000000"
	}
	pw, err := strconv.ParseInt(cfg.Password, 10, 64)
	if err != nil || len(cfg.Password) != 6 {
		return nil, terminal.Errorf(terminal.EINVALID, "the PDQ password must be 6 digits")
	}
	if cfg.TerminalID == "" {
		cfg.TerminalID = "52000001"
	}
	if len(cfg.TerminalID) != 8 || !isDigits(cfg.TerminalID) {
		return nil, terminal.Errorf(terminal.EINVALID, "the PDQ terminal id must be 8 digits")
	}
	if cfg.Card.PAN == "" {
		cfg.Card = Card{PAN: "476173******0119", Name: "VISA"}
	}
	if pan, err := encodePAN(cfg.Card.PAN); err != nil || len(pan) > 99 {
		return nil, terminal.Errorf(terminal.EINVALID, "emulated card number %q: digits and * only, at most 198", cfg.Card.PAN)
	}
	if len(cfg.Card.Name) > 99 || printable([]byte(cfg.Card.Name)) != cfg.Card.Name {
		return nil, terminal.Errorf(terminal.EINVALID, "emulated card name %q: printable ASCII, at most 99 characters", cfg.Card.Name)
	}
	if cfg.DeclineCode == 0 {
		cfg.DeclineCode = 0x05
	}
	if cfg.Think <= 0 {
		cfg.Think = time.Second
	}
	cfg.Timeouts = cfg.Timeouts.withDefaults()
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	j, err := loadJournal(cfg.JournalPath)
	if err != nil {
		return nil, err
	}
	return &Emulator{cfg: cfg, log: cfg.Logger, password: pw, mode: cfg.Mode, journal: j}, nil
}

// SetMode changes how later authorisations are answered.
func (e *Emulator) SetMode(m Mode) {
	e.mu.Lock()
	e.mode = m
	e.mu.Unlock()
}

// Mode returns the current mode.
func (e *Emulator) Mode() Mode {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.mode
}

// CorruptNextFrame makes the next frame the emulator sends carry a wrong
// CRC; the till should NAK it and get it again.
func (e *Emulator) CorruptNextFrame() { e.corrupt.Add(1) }

// Journal returns a copy of every transaction, oldest first.
func (e *Emulator) Journal() []Txn {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.journal.Txns)
}

// Charges returns the approved transactions.
func (e *Emulator) Charges() []Txn {
	var out []Txn
	for _, t := range e.Journal() {
		if t.Approved {
			out = append(out, t)
		}
	}
	return out
}

// Busy reports whether a command is being handled.
func (e *Emulator) Busy() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.busy
}

// Stats returns the link and command counters.
func (e *Emulator) Stats() EmulatorStats {
	return EmulatorStats{LinkStats: e.counters.snapshot(), Commands: e.commands.Load()}
}

// RunEmulator opens a pseudo-terminal, links it at link (as socat's
// pty,link= does; "" for none), and serves it until ctx is done: the
// `lango pdq emulate --pty LINK --mode M` command.
func RunEmulator(ctx context.Context, link string, cfg EmulatorConfig) error {
	e, err := NewEmulator(cfg)
	if err != nil {
		return err
	}
	p, err := pty.Open()
	if err != nil {
		return deviceError(err, "cannot open a pseudo-terminal for the PDQ emulator")
	}
	defer p.Close()
	if link != "" {
		if err := p.Link(link); err != nil {
			return deviceError(err, "cannot create the PDQ emulator's link %s", link)
		}
	}
	e.log.Info("PDQ emulator ready", "path", p.Path, "link", link, "mode", e.Mode(), "journal", cfg.JournalPath)
	return e.Serve(ctx, p.Master)
}

// Serve answers the till on rw (a pty master, a serial port, any
// io.ReadWriter; see AdaptPort) until ctx is done, then returns nil.
// Garbage and bad frames are NAKed or skipped; only a failing rw stops it.
func (e *Emulator) Serve(ctx context.Context, rw io.ReadWriter) error {
	if !e.serveMu.TryLock() {
		return errors.New("pdq emulator: already serving")
	}
	defer e.serveMu.Unlock()
	port, release, err := AdaptPort(rw)
	if err != nil {
		return fmt.Errorf("pdq emulator: %w", err)
	}
	defer release()
	l := NewLink(port, e.cfg.Timeouts, e.log)
	l.corrupt, l.stats = &e.corrupt, &e.counters
	for {
		a, err := l.Receive(ctx, 0)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrBadFrame) || errors.Is(err, ErrBadAPDU) {
			e.log.Info("pdq emulator: refused input", "err", err)
			continue
		}
		if err != nil {
			return fmt.Errorf("pdq emulator: %w", err)
		}
		e.setBusy(true)
		e.commands.Add(1)
		err = e.handle(ctx, l, a)
		e.setBusy(false)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			// The conversation failed (the till went away, a journal
			// write failed); the PDQ stays up for the next command.
			e.log.Warn("pdq emulator: command failed", "command", fmt.Sprintf("%02X %02X", a.Class, a.Instr), "err", err)
		}
	}
}

func (e *Emulator) setBusy(b bool) {
	e.mu.Lock()
	e.busy = b
	e.mu.Unlock()
}

// Negative acknowledgement codes the emulator answers with (84 xx).
const (
	refuseCode byte = 0x83 // function not possible (also: wrong password)
	protoError byte = 0x9A // ZVT protocol error (malformed command)
)

// positiveAck is 80 00 00.
func positiveAck() APDU { return APDU{Class: 0x80, Instr: 0x00} }

func (e *Emulator) handle(ctx context.Context, l *Link, a APDU) error {
	switch a.Command() {
	case cmdRegister:
		return e.register(ctx, l, a)
	case cmdAuthorise:
		return e.authorise(ctx, l, a)
	case cmdRepeatReceipt:
		return e.repeatReceipt(ctx, l, a)
	case cmdAbortECR:
		return l.Send(ctx, positiveAck()) // nothing running
	}
	if a.positive() || a.negative() {
		return nil // a late answer from the till: nothing to do
	}
	return l.Send(ctx, APDU{Class: 0x84, Instr: refuseCode})
}

// tell sends a PT-initiated message and waits for the till's 80 00 00.
func (e *Emulator) tell(ctx context.Context, l *Link, a APDU) error {
	if err := l.Send(ctx, a); err != nil {
		return err
	}
	r, err := l.Receive(ctx, e.cfg.Timeouts.Response)
	if err != nil {
		return fmt.Errorf("answer to %02X %02X: %w", a.Class, a.Instr, err)
	}
	if !r.positive() {
		return fmt.Errorf("%w: till answered %02X %02X with %02X %02X", ErrBadAPDU, a.Class, a.Instr, r.Class, r.Instr)
	}
	return nil
}

func (e *Emulator) checkPassword(b []byte) bool {
	if len(b) < 3 {
		return false
	}
	pw, err := decodeBCD(b[:3])
	return err == nil && pw == e.password
}

func (e *Emulator) register(ctx context.Context, l *Link, a APDU) error {
	if len(a.Data) < 4 {
		return l.Send(ctx, APDU{Class: 0x84, Instr: protoError})
	}
	if !e.checkPassword(a.Data) {
		return l.Send(ctx, APDU{Class: 0x84, Instr: refuseCode})
	}
	if err := l.Send(ctx, positiveAck()); err != nil {
		return err
	}
	tid, _ := strconv.ParseInt(e.cfg.TerminalID, 10, 64)
	data, _ := appendBMP(nil, bmpPaymentType, []byte{0x00}) // terminal status: ready
	data, _ = appendBMP(data, bmpTerminalID, mustBCD(tid, 4))
	return e.tell(ctx, l, APDU{Class: 0x06, Instr: 0x0F, Data: data})
}

// parseAuthorisation reads the amount (required) and currency (default
// KES) of a 06 01.
func parseAuthorisation(data []byte) (int64, terminal.Currency, error) {
	bmps, err := DecodeBMPs(data)
	if err != nil {
		return 0, "", err
	}
	amount, cur := int64(-1), terminal.Currency("KES")
	for _, f := range bmps {
		switch f.Tag {
		case bmpAmount:
			if amount, err = decodeBCD(f.Value); err != nil {
				return 0, "", err
			}
		case bmpCurrency:
			n, err := decodeBCD(f.Value)
			if err != nil {
				return 0, "", err
			}
			if cur = currencyOf(int(n)); cur == "" {
				return 0, "", fmt.Errorf("currency %03d not accepted", n)
			}
		}
	}
	if amount <= 0 {
		return 0, "", fmt.Errorf("%w: authorisation without an amount", ErrBadAPDU)
	}
	return amount, cur, nil
}

func (e *Emulator) intermediate(ctx context.Context, l *Link, code byte) error {
	err := e.tell(ctx, l, APDU{Class: 0x04, Instr: 0xFF, Data: []byte{code}})
	if err != nil && ctx.Err() == nil {
		// A PDQ carries on when the till misses a status message.
		e.log.Info("pdq emulator: intermediate status not acknowledged", "status", code, "err", err)
		return nil
	}
	return err
}

// think lets the emulated customer act for d; a 06 B0 from the till
// meanwhile cancels (true).
func (e *Emulator) think(ctx context.Context, l *Link, d time.Duration) (bool, error) {
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false, nil
		}
		a, err := l.Receive(ctx, left)
		switch {
		case errors.Is(err, ErrTimeout):
			return false, nil
		case errors.Is(err, ErrBadFrame) || errors.Is(err, ErrBadAPDU):
			continue
		case err != nil:
			return false, err
		case a.Command() == cmdAbortECR:
			return true, l.Send(ctx, positiveAck())
		case a.positive() || a.negative():
			continue
		}
		if err := l.Send(ctx, APDU{Class: 0x84, Instr: refuseCode}); err != nil {
			return false, err
		}
	}
}

func (e *Emulator) authorise(ctx context.Context, l *Link, a APDU) error {
	amount, cur, err := parseAuthorisation(a.Data)
	if err != nil {
		e.log.Info("pdq emulator: bad authorisation", "err", err)
		return l.Send(ctx, APDU{Class: 0x84, Instr: protoError})
	}
	mode := e.Mode()
	if err := l.Send(ctx, positiveAck()); err != nil {
		return err
	}
	if err := e.intermediate(ctx, l, 0x0A); err != nil { // insert card
		return err
	}
	if mode == ModeSilent {
		e.log.Info("pdq emulator: going silent mid-transaction (mode silent)")
		return nil
	}
	steps := []byte{0x01, 0x04} // watch PIN pad; waiting for the bank
	for _, next := range steps {
		aborted, err := e.think(ctx, l, e.cfg.Think)
		if err != nil {
			return err
		}
		if aborted {
			return e.tell(ctx, l, APDU{Class: 0x06, Instr: 0x1E, Data: []byte{0x6C}})
		}
		if err := e.intermediate(ctx, l, next); err != nil {
			return err
		}
	}
	approved := mode != ModeDecline
	t := Txn{Amount: amount, Currency: cur, Approved: approved, PAN: e.cfg.Card.PAN, CardName: e.cfg.Card.Name, Time: e.cfg.Now()}
	if !approved {
		t.ResultCode = int(e.cfg.DeclineCode)
	}
	e.mu.Lock()
	if approved {
		t.Approval = fmt.Sprintf("%06d", (e.journal.NextTrace*7919+104729)%1000000)
	}
	t, err = e.journal.add(t)
	e.mu.Unlock()
	if err != nil {
		_ = e.tell(ctx, l, APDU{Class: 0x06, Instr: 0x1E, Data: []byte{0xFF}})
		return err
	}
	e.log.Info("pdq emulator: transaction", "trace", t.Trace, "amount", terminal.Money{Currency: cur, Minor: amount}.String(), "approved", approved)
	if mode == ModeTimeout {
		e.log.Info("pdq emulator: withholding the result (mode timeout)", "trace", t.Trace)
		return nil
	}
	if err := e.tell(ctx, l, e.statusInfo(t)); err != nil {
		return fmt.Errorf("result of trace %d not delivered: %w", t.Trace, err)
	}
	e.mu.Lock()
	err = e.journal.markDelivered(t.Trace)
	e.mu.Unlock()
	if err != nil {
		return err
	}
	if !approved {
		return e.tell(ctx, l, APDU{Class: 0x06, Instr: 0x1E, Data: []byte{e.cfg.DeclineCode}})
	}
	return e.tell(ctx, l, APDU{Class: 0x06, Instr: 0x0F, Data: []byte{bmpPaymentType, 0x00}})
}

func (e *Emulator) repeatReceipt(ctx context.Context, l *Link, a APDU) error {
	if !e.checkPassword(a.Data) {
		return l.Send(ctx, APDU{Class: 0x84, Instr: refuseCode})
	}
	if err := l.Send(ctx, positiveAck()); err != nil {
		return err
	}
	e.mu.Lock()
	t, ok := e.journal.last()
	e.mu.Unlock()
	if ok {
		if err := e.tell(ctx, l, e.statusInfo(t)); err != nil {
			return err
		}
	}
	return e.tell(ctx, l, APDU{Class: 0x06, Instr: 0x0F, Data: []byte{bmpPaymentType, 0x00}})
}

// statusInfo is the 04 0F for t.
func (e *Emulator) statusInfo(t Txn) APDU {
	at := t.Time.In(e.cfg.Location)
	num, _ := isoNumeric(t.Currency)
	tid, _ := strconv.ParseInt(e.cfg.TerminalID, 10, 64)
	pan, _ := encodePAN(t.PAN)
	var d []byte
	add := func(tag byte, v []byte) { d, _ = appendBMP(d, tag, v) }
	add(bmpResultCode, []byte{byte(t.ResultCode)})
	add(bmpAmount, mustBCD(t.Amount, 6))
	add(bmpTrace, mustBCD(int64(t.Trace), 3))
	add(bmpTime, mustBCD(int64(at.Hour()*10000+at.Minute()*100+at.Second()), 3))
	add(bmpDate, mustBCD(int64(int(at.Month())*100+at.Day()), 2))
	add(bmpDateFull, mustBCD(int64(at.Year()%100*10000+int(at.Month())*100+at.Day()), 3))
	add(bmpPAN, pan)
	add(bmpTerminalID, mustBCD(tid, 4))
	if t.Approved {
		aid := make([]byte, 8)
		copy(aid, t.Approval)
		add(bmpAID, aid)
	}
	add(bmpCurrency, mustBCD(int64(num), 2))
	add(bmpReceipt, mustBCD(int64(t.Receipt), 2))
	if t.CardName != "" {
		add(bmpCardName, []byte(t.CardName))
	}
	return APDU{Class: 0x04, Instr: 0x0F, Data: d}
}
