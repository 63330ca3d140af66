package sqlite

// SetAfterReport makes db call fn between a shift close's report and its
// write transaction, for the tests of package sqlite_test.
func SetAfterReport(db *DB, fn func()) { db.afterReport = fn }

// Migrations is the store's embedded schema, for the tests of package
// sqlite_test that migrate a store step by step.
var Migrations = migrations

// SetArchiveHook makes db call fn at each step of an archive run.
func SetArchiveHook(db *DB, fn func(step string)) { db.archiveHook = fn }

// SetArchiveBatch makes db's archive files hold at most n events.
func SetArchiveBatch(db *DB, n int64) { db.archiveBatch = n }
