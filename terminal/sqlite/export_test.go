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

// DecodePayload is db's decoding of a stored event payload.
func DecodePayload(db *DB, stored []byte) ([]byte, error) { return db.decodePayload(stored) }

// EncodePayload is what db would store for payload raw now, with its
// current dictionary.
func EncodePayload(db *DB, raw []byte) ([]byte, error) {
	return db.payloads.encode(db.payloads.current(), raw)
}
