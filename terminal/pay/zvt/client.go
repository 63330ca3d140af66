package zvt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/lango-pos/lango/terminal"
	"go.bug.st/serial"
)

// maxAmount is the largest amount BMP 04 can carry: 12 BCD digits.
const maxAmount = 999_999_999_999

// Config configures a Client. Zero fields take defaults.
type Config struct {
	// Password is the PDQ's 6-digit ECR password (default "000000").
	Password string
	// Currency is announced at registration (default KES).
	Currency terminal.Currency
	// ConfigByte is the registration config byte (default 0x08: send
	// intermediate status to the ECR). Amount entry, receipts and the
	// admin menu stay on the PDQ, so it still works standalone (manual
	// mode) when the till is down.
	ConfigByte byte
	Timeouts   Timeouts
	// ClockSkew is how far the PDQ's clock may be from the till's when
	// recovery matches a transaction by time (default 10 minutes).
	ClockSkew time.Duration
	// Now is the till's clock (default time.Now); it stamps results.
	Now func() time.Time
	// Location is the PDQ clock's time zone (default time.Local).
	Location *time.Location
	Logger   *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Password == "" {
		c.Password = "000000"
	}
	if len(c.Password) != 6 || !isDigits(c.Password) {
		return c, terminal.Errorf(terminal.EINVALID, "the PDQ password must be 6 digits")
	}
	if c.Currency == "" {
		c.Currency = "KES"
	}
	if _, ok := isoNumeric(c.Currency); !ok {
		return c, terminal.Errorf(terminal.EINVALID, "the card terminal cannot take %s", c.Currency)
	}
	if c.ConfigByte == 0 {
		c.ConfigByte = 0x08
	}
	c.Timeouts = c.Timeouts.withDefaults()
	if c.ClockSkew <= 0 {
		c.ClockSkew = 10 * time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Location == nil {
		c.Location = time.Local
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Client is the ECR (till) side of a ZVT PDQ. One command runs at a time;
// Abort may be called from another goroutine.
type Client struct {
	link   *Link
	cfg    Config
	closer io.Closer

	mu sync.Mutex // held for the length of one command

	amu   sync.Mutex
	abort chan struct{} // non-nil while an authorisation runs
}

// NewClient returns a client speaking ZVT over p (which it does not close).
func NewClient(p Port, cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Client{link: NewLink(p, cfg.Timeouts, cfg.Logger), cfg: cfg}, nil
}

// Setting is a parsed `pdq` setting `zvt:PATH[?baud=N]`.
type Setting struct {
	Path string
	Baud int
}

// ParseSetting parses `zvt:PATH[?baud=N]` (baud defaults to 9600).
func ParseSetting(s string) (Setting, error) {
	path, baud, err := terminal.ParseSerial("pdq", "zvt", s, 9600)
	return Setting{Path: path, Baud: baud}, err
}

// Dial opens the serial port of s (8 data bits, no parity, 2 stop bits) and
// returns a client that owns it; Close closes it.
func Dial(s Setting, cfg Config) (*Client, error) {
	port, err := serial.Open(s.Path, &serial.Mode{
		BaudRate: s.Baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.TwoStopBits,
	})
	if err != nil {
		return nil, deviceError(err, "cannot open the card terminal's port %s: check the cable and the pdq setting", s.Path)
	}
	c, err := NewClient(port, cfg)
	if err != nil {
		port.Close()
		return nil, err
	}
	c.closer = port
	return c, nil
}

// Close closes the port if the client opened it.
func (c *Client) Close() error {
	if c.closer == nil {
		return nil
	}
	return c.closer.Close()
}

// Stats returns the link's transport counters.
func (c *Client) Stats() LinkStats { return c.link.Stats() }

func (c *Client) lock() error {
	if !c.mu.TryLock() {
		return deviceError(ErrBusy, "the card terminal is busy with another request: wait for it to finish")
	}
	return nil
}

// Registration is what the PDQ said at registration.
type Registration struct {
	TerminalID string // BMP 29 of the completion, if sent
	Status     byte   // BMP 19 terminal status, if sent (0 = ready)
}

// Register logs the till on to the PDQ (06 00): password, config byte and
// currency. PDQs keep the registration; call it when the till starts.
func (c *Client) Register(ctx context.Context) (Registration, error) {
	if err := c.lock(); err != nil {
		return Registration{}, err
	}
	defer c.mu.Unlock()
	pw, _ := strconv.ParseInt(c.cfg.Password, 10, 64)
	num, _ := isoNumeric(c.cfg.Currency)
	data := append(mustBCD(pw, 3), c.cfg.ConfigByte)
	data = append(data, mustBCD(int64(num), 2)...)
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeouts.Transaction)
	defer cancel()
	tr, _, err := c.exchange(ctx, APDU{0x06, 0x00, data}, nil, nil)
	if err != nil {
		return Registration{}, c.plainDeviceError(err, "registering with the card terminal")
	}
	if tr.aborted {
		return Registration{}, deviceError(&refusal{tr.abortCode, "registration aborted"},
			"the card terminal refused the registration: %s", ResultMessage(tr.abortCode))
	}
	var reg Registration
	// The completion's fields are informational: a PDQ that sends ones
	// this package cannot read is still registered.
	if bmps, err := DecodeBMPs(tr.completion.Data); err == nil {
		for _, f := range bmps {
			switch f.Tag {
			case bmpTerminalID:
				if n, err := decodeBCD(f.Value); err == nil {
					reg.TerminalID = fmt.Sprintf("%08d", n)
				}
			case bmpPaymentType: // 19: the terminal status byte here
				reg.Status = f.Value[0]
			}
		}
	}
	return reg, nil
}

// Request is one card payment.
type Request struct {
	// Reference is the till's own id for the payment, stored durably with
	// the Pending record before Authorize is called. ZVT has no field for
	// it in this subset; it is copied into the Result.
	Reference string
	Amount    terminal.Money
	// OnStatus, if set, receives the PDQ's intermediate statuses ("Insert,
	// tap or swipe the card", "enter PIN"…) for the screen. It runs on the
	// Authorize goroutine and must return quickly.
	OnStatus func(Status)
}

// Authorize runs one card payment (06 01 with amount BMP 04 and currency
// BMP 49) and waits for its result.
//
//   - Approved: the Result with Approved true and a nil error.
//   - Declined or cancelled: the Result (Approved false, ResultCode,
//     Message) and an EINVALID error wrapping ErrDeclined: nothing was
//     charged, the attendant may try again or take another tender.
//   - PDQ unreachable or refusing the command: an EDEVICE error; nothing
//     was charged.
//   - Anything failing after the PDQ took the command (timeout, cable,
//     cancelled ctx, unreadable result): an EDEVICE error wrapping
//     ErrOutcomeUnknown, whose message tells the attendant what to check on
//     the PDQ screen. The card may have been charged: call Recover before
//     charging again.
func (c *Client) Authorize(ctx context.Context, req Request) (Result, error) {
	res := Result{Reference: req.Reference}
	num, ok := isoNumeric(req.Amount.Currency)
	if !ok {
		return res, terminal.Errorf(terminal.EINVALID, "the card terminal cannot take %s", req.Amount.Currency)
	}
	if req.Amount.Minor <= 0 || req.Amount.Minor > maxAmount {
		return res, terminal.Errorf(terminal.EINVALID, "a card payment must be more than zero and at most %s",
			terminal.FormatMinor(req.Amount.Currency, maxAmount))
	}
	if err := ctx.Err(); err != nil {
		return res, deviceError(err, "the card payment was cancelled before it reached the card terminal; the card was not charged")
	}
	if err := c.lock(); err != nil {
		return res, err
	}
	defer c.mu.Unlock()
	abort := make(chan struct{}, 1)
	c.amu.Lock()
	c.abort = abort
	c.amu.Unlock()
	defer func() {
		c.amu.Lock()
		c.abort = nil
		c.amu.Unlock()
	}()

	data, _ := appendBMP(nil, bmpAmount, mustBCD(req.Amount.Minor, 6))
	data, _ = appendBMP(data, bmpCurrency, mustBCD(int64(num), 2))
	tctx, cancel := context.WithTimeoutCause(ctx, c.cfg.Timeouts.Transaction, errTransactionTimeout)
	defer cancel()
	c.cfg.Logger.Info("zvt authorisation", "reference", req.Reference, "amount", req.Amount.String())
	tr, sent, err := c.exchange(tctx, APDU{0x06, 0x01, data}, req.OnStatus, abort)
	now := c.cfg.Now()
	if tr.status != nil {
		res = tr.status.result(now)
		res.Reference = req.Reference
		if res.Amount.Currency == "" && tr.status.hasAmount {
			res.Amount.Currency = req.Amount.Currency // the PDQ trades in the registered currency
		}
	}
	res.Received = now
	if err != nil {
		if tr.status != nil && tr.statusAcked && res.Approved {
			// The PDQ reported the approval and we acknowledged it; only
			// the completion went missing. The money is taken.
			c.cfg.Logger.Warn("zvt approval without completion", "reference", req.Reference, "trace", res.Trace, "err", err)
			return res, c.checkAmount(res, req)
		}
		return res, c.authError(tctx, sent, err)
	}
	if tr.aborted {
		code := tr.abortCode
		if code == 0 && tr.status != nil && tr.status.resultCode != 0 {
			code = tr.status.resultCode
		}
		res.Approved, res.ResultCode, res.Message = false, code, ResultMessage(code)
		if code == 0 {
			res.Message = "the card terminal cancelled the payment without giving a reason"
		}
		return res, declined(res)
	}
	switch {
	case tr.statusErr != nil:
		return res, c.unknown(tr.statusErr, "the card terminal's result could not be read")
	case tr.status == nil || !tr.status.hasResult:
		return res, c.unknown(errors.New("completion without a result"), "the card terminal finished without reporting a result")
	case !res.Approved:
		return res, declined(res)
	}
	return res, c.checkAmount(res, req)
}

var errTransactionTimeout = errors.New("transaction time limit reached")

func declined(r Result) error {
	e := terminal.Errorf(terminal.EINVALID, "card payment declined: %s", r.Message)
	e.Err = fmt.Errorf("%w: result code 0x%02X", ErrDeclined, r.ResultCode)
	return e
}

func (c *Client) checkAmount(res Result, req Request) error {
	if res.Amount.Minor == 0 && res.Amount.Currency == "" {
		return nil // the PDQ did not echo the amount
	}
	if res.Amount.Minor != req.Amount.Minor || (res.Amount.Currency != "" && res.Amount.Currency != req.Amount.Currency) {
		return deviceError(fmt.Errorf("%w: asked %s, approved %s", ErrAmountMismatch, req.Amount, res.Amount),
			"the card terminal approved %s, not %s: check the PDQ receipt and call a supervisor", res.Amount, req.Amount)
	}
	return nil
}

// authError classifies a failed authorisation.
func (c *Client) authError(tctx context.Context, sent bool, err error) error {
	var r *refusal
	switch {
	case errors.As(err, &r):
		return deviceError(err, "the card terminal refused the payment: %s; the card was not charged", ResultMessage(r.code))
	case !sent && tctx.Err() != nil:
		// Cancelled while the command was on its way: the PDQ may have it.
		return c.unknown(err, "the card payment was interrupted")
	case !sent:
		return deviceError(err, "the card terminal is not answering: check that it is switched on, shows its idle screen and that its cable is plugged in, then try again; the card was not charged")
	case errors.Is(context.Cause(tctx), errTransactionTimeout):
		return c.unknown(err, fmt.Sprintf("the card payment took longer than %v", c.cfg.Timeouts.Transaction))
	case tctx.Err() != nil:
		return c.unknown(err, "the card payment was interrupted")
	case errors.Is(err, ErrTimeout) || errors.Is(err, ErrNoAck):
		return c.unknown(err, "the card terminal stopped answering during the payment")
	}
	return c.unknown(err, "the connection to the card terminal failed during the payment")
}

func (c *Client) unknown(cause error, what string) error {
	return deviceError(fmt.Errorf("%w: %w", ErrOutcomeUnknown, cause),
		"%s. Look at the PDQ screen: if it shows APPROVED, do not charge the card again — recover the payment (lango pdq recover); if it shows DECLINED or its idle screen, nothing was charged", what)
}

// plainDeviceError is for commands that cannot charge anything.
func (c *Client) plainDeviceError(err error, doing string) error {
	var r *refusal
	if errors.As(err, &r) {
		return deviceError(err, "%s: the card terminal refused: %s", doing, ResultMessage(r.code))
	}
	if errors.Is(err, ErrNoAck) || errors.Is(err, ErrTimeout) {
		return deviceError(err, "%s: the card terminal is not answering; check that it is switched on, shows its idle screen and that its cable is plugged in", doing)
	}
	return deviceError(err, "%s failed", doing)
}

// Abort asks the PDQ to cancel (06 B0). During Authorize (from another
// goroutine) it is sent at the next opportunity and Authorize then returns
// the PDQ's answer: declined with code 0x6C, or approved if the PDQ had
// already passed the point of no return. Otherwise it is sent at once.
func (c *Client) Abort(ctx context.Context) error {
	c.amu.Lock()
	ch := c.abort
	c.amu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
		return nil
	}
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	if err := c.link.discardInput(); err != nil {
		return deviceError(err, "aborting on the card terminal failed")
	}
	if err := c.link.Send(ctx, APDU{Class: 0x06, Instr: 0xB0}); err != nil {
		return c.plainDeviceError(err, "aborting on the card terminal")
	}
	a, err := c.link.Receive(ctx, c.cfg.Timeouts.Response)
	if err != nil {
		return c.plainDeviceError(err, "aborting on the card terminal")
	}
	if a.negative() {
		return c.plainDeviceError(&refusal{a.Instr, "abort refused"}, "aborting on the card terminal")
	}
	return nil
}

// LastResult asks the PDQ for its last transaction with Repeat Receipt
// (06 20 + password): the PDQ answers 80 00 00, sends the transaction's
// status information (04 0F), prints its receipt again and completes
// (06 0F). found is false when the PDQ completes without a status
// information (it has no transaction to repeat). Nothing is charged.
func (c *Client) LastResult(ctx context.Context) (r Result, found bool, err error) {
	if err := c.lock(); err != nil {
		return Result{}, false, err
	}
	defer c.mu.Unlock()
	pw, _ := strconv.ParseInt(c.cfg.Password, 10, 64)
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeouts.Transaction)
	defer cancel()
	tr, _, err := c.exchange(ctx, APDU{0x06, 0x20, mustBCD(pw, 3)}, nil, nil)
	if err != nil {
		return Result{}, false, c.plainDeviceError(err, "asking the card terminal for its last transaction")
	}
	if tr.aborted {
		return Result{}, false, deviceError(&refusal{tr.abortCode, "repeat receipt aborted"},
			"the card terminal could not repeat its last transaction (%s): look it up on the PDQ (last receipt or journal)", ResultMessage(tr.abortCode))
	}
	if tr.statusErr != nil {
		return Result{}, false, deviceError(tr.statusErr, "the card terminal's last transaction could not be read: look it up on the PDQ (last receipt or journal)")
	}
	if tr.status == nil {
		return Result{}, false, nil
	}
	return tr.status.result(c.cfg.Now()), true, nil
}

// transcript is what the PDQ said during one command.
type transcript struct {
	status      *statusInfo // the last 04 0F, if readable
	statusErr   error       // a 04 0F that could not be read
	statusAcked bool        // the PDQ has our 80 00 00 for the last 04 0F
	completion  *APDU       // 06 0F
	aborted     bool        // 06 1E
	abortCode   byte
}

// exchange sends cmd, waits for the PDQ's 80 00 00, then serves the PDQ's
// messages — acknowledging each with 80 00 00 — until completion (06 0F)
// or abort (06 1E). sent reports that the PDQ's transport acknowledged the
// command, i.e. it has it. A signal on abort sends 06 B0 once.
func (c *Client) exchange(ctx context.Context, cmd APDU, onStatus func(Status), abort <-chan struct{}) (tr transcript, sent bool, err error) {
	t := c.cfg.Timeouts
	if err := c.link.discardInput(); err != nil {
		return tr, false, err
	}
	if err := c.link.Send(ctx, cmd); err != nil {
		return tr, false, err
	}
	a, err := c.link.Receive(ctx, t.Response)
	if err != nil {
		return tr, true, fmt.Errorf("answer to %02X %02X: %w", cmd.Class, cmd.Instr, err)
	}
	switch {
	case a.negative():
		return tr, true, &refusal{a.Instr, fmt.Sprintf("%02X %02X refused", cmd.Class, cmd.Instr)}
	case !a.positive():
		return tr, true, fmt.Errorf("%w: %02X %02X answered with %02X %02X", ErrBadAPDU, cmd.Class, cmd.Instr, a.Class, a.Instr)
	}
	ackPT := func() error { return c.link.Send(ctx, APDU{Class: 0x80, Instr: 0x00}) }
	idle := time.Now().Add(t.Idle)
	abortSent := false
	for {
		if abort != nil && !abortSent {
			select {
			case <-abort:
				c.cfg.Logger.Info("zvt abort requested")
				if err := c.link.Send(ctx, APDU{Class: 0x06, Instr: 0xB0}); err != nil {
					return tr, true, err
				}
				abortSent = true
			default:
			}
		}
		left := time.Until(idle)
		if left <= 0 {
			return tr, true, fmt.Errorf("%w: nothing from the PDQ for %v", ErrTimeout, t.Idle)
		}
		a, err := c.link.Receive(ctx, min(left, 250*time.Millisecond))
		if errors.Is(err, ErrTimeout) {
			continue
		}
		if err != nil {
			return tr, true, err
		}
		idle = time.Now().Add(t.Idle)
		switch a.Command() {
		case cmdIntermediate:
			s, serr := decodeIntermediate(a.Data)
			if err := ackPT(); err != nil {
				return tr, true, err
			}
			if serr == nil && onStatus != nil {
				onStatus(s)
			}
		case cmdStatusInfo:
			si, serr := decodeStatusInfo(a.Data, c.cfg.Now(), c.cfg.Location)
			if serr != nil {
				tr.status, tr.statusErr = nil, serr
			} else {
				tr.status, tr.statusErr = &si, nil
			}
			tr.statusAcked = false
			if err := ackPT(); err != nil {
				return tr, true, err
			}
			tr.statusAcked = true
		case cmdPrintLine, cmdPrintText:
			if err := ackPT(); err != nil {
				return tr, true, err
			}
		case cmdCompletion:
			tr.completion = &a
			return tr, true, ackPT()
		case cmdAbortPT:
			tr.aborted = true
			if len(a.Data) > 0 {
				tr.abortCode = a.Data[0]
			}
			return tr, true, ackPT()
		default:
			if (a.positive() || a.negative()) && abortSent {
				continue // the PDQ's answer to our 06 B0
			}
			// A command outside this subset: "function not possible".
			if err := c.link.Send(ctx, APDU{Class: 0x84, Instr: 0x83}); err != nil {
				return tr, true, err
			}
		}
	}
}
