package postgres_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/postgres"
	"github.com/lango-pos/lango/terminal"
)

var t0 = time.Date(2024, 1, 3, 6, 0, 0, 0, time.UTC)

// TestDatabaseAloneHoldsNoUsableKey: what the database holds of a site
// authority key opens only with the key file; a process given another key
// file is refused at Open, one given none cannot sign.
func TestDatabaseAloneHoldsNoUsableKey(t *testing.T) {
	ctx := context.Background()
	s, url := open(t)
	defer s.Close()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	if err := s.AddAuthorityKey(ctx, hub.AuthorityKey{KeyID: "k1", Site: "NNP", Private: priv, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if err := s.Pool().QueryRow(ctx, `SELECT private FROM authorities WHERE kid = 'k1'`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("PRIVATE KEY")) || bytes.Contains(raw, priv.Seed()) {
		t.Fatal("the database holds the private key in the clear")
	}
	// Every column of every row of the table, as text: no PEM, no seed.
	var dump string
	if err := s.Pool().QueryRow(ctx, `SELECT string_agg(a::text, '|') FROM authorities a`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains([]byte(dump), []byte("PRIVATE")) {
		t.Fatalf("the authorities table reads %q", dump)
	}
	keys, err := s.AuthorityKeys(ctx, "NNP")
	if err != nil || len(keys) != 1 || !keys[0].Private.Equal(priv) {
		t.Fatalf("with the key file: %v, %v", keys, err)
	}

	other := bytes.Repeat([]byte{7}, postgres.SealKeySize)
	if _, err := postgres.Open(ctx, url, postgres.Options{SealKey: other}); terminal.ErrorKind(err) != terminal.EINVALID {
		t.Errorf("another key file: %v; want EINVALID", err)
	}
	keyless, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer keyless.Close()
	if _, err := keyless.AuthorityKeys(ctx, "NNP"); err == nil {
		t.Error("a store opened without the key file read the authority keys")
	}
	// A sealed key moved to another site's row does not open.
	if _, err := s.Pool().Exec(ctx, `INSERT INTO authorities (kid, site, private, created_at) SELECT 'k2', 'AMB', private, created_at FROM authorities WHERE kid = 'k1'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthorityKeys(ctx, "AMB"); terminal.ErrorKind(err) != terminal.EINVALID {
		t.Errorf("a sealed key moved to another site: %v; want EINVALID", err)
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "authority.key")
	k1, err := postgres.LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 || len(k1) != postgres.SealKeySize {
		t.Errorf("key file mode %v, %d bytes", fi.Mode().Perm(), len(k1))
	}
	if k2, err := postgres.LoadOrCreateKeyFile(path); err != nil || !bytes.Equal(k1, k2) {
		t.Errorf("read again: %v", err)
	}
	os.Chmod(path, 0o644)
	if _, err := postgres.LoadOrCreateKeyFile(path); terminal.ErrorKind(err) != terminal.EINVALID {
		t.Errorf("a key file others can read: %v; want EINVALID", err)
	}
	os.WriteFile(path, []byte("short"), 0o600)
	os.Chmod(path, 0o600)
	if _, err := postgres.LoadOrCreateKeyFile(path); terminal.ErrorKind(err) != terminal.EINVALID {
		t.Errorf("a short key file: %v; want EINVALID", err)
	}
}

// TestEventIDOnce: the database refuses a second event with an id it
// holds, from another terminal, and stores nothing of that batch.
func TestEventIDOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	defer s.Close()
	a, b := enroll(t, s, "a"), enroll(t, s, "b")
	ea := event(a.ID, 1, "", terminal.EventShiftOpened)
	if _, err := s.Apply(ctx, a.ID, []terminal.Event{ea}, t0); err != nil {
		t.Fatal(err)
	}
	eb := event(b.ID, 1, "", terminal.EventShiftOpened)
	eb2 := event(b.ID, 2, eb.Hash, terminal.EventShiftOpened)
	eb2.ID = ea.ID
	eb2.Hash = eb2.ComputeHash()
	var fe *hub.ForbiddenError
	if _, err := s.Apply(ctx, b.ID, []terminal.Event{eb, eb2}, t0); !errors.As(err, &fe) || fe.Seq != 2 {
		t.Fatalf("an event id held by another terminal: %v; want forbidden at seq 2", err)
	}
	if got, _ := s.Terminal(ctx, b.ID); got.LastSeq != 0 {
		t.Errorf("b's last seq %d after the refused batch; want 0", got.LastSeq)
	}
	if c, _ := s.Counts(ctx); c["events"] != 1 {
		t.Errorf("%d events; want 1", c["events"])
	}
}

// TestMigrateTwice: migrations run once; Open and Migrate again change
// nothing and keep the hub id.
func TestMigrateTwice(t *testing.T) {
	ctx := context.Background()
	s, url := open(t)
	defer s.Close()
	id, _ := s.HubID(ctx)
	before, err := s.Migrations(ctx)
	if err != nil || len(before) == 0 {
		t.Fatalf("migrations %v, %v", before, err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s2, err := postgres.Open(ctx, url, postgres.Options{SealKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	after, _ := s2.Migrations(ctx)
	id2, _ := s2.HubID(ctx)
	if !slices.Equal(before, after) || id2 != id {
		t.Errorf("after migrating again: %v (was %v), hub id %s (was %s)", after, before, id2, id)
	}
}

// TestNoncesShared: a nonce accepted through one store (one hub process)
// is refused through another on the same database within the window, and
// accepted again after it.
func TestNoncesShared(t *testing.T) {
	ctx := context.Background()
	a, url := open(t)
	defer a.Close()
	b, err := postgres.Open(ctx, url, postgres.Options{SealKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	w := 10 * time.Minute
	if ok, err := a.AddNonce(ctx, "t/n1", t0, w); !ok || err != nil {
		t.Fatalf("first: %v %v", ok, err)
	}
	if ok, err := b.AddNonce(ctx, "t/n1", t0.Add(time.Minute), w); ok || err != nil {
		t.Errorf("replayed to the other process: %v %v; want refused", ok, err)
	}
	if ok, err := b.AddNonce(ctx, "t/n1", t0.Add(w+time.Second), w); !ok || err != nil {
		t.Errorf("after the window: %v %v; want accepted", ok, err)
	}
}

func enroll(t testing.TB, s hub.Store, name string) hub.Terminal {
	t.Helper()
	ctx := context.Background()
	tok := uuid.NewString()
	if err := s.AddEnrollment(ctx, hub.Enrollment{TokenHash: tok, Site: "NNP", Name: name, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	term, err := s.RedeemEnrollment(ctx, tok, hub.Terminal{ID: uuid.Must(uuid.NewV7()).String(), Site: "NNP", Name: name, PublicKey: pub, Certificate: "c"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return term
}

func event(id string, seq int64, prev, typ string) terminal.Event {
	e := terminal.Event{Seq: seq, ID: uuid.Must(uuid.NewV7()).String(), Terminal: id, Type: typ, At: t0, Actor: "admin", Payload: []byte(`{}`), PrevHash: prev}
	e.Hash = e.ComputeHash()
	return e
}

// TestFirstAuthorityKeyOnce: two processes making a site's first key at
// once leave the site with one, which both are given.
func TestFirstAuthorityKeyOnce(t *testing.T) {
	ctx := context.Background()
	a, url := open(t)
	defer a.Close()
	b, err := postgres.Open(ctx, url, postgres.Options{SealKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := make([]hub.AuthorityKey, 8)
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, priv, _ := ed25519.GenerateKey(rand.Reader)
			s := a
			if i%2 == 1 {
				s = b
			}
			got[i], errs[i] = s.AddFirstAuthorityKey(ctx, hub.AuthorityKey{KeyID: fmt.Sprintf("k%d", i), Site: "NNP", Private: priv, CreatedAt: t0.Add(time.Duration(i) * time.Second)})
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i].KeyID != got[0].KeyID {
			t.Errorf("call %d: %s, %v; want the one key %s", i, got[i].KeyID, errs[i], got[0].KeyID)
		}
	}
	if keys, _ := a.AuthorityKeys(ctx, "NNP"); len(keys) != 1 {
		t.Errorf("NNP has %d authority keys; want 1", len(keys))
	}
}

// TestFeedUsesItsIndex: the feed's query is planned on the feed's partial
// index, so a peer's sales (most of its events) are never read for it.
// The index lists the feed types exactly as wire.FeedTypes does.
func TestFeedUsesItsIndex(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	defer s.Close()
	// Enough rows that a plan that reads the events would be costlier.
	term := enroll(t, s, "a")
	var no int64
	if err := s.Pool().QueryRow(ctx, `SELECT no FROM terminals WHERE id = $1`, term.ID).Scan(&no); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `INSERT INTO events (terminal, seq, id, type, at, actor, payload, prev_hash, hash, received_at)
		SELECT $1, g, gen_random_uuid(), 'sale.created', '', '', '\x00', '', '', '' FROM generate_series(1, 20000) g`, no); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `ANALYZE events`); err != nil {
		t.Fatal(err)
	}
	// The plan of a prepared statement run many times: generic, the
	// parameters unknown to the planner.
	conn, err := s.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, `DEALLOCATE ALL; RESET plan_cache_mode`)
	if _, err := conn.Exec(ctx, `PREPARE feed_plan(bigint[], bigint[], int) AS `+postgres.FeedQueryForTest()); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, fmt.Sprintf(`EXPLAIN EXECUTE feed_plan('{%d}', '{0}', 101)`, no), pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(plan, "\n"), "events_feed") {
		t.Errorf("the feed's plan does not use events_feed:\n%s", strings.Join(plan, "\n"))
	}
}
