package zvt

import (
	"errors"
	"fmt"

	"github.com/lango-pos/lango/terminal"
)

// Causes wrapped inside the *terminal.Error values this package returns;
// test for them with errors.Is. The person at the counter sees the
// terminal.Error's Message; these are for code and logs.
var (
	// ErrTimeout: the PDQ did not send what was expected in time.
	ErrTimeout = errors.New("zvt: timed out")
	// ErrNoAck: a frame was sent the allowed number of times without an ACK.
	ErrNoAck = errors.New("zvt: frame not acknowledged")
	// ErrBadFrame: bytes that do not form a valid frame (garbage, bad CRC,
	// bad DLE sequence, too long).
	ErrBadFrame = errors.New("zvt: bad frame")
	// ErrBadAPDU: a frame with a valid CRC whose APDU or fields are malformed.
	ErrBadAPDU = errors.New("zvt: malformed APDU")
	// ErrRefused: the PDQ answered a command with a negative acknowledgement
	// (84 xx) or aborted it.
	ErrRefused = errors.New("zvt: refused by the PDQ")
	// ErrDeclined: the payment was declined or cancelled; nothing was charged.
	ErrDeclined = errors.New("zvt: payment declined")
	// ErrOutcomeUnknown: an authorisation was sent but its result never
	// arrived; the card may have been charged. Recover before charging again.
	ErrOutcomeUnknown = errors.New("zvt: payment outcome unknown")
	// ErrAmountMismatch: the PDQ approved an amount other than the one asked.
	ErrAmountMismatch = errors.New("zvt: approved amount differs from the requested amount")
	// ErrBusy: another command is running on this client.
	ErrBusy = errors.New("zvt: PDQ busy with another command")
)

// refusal is the negative acknowledgement or abort code a PDQ answered with.
type refusal struct {
	code byte
	what string
}

func (r *refusal) Error() string {
	return fmt.Sprintf("%s: code 0x%02X (%s)", r.what, r.code, ResultMessage(r.code))
}

func (r *refusal) Unwrap() error { return ErrRefused }

func deviceError(cause error, format string, args ...any) error {
	e := terminal.Errorf(terminal.EDEVICE, format, args...)
	e.Err = cause
	return e
}
