package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// copiedAsIs are the embedded hub's tables that CopyFromSQLite moves row
// for row, by the columns of the same names (copyTable), after the
// terminals: the certificates each terminal holds (compact passes), the
// queue to the national platform with its voids and each terminal's
// cursor (what was posted stays posted: serve does not derive those
// events' bills again), and the prepaid ticket lists brought down. A row
// the destination holds already is kept (a forward cursor moves forward).
// Every other table is copied by its own code in copy.go or is derived
// there (the report's state, the forward counts' triggers);
// TestCopyCarriesEveryTable fails on a table that is neither.
var copiedAsIs = []struct {
	table, conflict string
	identity        string // a column numbered by the database, whose sequence continues after the copied rows
}{
	{"forwards", "DO NOTHING", "n"},
	{"forward_voids", "DO NOTHING", ""},
	{"forward_cursors", "(terminal) DO UPDATE SET seq = greatest(forward_cursors.seq, excluded.seq)", ""},
	{"tickets", "DO NOTHING", "n"},
	{"ticket_lists", "DO NOTHING", ""},
}

// copyTables copies the tables of copiedAsIs from src in tx, and the
// certificates each terminal holds (compact passes), which PostgreSQL
// keeps in one row a terminal (cert_hold_sets).
func copyTables(ctx context.Context, tx pgx.Tx, src *sql.DB) error {
	if err := copyCertHolds(ctx, tx, src); err != nil {
		return fmt.Errorf("copy cert_holds: %w", err)
	}
	for _, c := range copiedAsIs {
		if err := copyTable(ctx, tx, src, c.table, c.conflict, c.identity != ""); err != nil {
			return fmt.Errorf("copy %s: %w", c.table, err)
		}
		if c.identity != "" {
			if _, err := tx.Exec(ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', '%s'), greatest((SELECT max(%s) FROM %s), 1))`,
				c.table, c.identity, c.identity, c.table)); err != nil {
				return fmt.Errorf("copy %s: %w", c.table, err)
			}
		}
	}
	return nil
}

// copyTable copies every row of table from src by the destination's
// columns (both schemas name them alike), each value as the destination's
// column type takes it.
func copyTable(ctx context.Context, tx pgx.Tx, src *sql.DB, table, conflict string, identity bool) error {
	rows, err := tx.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	if err != nil {
		return err
	}
	var cols, types []string
	for rows.Next() {
		var c, t string
		if err := rows.Scan(&c, &t); err != nil {
			rows.Close()
			return err
		}
		cols, types = append(cols, c), append(types, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(cols) == 0 {
		return fmt.Errorf("no such table in the database")
	}
	marks := make([]string, len(cols))
	for i := range cols {
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	overriding := ""
	if identity {
		overriding = " OVERRIDING SYSTEM VALUE"
	}
	insert := `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `)` + overriding + ` VALUES (` + strings.Join(marks, ", ") + `) ON CONFLICT ` + conflict
	return eachRow(ctx, src, `SELECT `+strings.Join(cols, ", ")+` FROM `+table, func(r *sql.Rows) error {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			switch x := v.(type) {
			case []byte:
				if types[i] != "bytea" {
					vals[i] = string(x)
				} else {
					vals[i] = append([]byte(nil), x...)
				}
			case string:
				if types[i] == "bytea" {
					vals[i] = []byte(x)
				}
			}
		}
		_, err := tx.Exec(ctx, insert, vals...)
		return err
	})
}

// copyCertHolds copies the embedded hub's cert_holds (a row a terminal and
// key id) into cert_hold_sets (a row a terminal, its key ids sorted); a
// terminal whose holds the destination has already keeps them.
func copyCertHolds(ctx context.Context, tx pgx.Tx, src *sql.DB) error {
	var term string
	var keys []string
	flush := func() error {
		if term == "" {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO cert_hold_sets (terminal_id, key_ids) VALUES ($1, $2) ON CONFLICT (terminal_id) DO NOTHING`, term, keys)
		term, keys = "", nil
		return err
	}
	err := eachRow(ctx, src, `SELECT terminal_id, key_id FROM cert_holds ORDER BY terminal_id, key_id`, func(r *sql.Rows) error {
		var t, k string
		if err := r.Scan(&t, &k); err != nil {
			return err
		}
		if t != term {
			if err := flush(); err != nil {
				return err
			}
			term = t
		}
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}
