package sqlite_test

import (
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal/sqlite"
)

// TestOnlineAt: the one meaning of online, for the status bar and `lango
// sync status` alike.
func TestOnlineAt(t *testing.T) {
	now := time.Date(2024, 1, 3, 6, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		reached bool
		contact time.Time
		want    bool
	}{
		{true, now.Add(-time.Minute), true},
		{true, now.Add(-sqlite.StaleAfter), true},
		{true, now.Add(-sqlite.StaleAfter - time.Second), false},
		{false, now.Add(-time.Second), false},
		{true, time.Time{}, false},
	} {
		st := sqlite.SyncState{Online: c.reached, LastContact: c.contact}
		if got := st.OnlineAt(now); got != c.want {
			t.Errorf("reached %v, last contact %v ago: online %v; want %v", c.reached, now.Sub(c.contact), got, c.want)
		}
	}
}
