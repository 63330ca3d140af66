package hub_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/hub"
	hubsqlite "github.com/lango-pos/lango/sync/hub/sqlite"
	"github.com/lango-pos/lango/sync/wire"
)

// liveHub is a hub served by Server.Serve on a loopback port, as
// lango-hub serve serves it: the server's own timeouts, no front.
type liveHub struct {
	url   string
	addr  string
	hub   *hub.Hub
	store *hubsqlite.Store
}

// serveLive serves a new hub; edit, if not nil, adjusts its server before
// it serves.
func serveLive(t testing.TB, opts hub.Options, edit func(*hub.Server)) *liveHub {
	t.Helper()
	st, err := hubsqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	opts.Logger = quietLogger()
	hb := hub.New(st, opts)
	srv := hub.NewServer(hb)
	if edit != nil {
		edit(srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, 10*time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &liveHub{url: "http://" + ln.Addr().String(), addr: ln.Addr().String(), hub: hb, store: st}
}

// gzipBomb is n zero bytes gzipped: 8 MiB take some 8 KB.
func gzipBomb(t testing.TB, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestEnrollGzipBombs: 256 enrollments at once, each 8 KB of gzip that
// inflates to 8 MiB, at a hub on a real port. Before, the hub inflated
// every one (its cap was on the compressed size): its heap in use peaked
// at 244-456 MB (2.2 GB of memory in the report). Now each is
// refused 413 (over the enrollment's bound once decompressed, found after
// inflating at most that much) or 503 (over the enrollments in flight,
// the body unread), the heap stays small and /healthz answers throughout.
func TestEnrollGzipBombs(t *testing.T) {
	lh := serveLive(t, hub.Options{}, nil)
	bomb := gzipBomb(t, wire.MaxBody)
	t.Logf("bomb: %d bytes inflating to %d", len(bomb), wire.MaxBody)
	const n = 256
	countsBefore, _ := lh.store.Counts(context.Background())
	reportBefore, _ := lh.hub.Report(context.Background())
	r := fireBombs(t, lh, n, bomb)
	countsAfter, _ := lh.store.Counts(context.Background())
	reportAfter, _ := lh.hub.Report(context.Background())
	if !maps.Equal(countsBefore, countsAfter) || !reflect.DeepEqual(reportBefore, reportAfter) {
		t.Errorf("the bombs changed the hub: rows %v → %v", countsBefore, countsAfter)
	}
	t.Logf("%d bombs in %v: answers %v; heap in use %.1f MB before, peak %.1f MB; /healthz %d in %v",
		n, r.took.Round(time.Millisecond), r.codes, float64(r.base)/1e6, float64(r.peak)/1e6, r.health, r.healthTook.Round(time.Millisecond))
	for i, err := range r.errs {
		t.Errorf("bomb %d: %v", i, err)
	}
	for code, k := range r.codes {
		if code != http.StatusRequestEntityTooLarge && code != http.StatusServiceUnavailable {
			t.Errorf("%d bombs answered %d; want only 413 or 503", k, code)
		}
	}
	if r.codes[http.StatusRequestEntityTooLarge] == 0 {
		t.Errorf("no bomb was read and refused 413; want the ones in the slots refused for their size")
	}
	const bound = 100 << 20
	if r.peak > bound {
		t.Errorf("heap in use peaked at %.1f MB; want under %d MB", float64(r.peak)/1e6, bound>>20)
	}
	if r.healthErr != nil || r.health != http.StatusOK {
		t.Errorf("/healthz during the bombs: %d, %v; want 200", r.health, r.healthErr)
	}
	// And a real enrollment goes through once they are refused.
	if code := enrollOnce(t, lh); code != http.StatusForbidden {
		t.Errorf("an enrollment with an unknown token after the bombs: %d; want 403 token_invalid", code)
	}
}

// BenchmarkEnrollBombs is TestEnrollGzipBombs's flood as a measurement:
// the peak heap in use while 256 bombs land, and how long /healthz took
// meanwhile.
//
//	go test ./sync/hub -run '^$' -bench EnrollBombs -benchtime 1x -count 5
func BenchmarkEnrollBombs(b *testing.B) {
	bomb := gzipBomb(b, wire.MaxBody)
	var peak uint64
	var health, took time.Duration
	for range b.N {
		b.StopTimer()
		lh := serveLive(b, hub.Options{}, nil)
		b.StartTimer()
		r := fireBombs(b, lh, 256, bomb)
		for _, err := range r.errs {
			b.Fatal(err)
		}
		peak = max(peak, r.peak)
		health += r.healthTook
		took += r.took
	}
	b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
	b.ReportMetric(float64(health.Milliseconds())/float64(b.N), "healthz-ms")
	b.ReportMetric(float64(took.Milliseconds())/float64(b.N), "flood-ms")
}

// bombResult is what fireBombs saw.
type bombResult struct {
	codes      map[int]int // answers by status
	errs       []error     // requests that failed or were answered wrongly
	base, peak uint64      // heap in use before, and its peak during the flood
	took       time.Duration
	health     int // /healthz's status, asked as the flood starts
	healthErr  error
	healthTook time.Duration
}

// fireBombs posts bomb as a gzipped enrollment n times at once, and asks
// /healthz meanwhile, sampling the heap every millisecond.
func fireBombs(tb testing.TB, lh *liveHub, n int, bomb []byte) bombResult {
	tb.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: n, DisableCompression: true}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: time.Minute}

	var r bombResult
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.base = ms.HeapInuse
	stop := make(chan struct{})
	peakc := make(chan uint64, 1)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				peakc <- peak
				return
			case <-t.C:
			}
		}
	}()

	start := make(chan struct{})
	codes := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			req, err := http.NewRequest(http.MethodPost, lh.url+wire.PathEnroll, bytes.NewReader(bomb))
			if err != nil {
				errs[i] = err
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Content-Encoding", "gzip")
			resp, err := cl.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			codes[i] = resp.StatusCode
			var we wire.Error
			if err := json.NewDecoder(resp.Body).Decode(&we); err != nil {
				errs[i] = fmt.Errorf("answer %d: %v", resp.StatusCode, err)
			} else if resp.StatusCode == http.StatusServiceUnavailable && (we.Code != wire.CodeUnavailable || resp.Header.Get("Retry-After") == "") {
				errs[i] = fmt.Errorf("503 with code %q, Retry-After %q; want %q and a delay", we.Code, resp.Header.Get("Retry-After"), wire.CodeUnavailable)
			} else if resp.StatusCode == http.StatusRequestEntityTooLarge && we.Code != wire.CodeTooLarge {
				errs[i] = fmt.Errorf("413 with code %q; want %q", we.Code, wire.CodeTooLarge)
			}
		})
	}
	wg.Go(func() {
		<-start
		t0 := time.Now()
		resp, err := cl.Get(lh.url + wire.PathHealth)
		r.healthTook = time.Since(t0)
		if err != nil {
			r.healthErr = err
			return
		}
		resp.Body.Close()
		r.health = resp.StatusCode
	})
	t0 := time.Now()
	close(start)
	wg.Wait()
	r.took = time.Since(t0)
	close(stop)
	r.peak = <-peakc

	r.codes = map[int]int{}
	for i := range n {
		if errs[i] != nil {
			r.errs = append(r.errs, fmt.Errorf("bomb %d: %w", i, errs[i]))
			continue
		}
		r.codes[codes[i]]++
	}
	return r
}

// enrollOnce posts a well-formed enrollment with an unknown token, gzipped
// as a client may send it, and returns the status.
func enrollOnce(t testing.TB, lh *liveHub) int {
	t.Helper()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	id := "01900000-0000-7000-8000-000000000001"
	req := wire.EnrollRequest{Token: strings.Repeat("a", 32), TerminalID: id, Site: "NNP", Name: "gate-1", PublicKey: pub,
		Proof: ed25519.Sign(key, wire.EnrollMessage(strings.Repeat("a", 32), id, pub))}
	b, err := wire.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	hreq, _ := http.NewRequest(http.MethodPost, lh.url+wire.PathEnroll, bytes.NewReader(wire.Compress(b)))
	hreq.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestEnrollBounds: an enrollment is bounded as sent and once
// decompressed by far less than a signed body; a real one fits.
func TestEnrollBounds(t *testing.T) {
	lh := serveLive(t, hub.Options{}, nil)
	big := bytes.Repeat([]byte(" "), 9<<10) // JSON whitespace: over the bound, nothing else wrong
	cases := []struct {
		name string
		body []byte
		gzip bool
		want int
	}{
		{"9 KiB as sent", big, false, http.StatusRequestEntityTooLarge},
		{"9 KiB once decompressed", wire.Compress(big), true, http.StatusRequestEntityTooLarge},
		{"8 MiB bomb", gzipBomb(t, wire.MaxBody), true, http.StatusRequestEntityTooLarge},
		{"small, not JSON", wire.Compress([]byte("nope")), true, http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, lh.url+wire.PathEnroll, bytes.NewReader(c.body))
			if c.gzip {
				req.Header.Set("Content-Encoding", "gzip")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.want {
				t.Errorf("got %d %s; want %d", resp.StatusCode, b, c.want)
			}
		})
	}
	if code := enrollOnce(t, lh); code != http.StatusForbidden {
		t.Errorf("a well-formed enrollment with an unknown token: %d; want 403", code)
	}
	enrollTerminal(t, lh, "gate-1") // and a real one is taken
}

// TestPreAuthSlots: when every slot of enrollment (or of M-PESA's
// callbacks) holds a body that is still arriving, the next request is
// answered 503 with Retry-After at once, its body unread; a body declared
// over the bound is refused 413 unread; once the stalled ones go, the
// route answers again.
func TestPreAuthSlots(t *testing.T) {
	var mpesaCalls atomic.Int64
	callbacks := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mpesaCalls.Add(1)
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		w.Write([]byte(`{"ResultCode":0}`))
	})
	lh := serveLive(t, hub.Options{MpesaCallbacks: callbacks}, nil)
	for _, c := range []struct {
		path      string
		slots     int
		bound     int
		complete  int // the status of a small, complete request let in
		oversized int // the status of a body over the bound that declares no length
	}{
		{wire.PathEnroll, 16, 8 << 10, http.StatusBadRequest, http.StatusRequestEntityTooLarge},
		{"/mpesa/confirmation", 32, 16 << 10, http.StatusOK, http.StatusRequestEntityTooLarge},
	} {
		t.Run(c.path, func(t *testing.T) {
			var stalled []net.Conn
			for range c.slots {
				stalled = append(stalled, stall(t, lh, c.path, 4000))
			}
			defer func() {
				for _, conn := range stalled {
					conn.Close()
				}
			}()
			// The stalled requests take their slots as their handlers
			// start; ask until the route is full.
			code, hdr, body := 0, http.Header{}, []byte(nil)
			for range 1000 {
				if code, hdr, body = post(t, lh, c.path, []byte("{}"), -1); code == http.StatusServiceUnavailable {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			var we wire.Error
			json.Unmarshal(body, &we)
			if code != http.StatusServiceUnavailable || we.Code != wire.CodeUnavailable || hdr.Get("Retry-After") == "" {
				t.Fatalf("with %d bodies stalled: %d %q Retry-After %q; want 503 unavailable with Retry-After", c.slots, code, we.Code, hdr.Get("Retry-After"))
			}
			calls := mpesaCalls.Load()
			// Over the slots, a large body is not read: the answer
			// comes with most of it unsent.
			if code, _, _ := post(t, lh, c.path, make([]byte, 1<<20), -1); code != http.StatusServiceUnavailable {
				t.Errorf("a 1 MiB body over the slots: %d; want 503", code)
			}
			for _, conn := range stalled {
				conn.Close()
			}
			stalled = nil
			for range 1000 {
				if code, _, body = post(t, lh, c.path, []byte("{}"), -1); code != http.StatusServiceUnavailable {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			if code != c.complete {
				t.Errorf("once the stalled bodies went: %d %s; want %d", code, body, c.complete)
			}
			if code, _, body := post(t, lh, c.path, make([]byte, c.bound+1), 0); code != http.StatusRequestEntityTooLarge {
				t.Errorf("a body declared at %d bytes: %d %s; want 413", c.bound+1, code, body)
			}
			if code, _, body := post(t, lh, c.path, bytes.Repeat([]byte(" "), c.bound+1), -1); code != c.oversized {
				t.Errorf("a chunked body of %d bytes: %d %s; want %d", c.bound+1, code, body, c.oversized)
			}
			if c.path != wire.PathEnroll && mpesaCalls.Load() == calls {
				t.Errorf("the callbacks were never reached once the slots were free")
			}
		})
	}
}

// post sends body to path; length -1 sends it chunked (no
// Content-Length), 0 declares its length.
func post(t testing.TB, lh *liveHub, path string, body []byte, length int64) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader = bytes.NewReader(body)
	if length < 0 {
		rd = io.MultiReader(rd) // hides the length: chunked
	}
	req, err := http.NewRequest(http.MethodPost, lh.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// stall opens a connection to the hub and sends a request to path that
// declares a body of n bytes and sends only its first 10.
func stall(t testing.TB, lh *liveHub, path string, n int) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", lh.addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"token\":", path, lh.addr, n)
	return conn
}

// TestStalledBodiesCut: 256 requests that send their headers and the
// start of a body, then nothing. Each is answered (503) and its
// connection closed: those in the slots once their time to deliver the
// body is up, the others at once; nothing of theirs stays in flight, and
// enrollment answers afterwards. The time is 300 ms here (10 s in
// production); before, only the server's 2-minute ReadTimeout cut them.
func TestStalledBodiesCut(t *testing.T) {
	lh := serveLive(t, hub.Options{}, func(s *hub.Server) { s.SetPreAuthTimeout(300 * time.Millisecond) })
	const n = 256
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = stall(t, lh, wire.PathEnroll, 4000)
		defer conns[i].Close()
	}
	var wg sync.WaitGroup
	answers := make([]string, n)
	for i, conn := range conns {
		wg.Go(func() {
			// A safety net, far beyond the hub's time: failing here
			// means the hub kept the request.
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				answers[i] = "no answer in 30 s"
				return
			}
			if err != nil {
				answers[i] = "no answer: " + err.Error()
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				answers[i] = fmt.Sprintf("%d, then %v", resp.StatusCode, err)
				return
			}
			if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
				answers[i] = fmt.Sprintf("%d %s, the connection left open (%v)", resp.StatusCode, b, err)
				return
			}
			var we wire.Error
			json.Unmarshal(b, &we)
			answers[i] = fmt.Sprintf("%d %s", resp.StatusCode, we.Code)
		})
	}
	wg.Wait()
	count := map[string]int{}
	for _, a := range answers {
		count[a]++
	}
	t.Logf("answers: %v", count)
	if len(count) != 1 || count["503 unavailable"] != n {
		t.Errorf("answers %v; want all %d 503 unavailable and closed", count, n)
	}
	if got := inFlight(t, lh); got != "0" {
		t.Errorf("%v requests in flight after every stalled one was answered; want 0", got)
	}
	if code := enrollOnce(t, lh); code != http.StatusForbidden {
		t.Errorf("an enrollment after the stalled ones: %d; want 403", code)
	}
}

// inFlight reads lango_hub_requests_in_flight from /metrics.
func inFlight(t testing.TB, lh *liveHub) string {
	t.Helper()
	resp, err := http.Get(lh.url + wire.PathMetrics)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "lango_hub_requests_in_flight "); ok {
			return v
		}
	}
	t.Fatal("no lango_hub_requests_in_flight in /metrics")
	return ""
}

// TestSignatureBeforeInflating: a signed route checks the signature over
// the bytes as sent before it decompresses them, so a gzip bomb under a
// known terminal's id but a stranger's key is refused 401 having cost the
// hub its 8 KB, not 8 MiB. The same bomb rightly signed is inflated (and
// refused 413): the measure sees an inflation when there is one.
func TestSignatureBeforeInflating(t *testing.T) {
	c := &clock{}
	h := newHub(t, c)
	te := newTerm(t, h, "gate-1", 0)
	bomb := gzipBomb(t, wire.MaxBody+1)
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	// allocated serves a signed upload of bomb in process and returns the
	// status and the bytes allocated meanwhile.
	allocated := func(key ed25519.PrivateKey) (int, uint64) {
		nonce := make([]byte, 16)
		rand.Read(nonce)
		req := httptest.NewRequest(http.MethodPost, wire.PathEvents, bytes.NewReader(bomb))
		for k, v := range wire.Sign(key, te.id, http.MethodPost, wire.PathEvents, bomb, c.Now(), hex.EncodeToString(nonce)).Header() {
			req.Header.Set(k, v)
		}
		req.Header.Set("Content-Encoding", "gzip")
		rec := httptest.NewRecorder()
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		h.srv.ServeHTTP(rec, req)
		runtime.ReadMemStats(&m1)
		return rec.Code, m1.TotalAlloc - m0.TotalAlloc
	}
	for range 3 {
		code, n := allocated(stranger)
		t.Logf("bad signature: %d, %d bytes allocated", code, n)
		if code != http.StatusUnauthorized {
			t.Errorf("a bomb with a bad signature: %d; want 401", code)
		}
		if n > 1<<20 {
			t.Errorf("a bomb with a bad signature allocated %d bytes; want under 1 MiB (it was inflated)", n)
		}
	}
	code, n := allocated(te.key(t))
	t.Logf("good signature: %d, %d bytes allocated", code, n)
	if code != http.StatusRequestEntityTooLarge {
		t.Errorf("a bomb rightly signed: %d; want 413", code)
	}
	if n < wire.MaxBody {
		t.Errorf("a bomb rightly signed allocated %d bytes; want at least %d (the measure misses inflation)", n, wire.MaxBody)
	}
}

// enrollTerminal enrolls a new terminal of NNP named name through
// POST /v1/enroll, gzipped as a client may send it, and returns its id and
// key.
func enrollTerminal(t testing.TB, lh *liveHub, name string) (string, ed25519.PrivateKey) {
	t.Helper()
	token, err := lh.hub.AddTerminal(context.Background(), "NNP", name)
	if err != nil {
		t.Fatal(err)
	}
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	id := fmt.Sprintf("01900000-0000-7000-8000-%012d", len(name))
	b, err := wire.Marshal(wire.EnrollRequest{Token: token, TerminalID: id, Site: "NNP", Name: name, PublicKey: pub,
		Proof: ed25519.Sign(key, wire.EnrollMessage(token, id, pub))})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, lh.url+wire.PathEnroll, bytes.NewReader(wire.Compress(b)))
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("enroll %s: %d %s; want 200", name, resp.StatusCode, body)
	}
	return id, key
}

// TestDeclaredLengthCostsLittle: a signed route reads the body before it
// can check the signature, so anyone who knows a terminal's id (it is in
// every pass that terminal printed) can make it read. 64 requests that
// declare 8 MiB each and send nothing used to make the hub allocate the
// 8 MiB at once and hold them (512 MiB); its buffer now grows with the
// bytes that arrive.
func TestDeclaredLengthCostsLittle(t *testing.T) {
	lh := serveLive(t, hub.Options{}, nil)
	id, _ := enrollTerminal(t, lh, "gate-1")
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	const n = 64
	for range n {
		conn, err := net.Dial("tcp", lh.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		nonce := make([]byte, 16)
		rand.Read(nonce)
		var hdr strings.Builder
		for k, v := range wire.Sign(stranger, id, http.MethodPost, wire.PathEvents, nil, time.Now(), hex.EncodeToString(nonce)).Header() {
			fmt.Fprintf(&hdr, "%s: %s\r\n", k, v)
		}
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n%s\r\n", wire.PathEvents, lh.addr, wire.MaxBody, hdr.String())
	}
	// Wait until every one is in its handler, then watch the heap a while.
	for i := 0; inFlight(t, lh) != fmt.Sprint(n); i++ {
		if i == 3000 {
			t.Fatalf("%s requests in flight; want %d", inFlight(t, lh), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	var peak uint64
	for range 100 {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		time.Sleep(2 * time.Millisecond)
	}
	t.Logf("%d requests declaring %d bytes each: heap in use %.1f MB before, peak %.1f MB", n, wire.MaxBody, float64(base)/1e6, float64(peak)/1e6)
	if grew := int64(peak) - int64(base); grew > 64<<20 {
		t.Errorf("the heap grew %.1f MB for %d declared bodies with no bytes; want under 64 MiB", float64(grew)/1e6, n)
	}
}
