package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/lango-pos/lango/internal/sqlitefile"
	hubpg "github.com/lango-pos/lango/sync/hub/postgres"
	hubsqlite "github.com/lango-pos/lango/sync/hub/sqlite"
	"github.com/lango-pos/lango/terminal"
)

// databaseName is the database for the log: the URL without a password,
// or "embedded".
func (m *Main) databaseName() string {
	if m.database == "" {
		return "embedded"
	}
	cfg, err := pgconn.ParseConfig(m.database)
	if err != nil {
		return "postgres"
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// runPostgres runs migrate and copy.
func (m *Main) runPostgres(ctx context.Context) error {
	if err := os.MkdirAll(m.data, 0o700); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	key, err := hubpg.LoadOrCreateKeyFile(m.KeyFile())
	if err != nil {
		return err
	}
	// Open applies the migrations the database lacks.
	st, err := hubpg.Open(ctx, m.database, hubpg.Options{SealKey: key})
	if err != nil {
		return err
	}
	m.store = st
	switch m.cmd {
	case "migrate":
		if err := importMpesaLedger(ctx, st, m.data, slog.New(slog.NewTextHandler(m.Stderr, nil))); err != nil {
			return err
		}
		names, err := st.Migrations(ctx)
		if err != nil {
			return err
		}
		if m.json {
			return m.printJSON(map[string]any{"migrations": names})
		}
		fmt.Fprintf(m.Stdout, "the database is at migration %s\n", strings.TrimSuffix(names[len(names)-1], ".sql"))
		return nil
	case "copy":
		return m.copy(ctx, st)
	}
	return usagef("unknown command %q", m.cmd)
}

// copy moves the embedded hub in --from into the PostgreSQL store.
func (m *Main) copy(ctx context.Context, st *hubpg.Store) error {
	path := filepath.Join(m.from, "hub.db")
	if _, err := os.Stat(path); err != nil {
		return terminal.Errorf(terminal.EINVALID, "no embedded hub in %s (no hub.db): --from names the data folder of `lango-hub serve` without --database", m.from)
	}
	// Opening the embedded store brings it to its newest migration and
	// checks its file, as serve would.
	es, err := hubsqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	// An M-PESA ledger still in its own file joins the embedded store
	// first, and is copied with it.
	if err := importMpesaLedger(ctx, es, m.from, nil); err != nil {
		es.Close()
		return err
	}
	es.Close()
	src, err := sql.Open("sqlite", sqlitefile.DSN(path, true))
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer src.Close()
	rep, err := st.CopyFromSQLite(ctx, src)
	if err != nil {
		var te *terminal.Error
		if !errors.As(err, &te) {
			err = fmt.Errorf("copy from %s: %w", path, err)
		}
		return err
	}
	if m.json {
		return m.printJSON(rep)
	}
	fmt.Fprintf(m.Stdout, "copied %d events of %d terminals from %s into %s (hub id %s)\n", rep.Events, rep.Terminals, path, m.databaseName(), rep.HubID)
	return nil
}
