package hubtest

import (
	"context"
	"reflect"
	"slices"
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
	// SiteHolds: a's own holds whole, the others' cut to the keys asked,
	// another site's left out.
	c := enroll(t, s, "NNP", "GATE-3")
	must(t, s.SetCertificateHolds(ctx, c.ID, []string{"0000000d", "0000000c", "0000000b"}))
	for _, k := range []struct {
		id, keys []string
		own      []string
		held     map[string][]string
	}{
		{[]string{a.ID}, []string{"0000000c", "0000000b"}, []string{"0000000a", "0000000c"}, map[string][]string{c.ID: {"0000000b", "0000000c"}}},
		{[]string{b.ID}, []string{"0000000a"}, []string{"0000000a"}, map[string][]string{a.ID: {"0000000a"}}},
		{[]string{b.ID}, nil, []string{"0000000a"}, map[string][]string{}},
		{[]string{other.ID}, []string{"0000000a"}, nil, map[string][]string{a.ID: {"0000000a"}, b.ID: {"0000000a"}}},
	} {
		own, held, err := s.SiteHolds(ctx, "NNP", k.id[0], k.keys)
		must(t, err)
		for id, ks := range held {
			if len(ks) == 0 {
				delete(held, id) // may be left out
			}
		}
		if !slices.Equal(own, k.own) || !reflect.DeepEqual(held, k.held) {
			t.Errorf("SiteHolds(NNP, %s, %v) = %v, %v; want %v, %v", k.id[0], k.keys, own, held, k.own, k.held)
		}
	}
	must(t, s.SetCertificateHolds(ctx, b.ID, nil))
	got, err = s.CertificateHolds(ctx, "NNP")
	must(t, err)
	if _, ok := got[b.ID]; ok || len(got[a.ID]) != 2 {
		t.Errorf("after clearing GATE-2: %v", got)
	}
}
