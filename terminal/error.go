package terminal

import (
	"errors"
	"fmt"
)

// Error kinds. The UI shows Message for any kind; the CLI maps kinds to exit
// statuses (EINVALID, ECONFLICT, EUNAUTHORIZED, ENOTFOUND → 1; EDEVICE,
// EUNAVAILABLE → 3).
const (
	EINVALID      = "invalid"      // bad input; nothing changed
	ENOTFOUND     = "not_found"    // no such thing
	ECONFLICT     = "conflict"     // valid input that clashes with stored state
	EUNAUTHORIZED = "unauthorized" // wrong PIN, locked out, wrong role
	EDEVICE       = "device"       // a printer, PDQ or scanner failed
	EUNAVAILABLE  = "unavailable"  // the network or hub is unreachable; work is queued
	EINTERNAL     = "internal"     // a bug or a broken store
)

// Error is Lango's error: a kind and a message written for the person at the
// counter. Internal details go in wrapped errors, which the log keeps.
type Error struct {
	Kind    string
	Message string
	Err     error // optional cause
	// ID names the message for the kiosk, which says it in its own
	// language ("err.<ID>" in assets/translations) with Args; Message is
	// the English, for the command line and the logs. Empty: no
	// translation.
	ID   string
	Args map[string]any
}

// WithID gives e a message id and its values, for translation.
func (e *Error) WithID(id string, args map[string]any) *Error {
	e.ID, e.Args = id, args
	return e
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind.
func Errorf(kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// ErrorKind returns the kind of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorKind(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return EINTERNAL
}

// ErrorMessage returns the person-facing message of err: the Message of the
// first *Error in its chain, or a generic text for internal errors.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error: " + err.Error()
}

// ErrorID returns the message id and values of the first *Error in err's
// chain ("" if it has none).
func ErrorID(err error) (string, map[string]any) {
	var e *Error
	if errors.As(err, &e) {
		return e.ID, e.Args
	}
	return "", nil
}
