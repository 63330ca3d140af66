package postgres

import (
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/lango-pos/lango/sync/hub"
)

// A transaction that reads and writes the report facts of some groups
// locks them first (advisory locks, sorted), so that two processes
// applying facts of one group see each other's. Advisory locks live in
// the server's shared lock table, max_locks_per_transaction (64 by
// default) × connections, and one upload may name some 80,000 groups
// (TestLargestBatchApplies): a lock per group would exhaust the table
// ("out of shared memory") and fail every apply of the server. So a
// transaction takes at most reportExactLocks + 1 of them: the groups' own
// locks under the class lock held shared when it names that few (a
// terminal online, a sale or two at a time), else the class lock alone,
// exclusive (a backlog's upload: such uploads then keep the report's
// state one after another).
const (
	reportExactLocks = 32
	// reportLockClass is the first key of the locks on groups (the second
	// is the group's hub.ReportKey.Lock); reportAllClass's lock stands
	// for every group.
	reportLockClass = 0x72707274 // "rprt"
	reportAllClass  = 0x72707261 // "rpra"
)

// queueReportLocks queues the locks on keys in batch and returns how
// many statements it queued (each to be read with Exec, in order).
func queueReportLocks(batch *pgx.Batch, keys []hub.ReportKey) int {
	locks := make([]int32, len(keys))
	for i, k := range keys {
		locks[i] = int32(k.Lock())
	}
	slices.Sort(locks)
	locks = slices.Compact(locks)
	if len(locks) > reportExactLocks {
		batch.Queue(`SELECT pg_advisory_xact_lock($1, 0)`, int32(reportAllClass))
		return 1
	}
	batch.Queue(`SELECT pg_advisory_xact_lock_shared($1, 0)`, int32(reportAllClass))
	batch.Queue(`SELECT pg_advisory_xact_lock($1, k) FROM unnest($2::int[]) k`, int32(reportLockClass), locks)
	return 2
}
