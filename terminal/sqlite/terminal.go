package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/lango-pos/lango/terminal"
)

var terminalNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)

// Init makes this store a terminal of site: its identity, settings,
// catalogue and the supervisor "admin". It works with no hub.
func (db *DB) Init(ctx context.Context, r terminal.InitRequest) (terminal.Identity, error) {
	name := strings.ToLower(strings.TrimSpace(r.Name))
	if !terminalNameRE.MatchString(name) {
		return terminal.Identity{}, terminal.Errorf(terminal.EINVALID, "terminal name %q is not valid: 1–32 letters, digits, '.', '-' or '_'", r.Name)
	}
	cat, err := terminal.ParseCatalogue(r.Catalogue)
	if err != nil {
		return terminal.Identity{}, err
	}
	site := strings.ToUpper(strings.TrimSpace(r.Site))
	if _, ok := cat.Site(site); !ok {
		return terminal.Identity{}, terminal.Errorf(terminal.EINVALID, "site %q is not in catalogue %s", r.Site, cat.Version)
	}
	hash, err := terminal.HashPIN(r.AdminPIN)
	if err != nil {
		return terminal.Identity{}, err
	}
	settings := terminal.DefaultSettings()
	if s, _ := cat.Site(site); s.Kind == "counter" {
		settings["mode"] = "counter"
	}
	for k, v := range r.Settings {
		nv, err := db.validateSetting(k, v)
		if err != nil {
			return terminal.Identity{}, err
		}
		settings[k] = nv
	}
	id := terminal.Identity{TerminalID: newID(), Name: name, Site: site}
	err = db.record(ctx, "the new terminal", func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM meta WHERE key = 'terminal_id'`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return terminal.Errorf(terminal.ECONFLICT, "this data folder already holds a terminal; use another --data folder")
		}
		tx.terminal = id.TerminalID
		for k, v := range map[string]string{"terminal_id": id.TerminalID, "name": name, "site": site, "created_at": ts(tx.now)} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)`, k, v); err != nil {
				return err
			}
		}
		if _, err := tx.appendEvent(ctx, "", terminal.TerminalInitialized(id)); err != nil {
			return err
		}
		for _, k := range terminal.SettingKeys() {
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)`, k, settings[k], ts(tx.now)); err != nil {
				return err
			}
		}
		if _, err := tx.appendEvent(ctx, "", terminal.ConfigSet(settings)); err != nil {
			return err
		}
		if err := tx.loadCatalogue(ctx, cat); err != nil {
			return err
		}
		if err := tx.createKeys(ctx, site, name); err != nil {
			return err
		}
		_, err := tx.addOperator(ctx, "", "admin", terminal.RoleSupervisor, hash, scopeTerminal)
		return err
	})
	if err != nil {
		return terminal.Identity{}, err
	}
	db.mu.Lock()
	db.cat = cat
	db.mu.Unlock()
	return id, nil
}

// Identity returns who this terminal is, or an error if the store was never
// initialised.
func (db *DB) Identity(ctx context.Context) (terminal.Identity, error) {
	db.mu.Lock()
	cached := db.identity
	db.mu.Unlock()
	if cached != nil {
		return *cached, nil
	}
	var id terminal.Identity
	rows, err := db.db.QueryContext(ctx, `SELECT key, value FROM meta WHERE key IN ('terminal_id', 'name', 'site')`)
	if err != nil {
		return id, fmt.Errorf("identity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return id, err
		}
		switch k {
		case "terminal_id":
			id.TerminalID = v
		case "name":
			id.Name = v
		case "site":
			id.Site = v
		}
	}
	if err := rows.Err(); err != nil {
		return id, err
	}
	if id.TerminalID == "" {
		return id, terminal.Errorf(terminal.ENOTFOUND, "this data folder holds no terminal yet: run lango init first")
	}
	db.mu.Lock()
	db.identity = &id
	db.mu.Unlock()
	return id, nil
}

func (tx *Tx) loadCatalogue(ctx context.Context, cat *terminal.Catalogue) error {
	if _, err := tx.ExecContext(ctx, `UPDATE catalogues SET active = 0 WHERE active = 1`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO catalogues (version, body, loaded_at, active) VALUES (?, ?, ?, 1)
		ON CONFLICT (version) DO UPDATE SET active = 1, body = excluded.body, loaded_at = excluded.loaded_at`, cat.Version, cat.Raw(), ts(tx.now)); err != nil {
		return fmt.Errorf("store catalogue: %w", err)
	}
	_, err := tx.appendEvent(ctx, "", terminal.CatalogueLoaded{Version: cat.Version})
	return err
}

// LoadCatalogue makes cat the active catalogue. The switch is atomic: a sale
// in progress keeps the catalogue it was priced with.
func (db *DB) LoadCatalogue(ctx context.Context, cat *terminal.Catalogue) error {
	if err := db.record(ctx, "the catalogue", func(tx *Tx) error { return tx.loadCatalogue(ctx, cat) }); err != nil {
		return err
	}
	db.mu.Lock()
	db.cat = cat
	db.mu.Unlock()
	return nil
}

// Catalogue returns the active catalogue.
func (db *DB) Catalogue(ctx context.Context) (*terminal.Catalogue, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.cat != nil {
		return db.cat, nil
	}
	var body []byte
	err := db.db.QueryRowContext(ctx, `SELECT body FROM catalogues WHERE active = 1`).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, terminal.Errorf(terminal.ENOTFOUND, "no catalogue loaded: run lango init first")
	}
	if err != nil {
		return nil, fmt.Errorf("catalogue: %w", err)
	}
	cat, err := terminal.ParseCatalogue(body)
	if err != nil {
		// Stored by a version of Lango that checked less (a version the
		// pass cannot carry): say so, rather than fail at every sale.
		return nil, &terminal.Error{Kind: terminal.EINVALID, Err: err,
			Message: "this terminal's catalogue cannot be used (" + strings.TrimPrefix(terminal.ErrorMessage(err), "catalogue file is not valid: ") +
				"): publish a corrected catalogue at the hub and sync"}
	}
	db.cat = cat
	return cat, nil
}

// Settings returns every setting.
func (db *DB) Settings(ctx context.Context) (map[string]string, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT key, value FROM settings`)
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	defer rows.Close()
	out := terminal.DefaultSettings()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// Setting returns one setting.
func (db *DB) Setting(ctx context.Context, key string) (string, error) {
	s, err := db.Settings(ctx)
	if err != nil {
		return "", err
	}
	return s[key], nil
}

// validateSetting is terminal.ValidateSetting, then CheckDevice for the
// device settings.
func (db *DB) validateSetting(key, value string) (string, error) {
	v, err := terminal.ValidateSetting(key, value)
	if err != nil {
		return "", err
	}
	if db.CheckDevice != nil && terminal.IsDeviceSetting(key) {
		if err := db.CheckDevice(key, v); err != nil {
			return "", err
		}
	}
	return v, nil
}

// SetSetting validates and stores a setting, with its event.
func (db *DB) SetSetting(ctx context.Context, actor, key, value string) (string, error) {
	if err := guardSetting(key); err != nil {
		return "", err
	}
	v, err := db.validateSetting(key, value)
	if err != nil {
		return "", err
	}
	if _, err := db.Identity(ctx); err != nil {
		return "", err
	}
	err = db.record(ctx, "the setting", func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, v, ts(tx.now)); err != nil {
			return fmt.Errorf("set %s: %w", key, err)
		}
		_, err := tx.appendEvent(ctx, actor, terminal.ConfigSet{key: v})
		return err
	})
	return v, err
}
