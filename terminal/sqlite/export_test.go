package sqlite

// SetAfterReport makes db call fn between a shift close's report and its
// write transaction, for the tests of package sqlite_test.
func SetAfterReport(db *DB, fn func()) { db.afterReport = fn }
