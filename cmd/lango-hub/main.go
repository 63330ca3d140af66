// Command lango-hub is the central sync service for Lango terminals:
//
//	lango-hub serve --data DIR --listen ADDR
//	lango-hub serve --data DIR --listen ADDR --upstream URL [--token TOKEN]
//	lango-hub relay add --data DIR --site SITE --name NAME [--ttl 72h] [--json]
//	lango-hub terminal add --data DIR --site SITE --name NAME [--ttl 72h] [--json]
//	lango-hub terminal rekey --data DIR --site SITE --name NAME [--ttl 72h] [--json]
//	lango-hub terminal revoke --data DIR --site SITE --name NAME
//	lango-hub terminal list --data DIR [--json]
//	lango-hub catalogue publish --data DIR --site SITE FILE [--json]
//	lango-hub report --data DIR [--json]
//	lango-hub backup --data DIR FILE
//	lango-hub migrate --data DIR --database URL [--json]
//	lango-hub copy --from DIR --data DIR --database URL [--json]
//
// Every command takes --database postgres://USER@HOST:PORT/DB (or
// LANGO_HUB_DATABASE) to keep the hub's records in PostgreSQL instead of
// the embedded SQLite file in --data; the site authority keys are then
// sealed with the 0600 key file --data/authority.key, which every hub
// process on that database is given (docs/OPERATIONS.md).
//
// Exit status: 0 done, 1 refused, 2 usage, 3 the network or store is
// unavailable. Errors are one line on stderr starting "lango-hub: ".
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/bank"
	"github.com/lango-pos/lango/sync/hub/forward"
	"github.com/lango-pos/lango/sync/hub/mpesa"
	hubpg "github.com/lango-pos/lango/sync/hub/postgres"
	hubsqlite "github.com/lango-pos/lango/sync/hub/sqlite"
	"github.com/lango-pos/lango/sync/platform"
	"github.com/lango-pos/lango/terminal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	code := m.Main(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// UsageError is a mistake in the command line (exit status 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }

// Main is the program: ParseFlags, then Run, then Close. End-to-end tests
// drive it in-process.
type Main struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Now is the hub's clock (time.Now); tests replace it.
	Now func() time.Time

	cmd      string // serve, terminal add, ...
	data     string
	listen   string
	tlsCert  string
	tlsKey   string
	site     string
	name     string
	file     string
	ttl      time.Duration
	json     bool
	logLevel string
	upstream string
	token    string
	interval time.Duration
	database string // postgres:// URL; "" for the embedded store
	from     string // copy: the embedded hub's data folder

	store    hub.Store
	mpesa    mpesaWorkers
	bank     bankFlags
	export   exportFlags
	platform *platform.Client
	lease    time.Duration // of the forwarder's claims
	logger   *slog.Logger
	ready    chan struct{}
	addr     string
}

// NewMain returns a Main writing to the process's stdout and stderr.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Now: time.Now, ready: make(chan struct{})}
}

// Main parses, runs and closes, and returns the exit status; errors are
// written to Stderr.
func (m *Main) Main(ctx context.Context, args []string) int {
	err := m.ParseFlags(ctx, args)
	if err == nil {
		err = m.Run(ctx)
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(m.Stderr, "lango-hub: "+oneLine(message(err)))
	return ExitCode(err)
}

func message(err error) string {
	var ue *UsageError
	if errors.As(err, &ue) {
		return ue.Msg + " (lango-hub help)"
	}
	if terminal.ErrorKind(err) == terminal.EINTERNAL {
		return err.Error()
	}
	return terminal.ErrorMessage(err)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// ExitCode maps an error to the contract's exit status.
func ExitCode(err error) int {
	var ue *UsageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		return 2
	}
	switch terminal.ErrorKind(err) {
	case terminal.EUNAVAILABLE, terminal.EDEVICE:
		return 3
	}
	return 1
}

const usage = `usage:
  lango-hub serve --data DIR --listen ADDR [--tls-cert FILE --tls-key FILE]
  lango-hub serve --data DIR --listen ADDR --upstream URL [--token TOKEN] [--interval 2s]
  lango-hub relay add --data DIR --site SITE --name NAME [--ttl 72h] [--json]
  lango-hub terminal add --data DIR --site SITE --name NAME [--ttl 72h] [--json]
  lango-hub terminal rekey --data DIR --site SITE --name NAME [--ttl 72h] [--json]
  lango-hub terminal revoke --data DIR --site SITE --name NAME
  lango-hub terminal list --data DIR [--json]
  lango-hub catalogue publish --data DIR --site SITE FILE [--json]
  lango-hub report --data DIR [--json]
  lango-hub export --data DIR --from DATE --to DATE [--format csv|json] [--timezone ZONE]
  lango-hub bank import --data DIR [--bank BANK] [--account ACCOUNT] [--currency CUR] [--csv-… COLUMN] [--json] FILE
  lango-hub backup --data DIR FILE
  lango-hub migrate --data DIR --database URL [--json]
  lango-hub copy --from DIR --data DIR --database URL [--json]

Every command takes --database postgres://USER@HOST:PORT/DB (or
LANGO_HUB_DATABASE): the hub's records in PostgreSQL instead of the
embedded SQLite in --data.`

// ParseFlags reads the command line (without the program name).
func (m *Main) ParseFlags(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("a command is required:\n%s", usage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "terminal", "catalogue", "relay", "bank":
		if len(rest) == 0 {
			return usagef("%s needs a subcommand", cmd)
		}
		cmd, rest = cmd+" "+rest[0], rest[1:]
	case "help", "-h", "--help":
		fmt.Fprintln(m.Stdout, usage)
		return flag.ErrHelp
	}
	m.cmd = cmd
	fs := flag.NewFlagSet("lango-hub "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&m.data, "data", m.defaultData(), "the hub's data folder")
	fs.StringVar(&m.database, "database", m.Getenv("LANGO_HUB_DATABASE"), "PostgreSQL URL (postgres://USER@HOST:PORT/DB); the embedded SQLite in --data without it")
	var positional int
	switch cmd {
	case "serve":
		fs.StringVar(&m.listen, "listen", "127.0.0.1:8750", "address to listen on")
		fs.StringVar(&m.logLevel, "log-level", "info", "debug, info, warn or error")
		fs.StringVar(&m.tlsCert, "tls-cert", "", "serve HTTPS with this certificate chain (PEM)")
		fs.StringVar(&m.tlsKey, "tls-key", "", "the certificate's private key (PEM)")
		fs.StringVar(&m.upstream, "upstream", "", "run as a site relay forwarding to the central hub at this URL")
		fs.StringVar(&m.token, "token", "", "the relay's one-time token from lango-hub relay add (first start only)")
		fs.DurationVar(&m.interval, "interval", 2*time.Second, "relay: the pause between exchanges with the central hub")
	case "terminal add", "terminal rekey", "relay add":
		fs.StringVar(&m.site, "site", "", "site code")
		fs.StringVar(&m.name, "name", "", "terminal name")
		fs.DurationVar(&m.ttl, "ttl", 72*time.Hour, "how long the token stays valid")
		fs.BoolVar(&m.json, "json", false, "print JSON")
	case "terminal revoke":
		fs.StringVar(&m.site, "site", "", "site code")
		fs.StringVar(&m.name, "name", "", "terminal name")
	case "terminal list", "report":
		fs.BoolVar(&m.json, "json", false, "print JSON")
	case "catalogue publish":
		fs.StringVar(&m.site, "site", "", "site code")
		fs.BoolVar(&m.json, "json", false, "print JSON")
		positional = 1
	case "backup":
		positional = 1
	case "migrate":
		fs.BoolVar(&m.json, "json", false, "print JSON")
	case "copy":
		fs.StringVar(&m.from, "from", "", "the embedded hub's data folder to copy from")
		fs.BoolVar(&m.json, "json", false, "print JSON")
	case "export":
		m.export.define(fs)
	case "bank import":
		m.bank.define(fs)
		fs.BoolVar(&m.json, "json", false, "print JSON")
		positional = 1
	default:
		return usagef("unknown command %q:\n%s", cmd, usage)
	}
	pos, err := parseInterspersed(fs, rest)
	if err != nil {
		return usagef("%s: %v", cmd, err)
	}
	if len(pos) != positional {
		return usagef("%s takes %d argument(s), got %d", cmd, positional, len(pos))
	}
	if positional == 1 {
		m.file = pos[0]
	}
	if (m.tlsCert == "") != (m.tlsKey == "") {
		return usagef("serve: --tls-cert and --tls-key go together")
	}
	if m.data == "" {
		return usagef("--data DIR is required (or set LANGO_DATA)")
	}
	switch cmd {
	case "serve":
		if m.token != "" && m.upstream == "" {
			return usagef("serve: --token goes with --upstream URL (a site relay)")
		}
		if m.interval <= 0 {
			return usagef("--interval must be positive")
		}
	case "terminal add", "terminal rekey", "terminal revoke", "relay add":
		if m.site == "" || m.name == "" {
			return usagef("%s needs --site and --name", cmd)
		}
		if cmd != "terminal revoke" && m.ttl <= 0 {
			return usagef("--ttl must be positive")
		}
	case "catalogue publish":
		if m.site == "" {
			return usagef("catalogue publish needs --site")
		}
	case "migrate":
		if m.database == "" {
			return usagef("migrate needs --database URL (or LANGO_HUB_DATABASE): the embedded store migrates itself when opened")
		}
	case "export":
		if _, err := m.export.query(); err != nil {
			return err
		}
	case "copy":
		if m.from == "" || m.database == "" {
			return usagef("copy needs --from DIR (the embedded hub's data folder) and --database URL")
		}
	}
	if m.database != "" && !strings.HasPrefix(m.database, "postgres://") && !strings.HasPrefix(m.database, "postgresql://") {
		return usagef("--database must be a postgres:// URL, like postgres://lango@db.example:5432/lango")
	}
	return nil
}

// parseInterspersed parses flags that may come before or after positional
// arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

func (m *Main) defaultData() string {
	if d := m.Getenv("LANGO_DATA"); d != "" {
		return d
	}
	if d := m.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "lango-hub")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "lango-hub")
	}
	return ""
}

// DBPath is the hub's store in the data folder.
func (m *Main) DBPath() string { return filepath.Join(m.data, "hub.db") }

// KeyFile is the key that seals the site authority keys in PostgreSQL: in
// the data folder, 0600, the same file given to every hub process.
func (m *Main) KeyFile() string { return filepath.Join(m.data, "authority.key") }

// openStore opens the hub's store: PostgreSQL with --database, else the
// embedded SQLite in the data folder.
func (m *Main) openStore(ctx context.Context) (hub.Store, error) {
	if m.database == "" {
		return hubsqlite.Open(ctx, m.DBPath())
	}
	key, err := hubpg.LoadOrCreateKeyFile(m.KeyFile())
	if err != nil {
		return nil, err
	}
	return hubpg.Open(ctx, m.database, hubpg.Options{SealKey: key})
}

func (m *Main) open(ctx context.Context) (*hub.Hub, error) {
	if err := os.MkdirAll(m.data, 0o700); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	st, err := m.openStore(ctx)
	if err != nil {
		return nil, err
	}
	m.store = st
	logger := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: m.level()}))
	if err := importMpesaLedger(ctx, st, m.data, logger); err != nil {
		return nil, err
	}
	if m.bank.ledger, err = bank.OpenLedger(ctx, m.bankPath()); err != nil {
		return nil, err
	}
	cb, err := m.mpesaCallbacks(logger)
	if err != nil {
		return nil, err
	}
	if m.platform, err = m.platformClient(); err != nil {
		return nil, err
	}
	if err := m.mpesa.configure(m); err != nil {
		return nil, err
	}
	m.logger = logger
	return hub.New(st, hub.Options{Now: m.Now, Logger: logger, TokenTTL: m.ttl, MpesaCallbacks: cb, Bank: m.bank.ledger, BankZone: bankZone,
		Platform: strings.TrimSpace(m.Getenv("LANGO_HUB_PLATFORM_URL"))}), nil
}

// platformClient is the national platform's client configured by the
// environment (LANGO_HUB_PLATFORM_URL, _AGENCY, _SECRET), or nil when no
// URL is set: then the hub forwards nothing, and its report says so.
func (m *Main) platformClient() (*platform.Client, error) {
	url := strings.TrimSpace(m.Getenv("LANGO_HUB_PLATFORM_URL"))
	if url == "" {
		return nil, nil
	}
	agency, secret := strings.TrimSpace(m.Getenv("LANGO_HUB_PLATFORM_AGENCY")), m.Getenv("LANGO_HUB_PLATFORM_SECRET")
	if agency == "" || secret == "" {
		return nil, terminal.Errorf(terminal.EINVALID, "LANGO_HUB_PLATFORM_URL is set: LANGO_HUB_PLATFORM_AGENCY and LANGO_HUB_PLATFORM_SECRET are needed too")
	}
	c, err := platform.NewClient(platform.Config{BaseURL: url, Agency: agency, Secret: secret, Now: m.Now, HTTP: &http.Client{Timeout: 10 * time.Second}})
	if err != nil {
		return nil, terminal.Errorf(terminal.EINVALID, "LANGO_HUB_PLATFORM_URL: %v", err)
	}
	m.lease = 30 * time.Second
	if v := strings.TrimSpace(m.Getenv("LANGO_HUB_PLATFORM_LEASE")); v != "" {
		if m.lease, err = time.ParseDuration(v); err != nil || m.lease < time.Second || m.lease > time.Hour {
			return nil, terminal.Errorf(terminal.EINVALID, "LANGO_HUB_PLATFORM_LEASE %q is not a duration between 1s and 1h, e.g. 30s", v)
		}
	}
	return c, nil
}

func (m *Main) level() slog.Level {
	var l slog.Level
	if l.UnmarshalText([]byte(m.logLevel)) != nil {
		return slog.LevelInfo
	}
	return l
}

// Run runs the parsed command. serve returns when ctx is done, after a
// graceful shutdown.
func (m *Main) Run(ctx context.Context) error {
	if m.cmd == "bank import" {
		return m.bankImport(ctx) // the bank ledger only
	}
	if m.cmd == "migrate" || m.cmd == "copy" {
		return m.runPostgres(ctx)
	}
	h, err := m.open(ctx)
	if err != nil {
		return err
	}
	switch m.cmd {
	case "serve":
		if m.upstream != "" {
			return m.serveRelay(ctx)
		}
		return m.serve(ctx, h)
	case "terminal add", "terminal rekey", "relay add":
		issue := h.AddTerminal
		switch m.cmd {
		case "terminal rekey":
			issue = h.RekeyTerminal
		case "relay add":
			issue = h.AddRelay
		}
		token, err := issue(ctx, m.site, m.name)
		if err != nil {
			return err
		}
		if m.json {
			site, _ := hub.NormalizeSite(m.site)
			name, _ := hub.NormalizeName(m.name)
			return m.printJSON(map[string]any{"site": site, "name": name, "token": token, "expires_at": m.Now().Add(m.ttl).UTC().Format(time.RFC3339)})
		}
		fmt.Fprintln(m.Stdout, token)
		return nil
	case "terminal revoke":
		return h.RevokeTerminal(ctx, m.site, m.name)
	case "terminal list":
		ts, err := h.TerminalList(ctx)
		if err != nil {
			return err
		}
		if m.json {
			return m.printJSON(map[string]any{"terminals": ts})
		}
		return m.printTerminals(ts)
	case "catalogue publish":
		body, err := os.ReadFile(m.file)
		if err != nil {
			return terminal.Errorf(terminal.EINVALID, "cannot read %s: %v", m.file, err)
		}
		c, err := h.PublishCatalogue(ctx, m.site, body)
		if err != nil {
			return err
		}
		if m.json {
			return m.printJSON(map[string]any{"site": c.Site, "seq": c.Seq, "version": c.Version, "authority": c.KeyID, "published_at": c.PublishedAt.UTC().Format(time.RFC3339)})
		}
		fmt.Fprintf(m.Stdout, "published catalogue %s for %s as publication %d\n", c.Version, c.Site, c.Seq)
		return nil
	case "report":
		r, err := h.Report(ctx)
		if err != nil {
			return err
		}
		if m.json {
			return m.printJSON(r)
		}
		return m.printReport(r)
	case "export":
		return m.runExport(ctx, h)
	case "backup":
		if _, err := os.Stat(m.file); err == nil {
			return terminal.Errorf(terminal.ECONFLICT, "%s already exists: choose a new file", m.file)
		}
		return m.store.Backup(ctx, m.file)
	}
	return usagef("unknown command %q", m.cmd)
}

// listener listens on --listen, with TLS when --tls-cert is given, and
// notes the address it got.
func (m *Main) listener() (net.Listener, error) {
	var tlsConfig *tls.Config
	if m.tlsCert != "" {
		certs := &certFiles{cert: m.tlsCert, key: m.tlsKey}
		if _, err := certs.get(nil); err != nil {
			return nil, err
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.get}
	}
	ln, err := net.Listen("tcp", m.listen)
	if err != nil {
		return nil, &terminal.Error{Kind: terminal.EUNAVAILABLE, Message: "cannot listen on " + m.listen, Err: err}
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	m.addr = ln.Addr().String()
	return ln, nil
}

func (m *Main) serve(ctx context.Context, h *hub.Hub) error {
	ln, err := m.listener()
	if err != nil {
		return err
	}
	id, _ := m.store.HubID(ctx)
	slog.New(slog.NewTextHandler(m.Stderr, nil)).Info("lango-hub serving", "listen", m.addr, "data", m.data, "database", m.databaseName(), "hub_id", id)
	close(m.ready)
	// The M-PESA workers end with serve, before the store closes.
	var workers sync.WaitGroup
	defer workers.Wait()
	if c := m.mpesa.client; c != nil {
		workers.Go(func() { m.chaseMpesa(ctx, h, c) })
	}
	if p := m.mpesa.puller; p != nil {
		workers.Go(func() { m.pullMpesa(ctx, p, m.mpesa.every) })
	}
	if m.platform != nil {
		f := forward.New(forward.Config{Store: m.store, Platform: m.platform, Tickets: m.platform, Now: m.Now, Logger: m.logger, Lease: m.lease})
		f.Start(ctx)
		defer f.Close()
		m.logger.Info("forwarding to the national platform", "url", m.Getenv("LANGO_HUB_PLATFORM_URL"), "agency", m.platform.Agency())
	}
	if path := m.Getenv("LANGO_HUB_CPUPROFILE"); path != "" {
		stop, err := startCPUProfile(path)
		if err != nil {
			return err
		}
		defer stop()
	}
	return hub.NewServer(h).Serve(ctx, ln, 20*time.Second)
}

// certFiles serves a certificate from files, read again when either file
// changes, so a renewed certificate (Let's Encrypt's every 60 days) takes
// effect without a restart.
type certFiles struct {
	cert, key string

	mu      sync.Mutex
	current *tls.Certificate
	stamp   string // the files' modification times when current was read
}

func (c *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	stamp := ""
	for _, f := range []string{c.cert, c.key} {
		fi, err := os.Stat(f)
		if err != nil {
			return nil, terminal.Errorf(terminal.EINVALID, "TLS: %v", err)
		}
		stamp += fi.ModTime().String() + "|"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current != nil && stamp == c.stamp {
		return c.current, nil
	}
	cert, err := tls.LoadX509KeyPair(c.cert, c.key)
	if err != nil {
		if c.current != nil {
			return c.current, nil // half-renewed: keep serving the old one
		}
		return nil, terminal.Errorf(terminal.EINVALID, "TLS certificate %s with key %s: %v", c.cert, c.key, err)
	}
	c.current, c.stamp = &cert, stamp
	return c.current, nil
}

// Ready is closed once serve listens; Addr then says where.
func (m *Main) Ready() <-chan struct{} { return m.ready }

// Addr is the address serve listens on.
func (m *Main) Addr() string { return m.addr }

// Close releases the store.
func (m *Main) Close() error {
	if m.bank.ledger != nil {
		m.bank.ledger.Close()
		m.bank.ledger = nil
	}
	if m.store == nil {
		return nil
	}
	err := m.store.Close()
	m.store = nil
	return err
}

func (m *Main) printJSON(v any) error {
	enc := json.NewEncoder(m.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (m *Main) printTerminals(ts []hub.ReportTerminal) error {
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SITE\tNAME\tEVENTS\tLAST SEQ\tLAST SEEN\tSTATE")
	for _, t := range ts {
		seen, state := "never", "enrolled"
		if t.LastSeen != nil {
			seen = t.LastSeen.Local().Format("2006-01-02 15:04")
		}
		if t.Revoked {
			state = "revoked"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", t.Site, t.Name, t.Events, t.LastSeq, seen, state)
	}
	return tw.Flush()
}

func (m *Main) printReport(r *hub.Report) error {
	if err := m.printTerminals(r.Terminals); err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout)
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SITE\tTENDER\tTAKINGS")
	for _, t := range r.Takings {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Site, t.Tender, terminal.Money{Currency: terminal.Currency(t.Currency), Minor: t.Amount})
	}
	tw.Flush()
	fmt.Fprintf(m.Stdout, "\n%d unsettled deferred passes, %d conflicts\n", len(r.Unsettled), len(r.Conflicts))
	for _, c := range r.Conflicts {
		fmt.Fprintf(m.Stdout, "  %s %s %s%s%s %s\n", c.At.Local().Format("2006-01-02 15:04"), c.Kind, c.Site, " "+c.Terminal, " "+c.PassID+c.Code+c.Operator, c.Reason)
	}
	f := r.Forwarded
	fmt.Fprintf(m.Stdout, "\nnational platform: %d bills and %d reversals posted, %d bills and %d reversals pending, %d refused\n",
		f.Posted.Bills, f.Posted.Reversals, f.Pending.Bills, f.Pending.Reversals, len(f.Refused))
	if f.Message != "" {
		fmt.Fprintf(m.Stdout, "  %s\n", f.Message)
	}
	if f.LastError != "" {
		fmt.Fprintf(m.Stdout, "  last error: %s\n", f.LastError)
	}
	for _, x := range f.Refused {
		fmt.Fprintf(m.Stdout, "  refused %s %s (%s %s): %s %s\n", x.Kind, x.BillRef, x.Site, x.Terminal, x.Error, x.Message)
	}
	printBank(m.Stdout, r.Bank)
	return nil
}

// mpesaCallbacks serves Daraja's C2B and Transaction Status callbacks under
// /mpesa/ for the networks in LANGO_HUB_MPESA_ALLOW (comma-separated CIDRs,
// Safaricom's published ranges in production); without it every callback
// is refused.
func (m *Main) mpesaCallbacks(log *slog.Logger) (http.Handler, error) {
	var allowed []netip.Prefix
	for _, s := range strings.Split(m.Getenv("LANGO_HUB_MPESA_ALLOW"), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, terminal.Errorf(terminal.EINVALID, "LANGO_HUB_MPESA_ALLOW: %q is not a network like 196.201.214.0/24", s)
		}
		allowed = append(allowed, p)
	}
	codes, err := shortCodes("LANGO_HUB_MPESA_SHORTCODE", m.Getenv("LANGO_HUB_MPESA_SHORTCODE"))
	if err != nil {
		return nil, err
	}
	return &mpesa.Callbacks{Ledger: m.store, Allowed: allowed, ShortCodes: codes, Now: m.Now, Log: log}, nil
}

// darajaClient is the Transaction Status client configured by the
// environment (LANGO_DARAJA_URL, _KEY, _SECRET, _INITIATOR, _CREDENTIAL,
// _SHORTCODE, _RESULT_URL), or nil when not configured.
func (m *Main) darajaClient() *mpesa.Client {
	base := m.Getenv("LANGO_DARAJA_URL")
	if base == "" {
		return nil
	}
	result := m.Getenv("LANGO_DARAJA_RESULT_URL")
	return mpesa.NewClient(mpesa.Config{
		BaseURL: base, ConsumerKey: m.Getenv("LANGO_DARAJA_KEY"), ConsumerSecret: m.Getenv("LANGO_DARAJA_SECRET"),
		Initiator: m.Getenv("LANGO_DARAJA_INITIATOR"), SecurityCredential: m.Getenv("LANGO_DARAJA_CREDENTIAL"),
		ShortCode: m.Getenv("LANGO_DARAJA_SHORTCODE"), ResultURL: result,
		TimeoutURL: strings.TrimSuffix(result, "/result") + "/timeout",
	}, nil)
}

// mpesaGrace is how long a code may wait for its C2B confirmation before
// the hub asks Transaction Status about it.
const mpesaGrace = 30 * time.Minute

// chaseMpesa asks Daraja, every ten minutes, about the codes still
// unmatched after the grace period.
func (m *Main) chaseMpesa(ctx context.Context, h *hub.Hub, c *mpesa.Client) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if err := m.chaseOnce(ctx, h, c); err != nil {
			slog.Warn("M-PESA status queries", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *Main) chaseOnce(ctx context.Context, h *hub.Hub, c *mpesa.Client) error {
	rep, err := h.Report(ctx)
	if err != nil || rep.Mpesa == nil {
		return err
	}
	var tenders []mpesa.Tender
	for _, ln := range rep.Mpesa.Lines {
		tenders = append(tenders, ln.Sales...)
	}
	_, err = mpesa.Chase(ctx, m.store, c, tenders, mpesaGrace, m.Now())
	return err
}
