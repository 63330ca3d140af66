package sqlite

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/lango-pos/lango/terminal"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Messages of the store's own failures, for the person at the counter.
// Each says that what was being done is not recorded and nothing is lost:
// a failed write transaction is rolled back whole.
// %s is what was being done: "this sale", "this change".
const (
	msgDiskFull = "the disk is full: %s was not recorded and nothing was lost; free space and try again"
	msgBusy     = "the store is busy (another Lango program is writing to it): %s was not recorded and nothing was lost; try again"
	msgReadOnly = "the store cannot be written (read-only file or disk): %s was not recorded and nothing was lost; ask a supervisor"
	msgIOError  = "the disk failed to read or write the store: %s was not recorded and nothing was lost; check the disk and try again"
)

// storeError maps what SQLite says, doing what, about the store itself (disk full,
// locked, read-only, I/O error) to the error kind and message the terminal
// shows; it returns err unchanged when err is already a terminal.Error or
// is not such a failure. The SQLite error stays wrapped for the log.
//
// A full disk, a read-only file and an I/O error are EDEVICE (exit 3): the
// disk is the device. A store locked by another process past busy_timeout
// is EUNAVAILABLE (exit 3): waiting and trying again helps.
func storeError(what string, err error) error {
	if err == nil {
		return nil
	}
	var te *terminal.Error
	if errors.As(err, &te) {
		return err
	}
	kind, msg := "", ""
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_FULL:
			kind, msg = terminal.EDEVICE, msgDiskFull
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			kind, msg = terminal.EUNAVAILABLE, msgBusy
		case sqlite3.SQLITE_READONLY:
			kind, msg = terminal.EDEVICE, msgReadOnly
		case sqlite3.SQLITE_IOERR:
			kind, msg = terminal.EDEVICE, msgIOError
		}
	}
	if errors.Is(err, syscall.ENOSPC) {
		kind, msg = terminal.EDEVICE, msgDiskFull
	}
	if kind == "" {
		return err
	}
	return &terminal.Error{Kind: kind, Message: fmt.Sprintf(msg, what), Err: err}
}
