package hub_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/client"
	"github.com/lango-pos/lango/sync/hub"
	hubsqlite "github.com/lango-pos/lango/sync/hub/sqlite"
	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// epoch is 06:00 in Nairobi on the day the national platform went down.
var epoch = time.Date(2024, 1, 3, 3, 0, 0, 0, time.UTC)

// clock is the test clock the hub and the terminals share: each reading
// advances it 10 ms, so nothing sleeps and time still moves.
type clock struct{ n atomic.Int64 }

func (c *clock) Now() time.Time { return epoch.Add(time.Duration(c.n.Add(1)) * 10 * time.Millisecond) }

// quietLogger drops logs below warnings unless -v.
func quietLogger() *slog.Logger {
	lvl := slog.LevelError + 1
	if testing.Verbose() {
		lvl = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}

type faultKind int

const (
	faultDropResponse faultKind = iota + 1 // the hub answers; the connection is cut before the terminal reads it
	faultDuplicate                         // the network delivers the request twice
	faultHang                              // the request never gets an answer until released
)

type fault struct {
	path string // the request path it applies to; "" any
	kind faultKind
}

// hubEnv is a real hub on a real loopback listener. The listener (front)
// stays while the hub behind it is killed, restarted or restored, and can
// inject network faults.
type hubEnv struct {
	t     testing.TB
	dir   string
	path  string
	clock *clock

	mu      sync.Mutex
	store   *hubsqlite.Store
	hub     *hub.Hub
	srv     *hub.Server
	down    bool // the hub process is dead or unreachable
	faults  []fault
	replays []int // status codes of the second copy of duplicated requests
	hang    chan struct{}

	front   *httptest.Server
	gapWait time.Duration
}

func newHub(t testing.TB, c *clock) *hubEnv { return newHubGapWait(t, c, 200*time.Millisecond) }

// newHubGapWait is newHub with the hub's GapWait.
func newHubGapWait(t testing.TB, c *clock, gapWait time.Duration) *hubEnv {
	t.Helper()
	dir := t.TempDir()
	h := &hubEnv{t: t, dir: dir, path: filepath.Join(dir, "hub.db"), clock: c, gapWait: gapWait}
	h.start()
	h.front = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(func() {
		h.front.CloseClientConnections()
		h.front.Close()
		h.kill()
	})
	return h
}

// start opens the store and serves (after a kill).
func (h *hubEnv) start() {
	h.t.Helper()
	st, err := hubsqlite.Open(context.Background(), h.path)
	if err != nil {
		h.t.Fatal(err)
	}
	hb := hub.New(st, hub.Options{Now: h.clock.Now, Logger: quietLogger(), GapWait: h.gapWait})
	h.mu.Lock()
	h.store, h.hub, h.srv, h.down = st, hb, hub.NewServer(hb), false
	h.mu.Unlock()
}

// kill stops the hub as a crash would: requests in flight lose their
// connection, uncommitted transactions roll back.
func (h *hubEnv) kill() {
	h.mu.Lock()
	st := h.store
	h.store, h.srv, h.down = nil, nil, true
	h.mu.Unlock()
	if h.front != nil {
		h.front.CloseClientConnections()
	}
	if st != nil {
		st.Close()
	}
}

func (h *hubEnv) restart() { h.kill(); h.start() }

// setDown makes the hub unreachable (an outage) without killing it.
func (h *hubEnv) setDown(down bool) {
	h.mu.Lock()
	h.down = down
	h.mu.Unlock()
}

func (h *hubEnv) inject(f fault) {
	h.mu.Lock()
	h.faults = append(h.faults, f)
	h.mu.Unlock()
}

func (h *hubEnv) URL() string { return h.front.URL }

func (h *hubEnv) Store() *hubsqlite.Store {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.store
}

func (h *hubEnv) Hub() *hub.Hub {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hub
}

func cut(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func (h *hubEnv) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	srv, down := h.srv, h.down
	var f fault
	for i, x := range h.faults {
		if x.path == "" || x.path == r.URL.Path {
			f = x
			h.faults = append(h.faults[:i:i], h.faults[i+1:]...)
			break
		}
	}
	h.mu.Unlock()
	if down || srv == nil {
		cut(w)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		cut(w)
		return
	}
	clone := func() *http.Request {
		c := r.Clone(r.Context())
		c.Body = io.NopCloser(bytes.NewReader(body))
		return c
	}
	if f.kind == faultHang {
		h.mu.Lock()
		ch := h.hang
		h.mu.Unlock()
		select {
		case <-ch:
		case <-r.Context().Done():
		}
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, clone())
	if f.kind == faultDuplicate {
		rec2 := httptest.NewRecorder()
		srv.ServeHTTP(rec2, clone())
		h.mu.Lock()
		h.replays = append(h.replays, rec2.Code)
		h.mu.Unlock()
	}
	h.mu.Lock()
	down = h.down
	h.mu.Unlock()
	if down || f.kind == faultDropResponse {
		cut(w)
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// backup copies the hub's store to a new file and returns its path.
func (h *hubEnv) backup() string {
	h.t.Helper()
	p := filepath.Join(h.dir, fmt.Sprintf("backup-%d.db", time.Now().UnixNano()))
	if err := h.Store().Backup(context.Background(), p); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// restore replaces the hub's store with a backup, as an operator would
// after losing the hub's disk.
func (h *hubEnv) restore(backup string) {
	h.t.Helper()
	h.kill()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(h.path + suffix)
	}
	b, err := os.ReadFile(backup)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(h.path, b, 0o600); err != nil {
		h.t.Fatal(err)
	}
	h.start()
}

// termEnv is a real terminal store enrolled with the hub.
type termEnv struct {
	t      testing.TB
	site   string
	name   string
	path   string
	id     string
	hub    *hubEnv
	skew   time.Duration // the terminal's clock minus the hub's
	batch  int
	db     *sqlite.DB
	admin  *terminal.Operator
	syncer *client.Syncer
	mpesa  int
}

var catalogue []byte

func init() {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "catalogues", "kws.json"))
	if err != nil {
		panic(err)
	}
	catalogue = b
}

func (te *termEnv) now() time.Time { return te.hub.clock.Now().Add(te.skew) }

// newTerm makes a terminal of NNP named name, with the admin's shift open,
// and enrolls it with h.
func newTerm(t testing.TB, h *hubEnv, name string, skew time.Duration) *termEnv {
	t.Helper()
	return newTermAt(t, h, "NNP", name, skew)
}

// newTermAt is newTerm at another site.
func newTermAt(t testing.TB, h *hubEnv, site, name string, skew time.Duration) *termEnv {
	t.Helper()
	ctx := context.Background()
	te := &termEnv{t: t, site: site, name: name, path: filepath.Join(t.TempDir(), "lango.db"), hub: h, skew: skew}
	db, err := openInit(ctx, te)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	token, err := h.Hub().AddTerminal(ctx, site, name)
	if err != nil {
		t.Fatal(err)
	}
	te.open()
	t.Cleanup(te.close)
	if _, err := client.EnrollWith(ctx, te.db, h.URL(), token, te.config()); err != nil {
		t.Fatalf("enroll %s: %v", name, err)
	}
	return te
}

// openInit creates te's store: a terminal of NNP with the admin's shift
// open.
func openInit(ctx context.Context, te *termEnv) (*sqlite.DB, error) {
	db, err := sqlite.Open(ctx, te.path)
	if err != nil {
		return nil, err
	}
	db.Now = te.now
	if te.site == "" {
		te.site = "NNP"
	}
	id, err := db.Init(ctx, terminal.InitRequest{Site: te.site, Name: te.name, Catalogue: catalogue, AdminPIN: "1234"})
	if err != nil {
		db.Close()
		return nil, err
	}
	te.id = id.TerminalID
	admin, err := db.Authenticate(ctx, "admin", "1234")
	if err == nil {
		_, err = db.OpenShift(ctx, admin, terminal.Totals{"KES": 500000})
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		os.Remove(to + suffix)
	}
}

func (te *termEnv) config() client.Config {
	return client.Config{Now: te.now, Logger: quietLogger(), BatchSize: te.batch, Rand: func() float64 { return 0.5 },
		HTTPClient: &http.Client{Timeout: 20 * time.Second}}
}

func (te *termEnv) open() {
	te.t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, te.path)
	if err != nil {
		te.t.Fatal(err)
	}
	db.Now = te.now
	admin, err := db.Operator(ctx, "admin")
	if err != nil {
		te.t.Fatal(err)
	}
	te.db, te.admin = db, admin
	te.syncer = client.New(db, te.config())
}

// close stops the terminal as a power cut would, between transactions.
func (te *termEnv) close() {
	if te.db == nil {
		return
	}
	te.syncer.Close()
	te.db.Close()
	te.db = nil
}

func (te *termEnv) reopen() { te.close(); te.open() }

func (te *termEnv) setBatch(n int) {
	te.batch = n
	te.syncer = client.New(te.db, te.config())
}

func familyCar() []terminal.LineRequest {
	return []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 2}, {Code: "EAC-CHILD", Qty: 2}, {Code: "CAR", Qty: 1}}
}

// sell makes a sale paid by tender: "cash", "mpesa" (a fresh code) or
// "defer" (a pass paid at exit).
func (te *termEnv) sell(tender string) *terminal.Sale {
	te.t.Helper()
	ctx := context.Background()
	if tender == "mpesa" {
		te.mpesa++
		tender = fmt.Sprintf("mpesa:%s%06d", mpesaPrefix(te.name), te.mpesa)
	}
	tr, err := terminal.ParseTender(tender)
	if err != nil {
		te.t.Fatal(err)
	}
	iss, err := te.db.PassIssuer(ctx)
	if err != nil {
		te.t.Fatal(err)
	}
	res, err := te.db.Sell(ctx, te.admin, terminal.SaleRequest{Lines: familyCar(), Vehicle: "KDA 123A", Tenders: []terminal.TenderRequest{tr}}, iss)
	if err != nil {
		te.t.Fatalf("%s sell %s: %v", te.name, tender, err)
	}
	return res.Sale
}

// mpesaPrefix makes each lane's codes its own (gate-1 GAT1, gate-2 GAT2):
// a code is taken once per site, so two lanes never share one.
func mpesaPrefix(name string) string {
	// Three letters of the name and its last digit: gate-1 and gate-2
	// draw different codes (a code taken at one lane is refused at the
	// others once the feed has it).
	p := []byte("SAA0")
	for i, n := 0, 0; i < len(name) && n < 3; i++ {
		if c := name[i]; c >= 'a' && c <= 'z' {
			p[n] = c - 'a' + 'A'
			n++
		}
	}
	if c := name[len(name)-1]; c >= '0' && c <= '9' {
		p[3] = c
	}
	return string(p)
}

// sync runs one exchange.
func (te *termEnv) sync() error { return te.syncer.Once(context.Background()) }

func (te *termEnv) mustSync() {
	te.t.Helper()
	if err := te.sync(); err != nil {
		te.t.Fatalf("%s sync: %v", te.name, err)
	}
}

func (te *termEnv) events() []terminal.Event {
	te.t.Helper()
	evs, err := te.db.Events(context.Background(), 0, 1<<30)
	if err != nil {
		te.t.Fatal(err)
	}
	return evs
}

// checkExactlyOnce: the hub holds every event each terminal committed,
// once, in the terminal's order, byte for byte; and nothing else.
func checkExactlyOnce(t testing.TB, h *hubEnv, terms ...*termEnv) {
	t.Helper()
	ctx := context.Background()
	total := 0
	for _, te := range terms {
		// Every row the terminal holds (its own and the feed's doing) is
		// what its events say.
		if err := te.db.VerifyAudit(ctx); err != nil {
			t.Errorf("%s: audit: %v", te.name, err)
		}
		local := te.events()
		got, err := h.Store().TerminalEvents(ctx, te.id, 0, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(local) {
			t.Fatalf("%s: hub holds %d events; the terminal committed %d", te.name, len(got), len(local))
		}
		for i := range local {
			a, b := local[i], got[i]
			if !a.Equal(&b) || b.ComputeHash() != b.Hash {
				t.Fatalf("%s: event %d differs at the hub:\n got %+v\nwant %+v", te.name, i+1, b, a)
			}
		}
		tr, err := h.Store().Terminal(ctx, te.id)
		if err != nil {
			t.Fatal(err)
		}
		if tr.LastSeq != int64(len(local)) || tr.Events != int64(len(local)) {
			t.Errorf("%s: hub last_seq %d events %d; want %d", te.name, tr.LastSeq, tr.Events, len(local))
		}
		st, err := te.db.SyncState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.AckedSeq != int64(len(local)) || st.Queued() != 0 {
			t.Errorf("%s: acked %d queued %d; want %d, 0", te.name, st.AckedSeq, st.Queued(), len(local))
		}
		total += len(local)
	}
	n, err := h.Store().Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n["events"] != total {
		t.Errorf("hub holds %d events in all; the terminals committed %d", n["events"], total)
	}
	c, err := h.Store().Conflicts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 0 {
		t.Errorf("conflicts: %+v", c)
	}
}

// checkFeed: every terminal has read the site feed up to the hub's head of
// every other terminal, and holds exactly the feed events the hub holds.
func checkFeed(t testing.TB, h *hubEnv, terms ...*termEnv) {
	t.Helper()
	ctx := context.Background()
	for _, te := range terms {
		if err := te.db.VerifyAudit(ctx); err != nil {
			t.Errorf("%s: audit after the feed: %v", te.name, err)
		}
	}
	feedTypes := map[string]bool{}
	for _, ty := range wire.FeedTypes() {
		feedTypes[ty] = true
	}
	for _, te := range terms {
		cursors, err := te.db.FeedCursors(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range terms {
			if o == te {
				continue
			}
			tr, err := h.Store().Terminal(ctx, o.id)
			if err != nil {
				t.Fatal(err)
			}
			if cursors[o.id] != tr.LastSeq {
				t.Errorf("%s reads %s's feed up to %d; the hub holds %d", te.name, o.name, cursors[o.id], tr.LastSeq)
			}
			feed, err := te.db.FeedEvents(ctx, o.id, 0, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			var want []terminal.Event
			for _, e := range o.events() {
				if feedTypes[e.Type] {
					want = append(want, e)
				}
			}
			if len(feed) != len(want) {
				t.Fatalf("%s holds %d feed events of %s; want %d", te.name, len(feed), o.name, len(want))
			}
			for i := range want {
				if feed[i].ID != want[i].ID || feed[i].Seq != want[i].Seq || feed[i].Name != o.name {
					t.Fatalf("%s feed event %d of %s = %+v; want %+v", te.name, i, o.name, feed[i], want[i])
				}
			}
		}
	}
}

// syncAll syncs every terminal until all succeed twice in a row (the
// second round brings the feed of what the first uploaded).
func syncAll(t testing.TB, terms ...*termEnv) {
	t.Helper()
	for round := 0; round < 2; round++ {
		for _, te := range terms {
			te.mustSync()
		}
	}
}

func kindOf(err error) string { return terminal.ErrorKind(err) }

func wireCode(err error) string {
	var we *wire.Error
	if errors.As(err, &we) {
		return we.Code
	}
	return ""
}
