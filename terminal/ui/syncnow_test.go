package ui

import (
	"context"
	"testing"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// TestSyncNow: the supervisor's "Sync now" runs one exchange at once and
// says how it went; the status bar then shows the state the store holds.
// The exchange records its outcome in the real store as the sync client's
// Once does: first the hub cannot be reached, then it answers.
func TestSyncNow(t *testing.T) {
	var db *sqlite.DB
	calls := 0
	h := newHarness(t, func(o *Options) {
		db = o.Store.(*sqlite.DB)
		o.Sync = StoreSync(db, db.Now)
		o.SyncNow = func(ctx context.Context) error {
			calls++
			if calls == 1 {
				err := terminal.Errorf(terminal.EUNAVAILABLE, "the hub at http://127.0.0.1:9 cannot be reached")
				if rerr := db.RecordSyncAttempt(ctx, terminal.SyncAttempt{At: db.Now(), Err: terminal.ErrorMessage(err)}); rerr != nil {
					return rerr
				}
				return err
			}
			return db.RecordSyncAttempt(ctx, terminal.SyncAttempt{At: db.Now(), Reached: true})
		}
	})
	k := h.k
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	k.RefreshStatus(context.Background())
	contains(t, "status before", k.status.lastSync, "Offline")

	sup := h.superScreen()
	if sup.syncBtn == nil {
		t.Fatalf("no Sync now on the supervisor screen")
	}
	h.tap(sup.syncBtn)
	k.wg.Wait()
	if calls != 1 {
		t.Fatalf("Sync now ran %d exchanges; want 1", calls)
	}
	contains(t, "outcome", sup.msg.Text, "Sync failed: the hub at http://127.0.0.1:9 cannot be reached")
	if !sup.msg.isError() || sup.syncBtn.Disabled() {
		t.Errorf("a failed sync: error shown %v, button disabled %v; want an error and the button back", sup.msg.isError(), sup.syncBtn.Disabled())
	}
	contains(t, "status after a failure", k.status.lastSync, "Offline")

	h.tap(sup.syncBtn)
	k.wg.Wait()
	if calls != 2 {
		t.Fatalf("Sync now ran %d exchanges; want 2", calls)
	}
	contains(t, "outcome", sup.msg.Text, "Synced with the hub")
	contains(t, "status after the hub answered", k.status.lastSync, "Online")

	// Without a sync worker there is no button.
	h2 := newHarness(t)
	h2.login("admin", adminPIN)
	if s := h2.superScreen(); s.syncBtn != nil {
		t.Errorf("Sync now offered with no sync worker")
	}
}

// TestSupervisorScreenFitsWithSyncNow: the supervisor screen with Sync
// now and an operator locked out fits 1280×800 in both languages.
func TestSupervisorScreenFitsWithSyncNow(t *testing.T) {
	for _, lang := range []string{"en", "sw"} {
		h := newHarness(t, func(o *Options) {
			o.Lang = lang
			o.SyncNow = func(context.Context) error { return nil }
		})
		for range 5 {
			h.login(attendant, "0000")
		}
		h.login("admin", adminPIN)
		sup := h.superScreen()
		if sup.syncBtn == nil || len(sup.unlocks) != 1 {
			t.Fatalf("%s: Sync now %v, %d locked listed; want both", lang, sup.syncBtn != nil, len(sup.unlocks))
		}
		h.fits(lang + " supervisor with Sync now and a lock")
	}
}
