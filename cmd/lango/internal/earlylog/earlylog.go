// Package earlylog holds what the standard log package is told while the
// program's packages initialise, so that nothing reaches stderr before
// main has decided where log lines go.
//
// Fyne's lang package loads its built-in translations in an init function
// and, under LANG=C.UTF-8 (systemd's and cron's default), reports through
// the standard log package that it cannot parse the locale "C": three
// lines of "Fyne error: Error parsing user locale C" on stderr before any
// command runs. Every Lango command links Fyne (the kiosk is the same
// program), so the noise cannot be avoided by not importing it; it can be
// caught. Go initialises packages in import-path order among those whose
// imports are done (the Go spec, "Package initialization"): this package
// imports only the standard library and its path sorts before Fyne's
// translation dependency (github.com/nicksnyder/go-i18n), so its init
// runs before Fyne's lang. main imports it for that effect and then calls
// Take. TestCLIPrintsNoFyneNoiseUnderLangC, on a built binary, fails if
// that order ever changes.
package earlylog

import (
	"bytes"
	"log"
	"sync"
)

var (
	mu  sync.Mutex
	buf bytes.Buffer
)

type writer struct{}

func (writer) Write(p []byte) (int, error) {
	mu.Lock()
	defer mu.Unlock()
	if buf.Len() < 64<<10 {
		buf.Write(p)
	}
	return len(p), nil
}

func init() {
	log.SetOutput(writer{})
	log.SetFlags(0)
}

// Take returns what was logged since the program started and leaves the
// standard log package writing nowhere; the caller points it where log
// lines go.
func Take() string {
	mu.Lock()
	defer mu.Unlock()
	s := buf.String()
	buf.Reset()
	return s
}
