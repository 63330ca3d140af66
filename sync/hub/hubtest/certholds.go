package hubtest

import (
	"context"
	"reflect"
	"testing"

	"github.com/lango-pos/lango/sync/hub"
)

// certificateHolds: a terminal's holds replace its previous ones, come
// back sorted, and only for the site asked; none is an empty map.
func certificateHolds(t *testing.T, s hub.Store) {
	ctx := context.Background()
	a := enroll(t, s, "NNP", "GATE-1")
	b := enroll(t, s, "NNP", "GATE-2")
	other := enroll(t, s, "AMB", "GATE-1")
	got, err := s.CertificateHolds(ctx, "NNP")
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("holds before any: %v; want none", got)
	}
	must(t, s.SetCertificateHolds(ctx, a.ID, []string{"0000000b", "0000000a"}))
	must(t, s.SetCertificateHolds(ctx, b.ID, []string{"0000000a"}))
	must(t, s.SetCertificateHolds(ctx, other.ID, []string{"0000000c"}))
	must(t, s.SetCertificateHolds(ctx, a.ID, []string{"0000000c", "0000000a"})) // replaces
	got, err = s.CertificateHolds(ctx, "NNP")
	must(t, err)
	want := map[string][]string{a.ID: {"0000000a", "0000000c"}, b.ID: {"0000000a"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("NNP holds %v; want %v", got, want)
	}
	must(t, s.SetCertificateHolds(ctx, b.ID, nil))
	got, err = s.CertificateHolds(ctx, "NNP")
	must(t, err)
	if _, ok := got[b.ID]; ok || len(got[a.ID]) != 2 {
		t.Errorf("after clearing GATE-2: %v", got)
	}
}
