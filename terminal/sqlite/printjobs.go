package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/lango-pos/lango/terminal"
)

const jobCols = `id, kind, coalesce(sale_id, ''), ref, copy, attempts, created_at, printed_at, last_error, resume_at, resume_sum`

func scanJob(row interface{ Scan(...any) error }) (terminal.PrintJob, error) {
	var j terminal.PrintJob
	var id int64
	var created string
	var printed sql.NullString
	if err := row.Scan(&id, &j.Kind, &j.SaleID, &j.Ref, &j.Copy, &j.Attempts, &created, &printed, &j.LastError, &j.ResumeAt, &j.ResumeSum); err != nil {
		return j, err
	}
	j.ID, j.CreatedAt = strconv.FormatInt(id, 10), parseTS(created)
	if printed.Valid {
		t := parseTS(printed.String)
		j.PrintedAt = &t
	}
	return j, nil
}

// NextPrintJob returns the oldest job not yet printed and not given up.
func (db *DB) NextPrintJob(ctx context.Context) (terminal.PrintJob, bool, error) {
	j, err := scanJob(db.db.QueryRowContext(ctx, `SELECT `+jobCols+` FROM print_jobs WHERE printed_at IS NULL AND attempts >= 0 ORDER BY id LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return j, false, nil
	}
	if err != nil {
		return j, false, fmt.Errorf("next print job: %w", err)
	}
	return j, true, nil
}

// PrintJob returns a job by id.
func (db *DB) PrintJob(ctx context.Context, id string) (terminal.PrintJob, error) {
	j, err := scanJob(db.db.QueryRowContext(ctx, `SELECT `+jobCols+` FROM print_jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return j, terminal.Errorf(terminal.ENOTFOUND, "no print job %q", id)
	}
	return j, err
}

// PendingPrintJobs counts the jobs waiting for the printer.
func (db *DB) PendingPrintJobs(ctx context.Context) (int, error) {
	var n int
	err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM print_jobs WHERE printed_at IS NULL AND attempts >= 0`).Scan(&n)
	return n, err
}

// PrintedJobsKept is how long a printed job is kept (for `lango print`
// and support questions) before it is pruned. Print jobs are operational
// state, not records: a reprint's request is in the event log.
const PrintedJobsKept = 7 * 24 * time.Hour

// MarkPrinted records that the printer confirmed a job, and prunes jobs
// printed more than PrintedJobsKept ago. A job is marked once: marking it
// again changes nothing.
func (db *DB) MarkPrinted(ctx context.Context, id string, at time.Time) error {
	return db.bookkeep(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE print_jobs SET printed_at = ?, last_error = '' WHERE id = ? AND printed_at IS NULL`, ts(at), id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM print_jobs WHERE printed_at IS NOT NULL AND printed_at < ?`, ts(at.Add(-PrintedJobsKept)))
		return err
	})
}

// MarkPrintFailed records a failed attempt; a final failure (the job can
// never print) takes it out of the queue (attempts set negative) so it does
// not block the jobs behind it.
func (db *DB) MarkPrintFailed(ctx context.Context, id, reason string, final bool) error {
	return db.bookkeep(ctx, func(tx *Tx) error {
		q := `UPDATE print_jobs SET attempts = attempts + 1, last_error = ? WHERE id = ?`
		if final {
			q = `UPDATE print_jobs SET attempts = -1 - attempts, last_error = ? WHERE id = ?`
		}
		_, err := tx.ExecContext(ctx, q, reason, id)
		return err
	})
}

// MarkPrintInterrupted records that a job's attempt stopped at offset at
// of the bytes whose digest is sum, between whole lines and images: the
// next attempt goes on from there. It counts as a failed attempt.
func (db *DB) MarkPrintInterrupted(ctx context.Context, id string, at int, sum, reason string) error {
	if at < 0 || sum == "" {
		return terminal.Errorf(terminal.EINVALID, "print job %s: resume point %d (%q)", id, at, sum)
	}
	return db.bookkeep(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE print_jobs SET attempts = attempts + 1, last_error = ?, resume_at = ?, resume_sum = ? WHERE id = ? AND printed_at IS NULL AND attempts >= 0`, reason, at, sum, id)
		return err
	})
}

// Reprint queues a copy of a sale's pass or receipt, marked COPY; only a
// supervisor may, and the request is audited.
func (db *DB) Reprint(ctx context.Context, sup *terminal.Operator, saleID string) (string, error) {
	if sup == nil || sup.Role != terminal.RoleSupervisor {
		return "", terminal.Errorf(terminal.EUNAUTHORIZED, "only a supervisor can reprint")
	}
	s, err := db.Sale(ctx, saleID)
	if err != nil {
		return "", err
	}
	var job string
	err = db.record(ctx, "the reprint", func(tx *Tx) error {
		var err error
		if job, err = tx.queuePrint(ctx, s.ID, printKind(s), true); err != nil {
			return err
		}
		if job == "" {
			return terminal.Errorf(terminal.EDEVICE, "no printer is configured: lango config set printer SPEC")
		}
		_, err = tx.appendEvent(ctx, sup.Name, terminal.PrintReprint{SaleID: s.ID, Job: job})
		return err
	})
	return job, err
}

// QueuePrint queues a print job for a shift's Z-report or another document
// that is not a sale; it returns "" when no printer is configured.
func (db *DB) QueuePrint(ctx context.Context, kind, ref string) (string, error) {
	var job string
	err := db.bookkeep(ctx, func(tx *Tx) error {
		var err error
		job, err = tx.queuePrintRef(ctx, kind, ref)
		return err
	})
	return job, err
}

// ShiftReport returns the Z-report stored when a shift closed.
func (db *DB) ShiftReport(ctx context.Context, shiftID string) (*terminal.ZReport, error) {
	var z sql.NullString
	err := db.db.QueryRowContext(ctx, `SELECT zreport FROM shifts WHERE id = ?`, shiftID).Scan(&z)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !z.Valid) {
		return nil, terminal.Errorf(terminal.ENOTFOUND, "no closed shift %q", shiftID)
	}
	if err != nil {
		return nil, err
	}
	var r terminal.ZReport
	if err := json.Unmarshal([]byte(z.String), &r); err != nil {
		return nil, fmt.Errorf("stored z-report: %w", err)
	}
	return &r, nil
}
