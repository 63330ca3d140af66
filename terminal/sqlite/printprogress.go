package sqlite

import (
	"context"

	"github.com/lango-pos/lango/terminal"
)

// MarkPrintProgress records, while a job prints, that the paper holds its
// bytes up to offset at whole (bytes whose digest is sum), without
// counting an attempt: a process killed part way then goes on from there
// at its next start (printer.ProgressStore). It commits at once
// (synchronous=FULL): a record the printing process did not live to
// commit costs at most the bytes sent since the one before.
func (db *DB) MarkPrintProgress(ctx context.Context, id string, at int, sum string) error {
	if at < 0 || sum == "" {
		return terminal.Errorf(terminal.EINVALID, "print job %s: progress %d (%q)", id, at, sum)
	}
	return db.bookkeep(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE print_jobs SET resume_at = ?, resume_sum = ? WHERE id = ? AND printed_at IS NULL AND attempts >= 0`, at, sum, id)
		return err
	})
}
