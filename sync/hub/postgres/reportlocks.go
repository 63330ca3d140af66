package postgres

import (
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/lango-pos/lango/sync/hub"
)

// A transaction that reads and writes the report facts of some groups
// locks them first, so that two processes applying facts of one group see
// each other's. Advisory locks live in the server's shared lock table,
// max_locks_per_transaction (64 by default) × connections, and one upload
// may name some 80,000 groups (TestLargestBatchApplies): a lock per group
// would exhaust the table ("out of shared memory") and fail every apply
// of the server. So a group's lock is one of reportBuckets, by its key's
// hash: a transaction takes at most that many, in the buckets' order, in
// one statement (no two transactions wait on each other in a cycle).
//
// A bucket is taken shared when every group of it the transaction names
// holds only new sales (hub.ReportBatch.OnlySales: the upload of a day's
// backlog), else exclusive (a use, a settlement, a void, a ticket, an
// operator, an M-PESA code, a bank tender). Two uploads of new sales then
// never wait for each other, however many sales they carry; a use and
// the sale of its pass, applied at once, take one bucket in the two modes
// and so one after the other, and the second sees the first's facts.
const (
	reportBuckets = 64
	// reportLockClass is the first key of the buckets' locks.
	reportLockClass = 0x72707274 // "rprt"
)

// ReportLock is the advisory lock (its two keys) that stands for k's
// group.
func ReportLock(k hub.ReportKey) (class, key int32) {
	return reportLockClass, int32(uint64(k.Lock()) % reportBuckets)
}

// queueReportLocks queues in batch the locks of the buckets keys fall in:
// shared where shared(k) holds for every key of the bucket (nil: none
// does). It returns how many statements it queued (each to be read with
// Exec, in order).
func queueReportLocks(batch *pgx.Batch, keys []hub.ReportKey, shared func(hub.ReportKey) bool) int {
	exclusive := map[int32]bool{}
	for _, k := range keys {
		_, b := ReportLock(k)
		exclusive[b] = exclusive[b] || shared == nil || !shared(k)
	}
	buckets := slices.Sorted(maps.Keys(exclusive))
	modes := make([]bool, len(buckets))
	for i, b := range buckets {
		modes[i] = exclusive[b]
	}
	// One row a bucket, in the arrays' order (a function scan reads them
	// in order): each lock taken before the next is asked for.
	batch.Queue(`SELECT count(CASE WHEN u.x THEN pg_advisory_xact_lock($1, u.b)::text ELSE pg_advisory_xact_lock_shared($1, u.b)::text END)
		FROM unnest($2::int[], $3::bool[]) AS u(b, x)`, int32(reportLockClass), buckets, modes)
	return 1
}
