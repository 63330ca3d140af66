package hub

// SetApplyHook makes Apply call fn after each event it inserts; an error
// from fn aborts the batch's transaction as a crash would. Tests only.
func (s *SQLiteStore) SetApplyHook(fn func(inserted int) error) { s.applyHook = fn }
