package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Log lines go to lango.log in the data folder, never to the person's
// terminal: the contract keeps stdout for the answer and stderr for one
// line of error. --log-level LEVEL sends them to stderr instead, from that
// level up.
const (
	logName = "lango.log"
	// logCap is the size at which lango.log is moved to lango.log.1
	// (replacing the previous one): at most twice this on disk.
	logCap = 1 << 20
)

// setLogLevel is --log-level: log lines to stderr from level up.
func (m *Main) setLogLevel(s string) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return usagef("--log-level %q: use debug, info, warn or error", s)
	}
	m.logLevel.Set(l)
	m.toStderr = true
	return nil
}

// logger is where the program's log lines go: Logger if the caller set
// one, else the log file or, with --log-level, stderr.
func (m *Main) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	m.logOnce.Do(func() {
		m.logFile = &logFile{folder: m.dataFolder}
		m.log = slog.New(slog.NewTextHandler(logSink{m}, &slog.HandlerOptions{Level: &m.logLevel}))
	})
	return m.log
}

// logSink writes each log line to stderr (--log-level) or to the file.
type logSink struct{ m *Main }

func (s logSink) Write(p []byte) (int, error) {
	if s.m.toStderr {
		return s.m.Stderr.Write(p)
	}
	return s.m.logFile.Write(p)
}

// logWriter takes what the standard log package is given (libraries'
// messages) into the program's log at level warn.
type logWriter struct{ m *Main }

func (w logWriter) Write(p []byte) (int, error) {
	w.m.logger().Warn(strings.TrimRight(string(p), "\n"), "from", "log")
	return len(p), nil
}

// logFile is lango.log in the data folder, opened at the first line
// (the folder is known only once the flags are read), 0600, moved to
// lango.log.1 at logCap. A folder that does not exist (yet: before lango
// init) is not created for a log line; the line is dropped.
type logFile struct {
	folder func() (string, error)
	mu     sync.Mutex
	f      *os.File
	size   int64
}

func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil && l.size+int64(len(p)) > logCap {
		l.f.Close()
		l.f = nil
		os.Rename(l.f0(), l.f0()+".1")
	}
	if l.f == nil {
		if err := l.open(); err != nil {
			return len(p), nil // a log line is never worth failing a sale
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	if err != nil {
		return n, fmt.Errorf("write %s: %w", logName, err)
	}
	return n, nil
}

// f0 is the log file's path ("" if the folder is unknown).
func (l *logFile) f0() string {
	dir, err := l.folder()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, logName)
}

func (l *logFile) open() error {
	path := l.f0()
	if path == "" {
		return os.ErrNotExist
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return os.ErrNotExist
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	if fi.Size() >= logCap {
		f.Close()
		if err := os.Rename(path, path+".1"); err != nil {
			return err
		}
		return l.open()
	}
	l.f, l.size = f, fi.Size()
	return nil
}

// Close closes the file.
func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

var _ io.Writer = logSink{}
