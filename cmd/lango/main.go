// Command lango is the Lango terminal: the kiosk GUI by default, and the
// scriptable commands of shared/CONTRACT.md for operations staff, headless
// exit lanes and tests.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lango-pos/lango/cmd/lango/internal/earlylog"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// version is stamped by `make build` with -ldflags -X.
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := NewMain()
	// What packages logged while they initialised (Fyne's locale noise)
	// and whatever else writes to the standard log package go where the
	// program's own log lines go, never to the person's terminal.
	m.startup = earlylog.Take()
	log.SetOutput(logWriter{m})
	code := m.Run(ctx, os.Args[1:])
	stop()
	m.Close()
	os.Exit(code)
}

// Main is the program: its environment, so end-to-end tests run it in
// process with their own.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// IsTerminal reports whether stdin is a terminal (for the PIN prompt).
	IsTerminal func() bool
	// StderrIsTerminal reports whether stderr is a terminal, where long
	// commands (the audit) show their progress.
	StderrIsTerminal func() bool
	// ProgressAfter is how long a command runs before it shows progress
	// (0: a second).
	ProgressAfter time.Duration
	// Logger, if set, takes the log lines; else they go to lango.log in
	// the data folder, or to Stderr with --log-level.
	Logger *slog.Logger

	dataDir  string
	logLevel slog.LevelVar
	toStderr bool
	logFile  *logFile
	log      *slog.Logger
	logOnce  sync.Once
	startup  string // what the standard log package got at start-up
	db       *sqlite.DB
}

// NewMain returns a Main on the process's standard streams.
func NewMain() *Main {
	return &Main{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
		IsTerminal:       func() bool { return isTerminal(os.Stdin) },
		StderrIsTerminal: func() bool { return isTerminal(os.Stderr) },
	}
}

// Close releases the store and the log file.
func (m *Main) Close() error {
	if m.logFile != nil {
		m.logFile.Close()
	}
	if m.db != nil {
		err := m.db.Close()
		m.db = nil
		return err
	}
	return nil
}

// Exit statuses of the contract.
const (
	exitOK          = 0
	exitRefused     = 1
	exitUsage       = 2
	exitUnavailable = 3
)

// usageError is a command line that does not parse.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// exitCode maps an error to the contract's exit status.
func exitCode(err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitUsage
	}
	var re *pass.RefusedError
	if errors.As(err, &re) {
		return exitRefused
	}
	switch terminal.ErrorKind(err) {
	case terminal.EDEVICE, terminal.EUNAVAILABLE:
		return exitUnavailable
	}
	return exitRefused
}

// message is the one line the person at the counter reads.
func message(err error) string {
	var re *pass.RefusedError
	if errors.As(err, &re) {
		msg := string(re.Reason) + ": " + re.Reason.Message("en")
		if re.Detail != "" {
			msg += " (" + re.Detail + ")"
		}
		return msg
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return ue.msg
	}
	msg := terminal.ErrorMessage(err)
	return strings.ReplaceAll(msg, "\n", " ")
}

// Run runs one command line and returns the exit status.
func (m *Main) Run(ctx context.Context, args []string) int {
	err := m.run(ctx, args)
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue *usageError
	var re *pass.RefusedError
	if !errors.As(err, &ue) && !errors.As(err, &re) && terminal.ErrorKind(err) == terminal.EINTERNAL {
		m.logger().Error("command failed", "args", strings.Join(redact(args), " "), "err", err)
	}
	fmt.Fprintln(m.Stderr, "lango: "+message(err))
	return exitCode(err)
}

// redact keeps secrets out of logs: nothing after --token.
func redact(args []string) []string {
	out := append([]string(nil), args...)
	for i := range out {
		if (out[i] == "--token" || out[i] == "-token") && i+1 < len(out) {
			out[i+1] = "…"
		}
	}
	return out
}

type command struct {
	name  string
	usage string
	run   func(ctx context.Context, args []string) error
}

func (m *Main) commands() []command {
	return []command{
		{"run", "start the kiosk GUI", m.cmdRun},
		{"init", "--site SITE --terminal NAME --catalogue FILE [--printer SPEC]: create the store, keys and the admin supervisor", m.cmdInit},
		{"config", "set KEY VALUE | show --json: the terminal's settings", m.cmdConfig},
		{"operator", "add --as SUPERVISOR --name NAME --role attendant|supervisor", m.cmdOperator},
		{"catalogue", "show [--file FILE] --json", m.cmdCatalogue},
		{"shift", "open --as NAME --float CUR=AMOUNT… | close --as NAME --counted CUR=AMOUNT… [--supervisor SUP --open-passes N,N] --json | report [--shift ID] --json|--csv", m.cmdShift},
		{"sell", "--as NAME --item CODE=QTY… [--vehicle PLATE] --pay TENDER… [--owed-by OPERATOR --phone PHONE] --json", m.cmdSell},
		{"pass", "verify [--json] PASS | use --as NAME PASS", m.cmdPass},
		{"settle", "--as NAME PASS --pay TENDER… --json", m.cmdSettle},
		{"sales", "--json [--since TIME]", m.cmdSales},
		{"unsettled", "[--json]: deferred passes still owed, with operator, phone, plate and age", m.cmdUnsettled},
		{"void", "--as SUPERVISOR SALE_ID --reason TEXT", m.cmdVoid},
		{"refund", "--as SUPERVISOR SALE_ID --reason TEXT", m.cmdRefund},
		{"deposit", "--as SUPERVISOR --shift ID --bank BANK --reference REF [--json]: the banking of a closed shift's cash", m.cmdDeposit},
		{"audit", "verify [--since SEQ] [--json]", m.cmdAudit},
		{"archive", "[--retention 365d] [--json]: move the old events the hub holds to the archive folder", m.cmdArchive},
		{"printer", "list | test | emulate --pty LINK --out DIR [--profile NAME]", m.cmdPrinter},
		{"print", "--pending: print what waits in the spool", m.cmdPrint},
		{"reprint", "--as SUPERVISOR SALE_ID: a copy, marked COPY", m.cmdReprint},
		{"pdq", "emulate --pty LINK [--mode approve|decline|timeout] | recover --as NAME --json", m.cmdPDQ},
		{"enroll", "--hub URL --token TOKEN", m.cmdEnroll},
		{"sync", "[--once] [--interval 30s] | status --json", m.cmdSync},
		{"version", "print the version", func(context.Context, []string) error { fmt.Fprintln(m.Stdout, version); return nil }},
	}
}

func (m *Main) usage() string {
	var b strings.Builder
	b.WriteString("usage: lango [--data DIR] [--log-level LEVEL] COMMAND [flags]\n\ncommands:\n")
	for _, c := range m.commands() {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.usage)
	}
	b.WriteString("\nLog lines go to lango.log in the data folder; --log-level debug|info|warn|error sends them to stderr instead.\n")
	b.WriteString("The PIN of --as comes from LANGO_PIN (or a prompt on a terminal); never from the command line.\n")
	return b.String()
}

func (m *Main) run(ctx context.Context, args []string) error {
	// Global flags before the command: --data DIR, -h.
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch a := args[0]; {
		case a == "-h" || a == "--help" || a == "-help":
			fmt.Fprint(m.Stdout, m.usage())
			return flag.ErrHelp
		case a == "--data" || a == "-data":
			if len(args) < 2 {
				return usagef("--data needs a folder")
			}
			m.dataDir, args = args[1], args[2:]
		case strings.HasPrefix(a, "--data="):
			m.dataDir, args = strings.TrimPrefix(a, "--data="), args[1:]
		case a == "--log-level" || a == "-log-level":
			if len(args) < 2 {
				return usagef("--log-level needs a level: debug, info, warn or error")
			}
			if err := m.setLogLevel(args[1]); err != nil {
				return err
			}
			args = args[2:]
		case strings.HasPrefix(a, "--log-level="):
			if err := m.setLogLevel(strings.TrimPrefix(a, "--log-level=")); err != nil {
				return err
			}
			args = args[1:]
		default:
			return usagef("unknown flag %s before the command; see lango --help", a)
		}
	}
	if m.startup != "" {
		m.logger().Debug("logged while starting", "text", strings.TrimSpace(m.startup))
		m.startup = ""
	}
	if len(args) == 0 {
		return m.cmdRun(ctx, nil)
	}
	for _, c := range m.commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:])
		}
	}
	return usagef("unknown command %q; see lango --help", args[0])
}

// flags is a command's flag set with the shared flags.
type flags struct {
	*flag.FlagSet
	json bool
	as   string
}

func (m *Main) newFlags(name string) *flags {
	fs := &flags{FlagSet: flag.NewFlagSet("lango "+name, flag.ContinueOnError)}
	fs.SetOutput(io.Discard)
	fs.Func("data", "the terminal's data folder (default $LANGO_DATA)", func(s string) error { m.dataDir = s; return nil })
	return fs
}

func (f *flags) withJSON() *flags {
	f.BoolVar(&f.json, "json", false, "print one JSON document")
	return f
}
func (f *flags) withAs() *flags {
	f.StringVar(&f.as, "as", "", "the operator acting (PIN from LANGO_PIN)")
	return f
}

// parse parses flags anywhere among the arguments (lango settle --as A PASS
// --pay cash) and returns the positional arguments.
func (f *flags) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, usagef("%s: see lango --help", f.Name())
			}
			return nil, usagef("%s: %v", f.Name(), err)
		}
		rest := f.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// list is a repeatable flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

// dataFolder resolves --data, then $LANGO_DATA, then the user data folder.
func (m *Main) dataFolder() (string, error) {
	if m.dataDir != "" {
		return m.dataDir, nil
	}
	if d := m.Getenv("LANGO_DATA"); d != "" {
		return d, nil
	}
	if d := m.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "lango"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", usagef("no data folder: use --data DIR or set LANGO_DATA")
	}
	return filepath.Join(home, ".local", "share", "lango"), nil
}

// open opens the store of an initialised terminal.
func (m *Main) open(ctx context.Context) (*sqlite.DB, error) {
	if m.db != nil {
		return m.db, nil
	}
	dir, err := m.dataFolder()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "lango.db")
	if _, err := os.Stat(path); err != nil {
		return nil, terminal.Errorf(terminal.ENOTFOUND, "no terminal in %s: run lango init first", dir)
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	db.CheckDevice = checkDevice
	if _, err := db.Identity(ctx); err != nil {
		db.Close()
		return nil, err
	}
	m.db = db
	return db, nil
}

// pin reads the acting operator's PIN: LANGO_PIN, else a prompt on a
// terminal. It is never taken from the command line nor logged.
func (m *Main) pin(env, who string) (string, error) {
	if p := m.Getenv(env); p != "" {
		return p, nil
	}
	if m.IsTerminal != nil && m.IsTerminal() {
		fmt.Fprintf(m.Stderr, "PIN for %s: ", who)
		p, err := readSecret(m.Stdin)
		fmt.Fprintln(m.Stderr)
		return p, err
	}
	return "", usagef("set %s to the PIN of %s (it is never given on the command line)", env, who)
}

// openAs opens the store and signs name in: the PIN is asked once the
// store is found, so a missing terminal is said before a PIN is asked.
func (m *Main) openAs(ctx context.Context, name string) (*sqlite.DB, *terminal.Operator, error) {
	db, err := m.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	op, err := m.operator(ctx, db, name)
	return db, op, err
}

// operator authenticates --as.
func (m *Main) operator(ctx context.Context, db *sqlite.DB, name string) (*terminal.Operator, error) {
	if name == "" {
		return nil, usagef("--as NAME is required")
	}
	pin, err := m.pin("LANGO_PIN", name)
	if err != nil {
		return nil, err
	}
	return db.Authenticate(ctx, name, pin)
}
