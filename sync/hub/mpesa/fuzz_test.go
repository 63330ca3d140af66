package mpesa

import "testing"

func FuzzConfirmation(f *testing.F) {
	f.Add([]byte(`{"TransID":"SAA0000009","TransTime":"20240103080000","TransAmount":"100.00","BusinessShortCode":"222222"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cb := &Callbacks{}
		p, err := cb.confirmation(b)
		if err == nil && (p.Amount <= 0 || len(p.Code) != 10) {
			t.Fatalf("accepted %q as %+v", b, p)
		}
	})
}
