package bank_test

import (
	"strings"
	"testing"

	"github.com/lango-pos/lango/sync/hub/bank"
	"github.com/lango-pos/lango/terminal"
)

// FuzzParse: any bytes are a statement or a refusal (EINVALID), never a
// panic, and what is accepted holds only positive credits in its period.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"kcb-2024-01-03.camt053.xml", "eqty-2024-01-03.csv", "bad/malformed.camt053.xml", "bad/duplicate-entry.csv"} {
		f.Add(fixtureBytes(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg := bank.DefaultCSV()
		cfg.Bank, cfg.Account = "EQTY", "1"
		st, err := bank.Parse(b, cfg)
		if err != nil {
			if terminal.ErrorKind(err) != terminal.EINVALID || !strings.HasPrefix(err.Error(), "bank statement refused: ") {
				t.Fatalf("refusal %v (%s); want EINVALID", err, terminal.ErrorKind(err))
			}
			return
		}
		for _, c := range st.Credits {
			if c.Amount <= 0 || c.Booked.Before(st.From) || c.Booked.After(st.To) || c.Key == "" {
				t.Fatalf("accepted credit %+v of a statement %s to %s", c, st.From, st.To)
			}
		}
	})
}
