package sqlite_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
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
		{true, now.Add(-terminal.StaleAfter), true},
		{true, now.Add(-terminal.StaleAfter - time.Second), false},
		{false, now.Add(-time.Second), false},
		{true, time.Time{}, false},
	} {
		st := terminal.SyncState{Online: c.reached, LastContact: c.contact}
		if got := st.OnlineAt(now); got != c.want {
			t.Errorf("reached %v, last contact %v ago: online %v; want %v", c.reached, now.Sub(c.contact), got, c.want)
		}
	}
}

// TestTimesInSiteTime: a time a person reads in a message (a lockout's
// end, a pass's earlier use) is in the site's zone, named: the KWS
// catalogue's Africa/Nairobi, EAT, whatever the machine's zone.
func TestTimesInSiteTime(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	if _, err := f.db.AddOperator(ctx, f.admin, "kamau", "attendant", "8642"); err != nil {
		t.Fatal(err)
	}
	for range terminal.MaxPINFailures {
		f.db.Authenticate(ctx, "kamau", "0000")
	}
	_, err := f.db.Authenticate(ctx, "kamau", "8642")
	until := f.db.Now().Add(terminal.LockoutPeriod).In(time.FixedZone("EAT", 3*3600)).Format("15:04")
	if msg := terminal.ErrorMessage(err); !strings.Contains(msg, "until "+until+" EAT") {
		t.Errorf("lockout message %q; want the end in site time, %s EAT", msg, until)
	}
}
