package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
)

// Server is the hub's HTTP face: protocol v1 (package sync/wire), /healthz
// and /metrics.
type Server struct {
	hub    *Hub
	log    *slog.Logger
	nonces *nonceCache
	mux    *http.ServeMux

	// bodies holds decompressed request bodies for reuse (*[]byte): a
	// batch is some 900 KB, and allocating one per upload was a sixth of
	// the hub's garbage in a drain.
	bodies sync.Pool
	// raws holds bodies as sent (*[]byte), for reuse once they are
	// decompressed or refused: a buffer that grows as the bytes arrive is
	// then grown once, not for every batch.
	raws sync.Pool

	// enrollGate and mpesaGate admit the requests whose bodies are read
	// before anything proves who sent them.
	enrollGate, mpesaGate *gate
}

// Bounds of the routes that read a body before authentication (enrollment
// and M-PESA's callbacks): whoever can reach the hub can send these.
const (
	// maxEnrollBody bounds an enrollment request, as sent and once
	// decompressed: a real one is some 400 bytes of JSON.
	maxEnrollBody = 8 << 10
	// maxCallbackBody bounds an M-PESA callback (Daraja's are well under
	// 4 KiB; mpesa.Callbacks applies the same bound).
	maxCallbackBody = 16 << 10
	// enrollSlots and mpesaSlots are how many of each may be in flight at
	// once; the next is answered 503 without its body being read.
	enrollSlots = 16
	mpesaSlots  = 32
	// preAuthBodyTimeout is how long such a request has, from the moment
	// its handler starts, to deliver its whole body.
	preAuthBodyTimeout = 10 * time.Second
	// retryAfter is the Retry-After of a request refused for want of a slot.
	retryAfter = "5"
)

// NewServer returns the HTTP handler of h.
func NewServer(h *Hub) *Server {
	s := &Server{hub: h, log: h.log, nonces: newNonceCache(2 * wire.ClockTolerance), mux: http.NewServeMux(),
		enrollGate: newGate("enrollment", enrollSlots, maxEnrollBody, preAuthBodyTimeout),
		mpesaGate:  newGate("M-PESA callback", mpesaSlots, maxCallbackBody, preAuthBodyTimeout)}
	s.mux.Handle("POST "+wire.PathEnroll, s.instrument("enroll", s.gated(s.enrollGate, http.HandlerFunc(s.handleEnroll))))
	s.mux.Handle("GET "+wire.PathState, s.instrument("state", s.signed(s.handleState)))
	s.mux.Handle("POST "+wire.PathEvents, s.instrument("events", s.signed(s.handleEvents)))
	s.mux.Handle("POST "+wire.PathFeed, s.instrument("feed", s.signed(s.handleFeed)))
	s.mux.Handle("GET "+wire.PathCatalogue, s.instrument("catalogue", s.signed(s.handleCatalogue)))
	s.mux.Handle("GET "+wire.PathRelayTerminals, s.instrument("relay_terminals", s.signed(s.handleRelayTerminals)))
	s.mux.Handle("POST "+wire.PathRelayEvents, s.instrument("relay_events", s.signed(s.handleRelayEvents)))
	s.mux.Handle("GET "+wire.PathHealth, s.instrument("healthz", http.HandlerFunc(s.handleHealth)))
	s.mux.Handle("GET "+wire.PathMetrics, h.metrics.handler())
	if h.opts.MpesaCallbacks != nil {
		s.mux.Handle("/mpesa/", s.instrument("mpesa", s.gated(s.mpesaGate, h.opts.MpesaCallbacks)))
	}
	for _, p := range []string{wire.PathEnroll, wire.PathState, wire.PathEvents, wire.PathFeed, wire.PathCatalogue, wire.PathHealth} {
		s.mux.Handle(p, s.instrument("other", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.writeError(w, r, wire.Errorf(http.StatusMethodNotAllowed, wire.CodeMethod, "%s does not take %s", r.URL.Path, r.Method))
		})))
	}
	s.mux.Handle("/", s.instrument("other", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, wire.Errorf(http.StatusNotFound, wire.CodeNotFound, "no such path or method: %s %s", r.Method, r.URL.Path))
	})))
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(wire.HeaderHubTime, strconv.FormatInt(s.hub.now().UnixMilli(), 10))
	s.mux.ServeHTTP(w, r)
}

// Serve serves on ln until ctx is done, then shuts down gracefully:
// listeners close at once, requests in flight (an upload's transaction)
// finish, for up to grace.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	return ServeHTTP(ctx, ln, s, s.log, grace)
}

// ServeHTTP serves h on ln with the hub's timeouts and limits (the relay
// too) until ctx is done, then shuts down, letting requests in flight
// finish for up to grace.
func ServeHTTP(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger, grace time.Duration) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// gate bounds a route that reads its body before anything proves who sent
// it: how many such requests are in flight, how large a body may be as
// sent, and how long it may take to arrive.
type gate struct {
	what    string
	slots   chan struct{}
	maxBody int64
	timeout time.Duration
}

func newGate(what string, slots int, maxBody int64, timeout time.Duration) *gate {
	return &gate{what: what, slots: make(chan struct{}, slots), maxBody: maxBody, timeout: timeout}
}

// gated runs next under g. A request over g's slots is answered 503 with
// Retry-After at once, its body unread and its connection closed; one
// declaring a body over g's bound, 413 likewise. The body of one let in
// must arrive within g's timeout, and is cut at g's bound whatever next
// reads (a handler that decompresses must bound that too).
func (s *Server) gated(g *gate, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The connection's deadline is in real time, not the hub's clock.
		if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(g.timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			s.log.Warn("cannot bound the body's time", "path", r.URL.Path, "err", err)
		}
		select {
		case g.slots <- struct{}{}:
			defer func() { <-g.slots }()
		default:
			w.Header().Set("Retry-After", retryAfter)
			w.Header().Set("Connection", "close")
			s.writeError(w, r, wire.Errorf(http.StatusServiceUnavailable, wire.CodeUnavailable,
				"the hub is already reading %d requests of this kind (%s): try again in %s seconds", cap(g.slots), g.what, retryAfter))
			return
		}
		if r.ContentLength > g.maxBody {
			w.Header().Set("Connection", "close")
			s.writeError(w, r, wire.Errorf(http.StatusRequestEntityTooLarge, wire.CodeTooLarge,
				"the body is %d bytes; an %s is at most %d", r.ContentLength, g.what, g.maxBody))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, g.maxBody)
		next.ServeHTTP(w, r)
	})
}

func (s *Server) instrument(route string, next http.Handler) http.Handler {
	m := s.hub.metrics
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inflight.Inc()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			m.inflight.Dec()
			m.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
			m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(sw, r)
	})
}

// signedHandler serves a request whose signature has been checked: t is
// the signer and body the decompressed body. body is reused once the
// handler returns: nothing may keep it, or a slice of it, beyond that.
type signedHandler func(w http.ResponseWriter, r *http.Request, t Terminal, body []byte)

// signed checks a request's signature, time and nonce before next runs.
func (s *Server) signed(next signedHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, body, pooled, werr := s.authenticate(w, r)
		if pooled != nil {
			defer func() {
				*pooled = body[:0]
				s.bodies.Put(pooled)
			}()
		}
		if werr != nil {
			if werr.Status == http.StatusUnauthorized || werr.Status == http.StatusForbidden {
				s.hub.metrics.authFailures.WithLabelValues(werr.Code).Inc()
				s.log.Warn("refused request", "path", r.URL.Path, "remote", r.RemoteAddr, "terminal", r.Header.Get(wire.HeaderTerminal), "code", werr.Code, "reason", werr.Message)
			}
			s.writeError(w, r, werr)
			return
		}
		next(w, r, t, body)
	})
}

// authenticate checks the request and returns its signer and body; pooled,
// if not nil, is the pool's buffer the body was decompressed into, to be
// put back when the request is done.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (t Terminal, body []byte, pooled *[]byte, werr *wire.Error) {
	sig, err := wire.ParseSigned(r.Header.Get)
	if err != nil {
		return Terminal{}, nil, nil, wire.Errorf(http.StatusUnauthorized, wire.CodeUnauthorized, "%v", err)
	}
	now := s.hub.now()
	if d := now.Sub(time.UnixMilli(sig.UnixMilli)); d > wire.ClockTolerance || d < -wire.ClockTolerance {
		e := wire.Errorf(http.StatusUnauthorized, wire.CodeClockSkew, "the request's time is %v from the hub's clock; sign with the hub's time", d.Round(time.Second))
		e.HubTime = now.UnixMilli()
		return Terminal{}, nil, nil, e
	}
	t, err = s.hub.store.Terminal(r.Context(), sig.Terminal)
	if errors.Is(err, ErrNotFound) {
		return t, nil, nil, wire.Errorf(http.StatusUnauthorized, wire.CodeUnauthorized, "unknown terminal %s: enroll it first", sig.Terminal)
	}
	if err != nil {
		s.log.Error("terminal lookup", "err", err)
		return t, nil, nil, wire.Errorf(http.StatusServiceUnavailable, wire.CodeUnavailable, "the hub's store is not answering")
	}
	if t.Revoked() {
		return t, nil, nil, wire.Errorf(http.StatusForbidden, wire.CodeRevoked, "terminal %s of %s was revoked", t.Name, t.Site)
	}
	rawp, _ := s.raws.Get().(*[]byte)
	if rawp == nil {
		rawp = new([]byte)
	}
	raw, werr := readBody(w, r, wire.MaxBody, *rawp)
	if werr != nil {
		s.raws.Put(rawp)
		return t, nil, nil, werr
	}
	// raw goes back to the pool once nothing refers to it: on a refusal,
	// or once decompressed. An identity body is the handler's.
	release := func() {
		*rawp = raw[:0]
		s.raws.Put(rawp)
	}
	pq := r.URL.Path
	if r.URL.RawQuery != "" {
		pq += "?" + r.URL.RawQuery
	}
	if !sig.Verify(t.PublicKey, r.Method, pq, raw) {
		release()
		return t, nil, nil, wire.Errorf(http.StatusUnauthorized, wire.CodeUnauthorized, "bad signature")
	}
	if fresh, err := s.addNonce(r.Context(), t.ID+"/"+sig.Nonce, now); err != nil || !fresh {
		release()
		if err != nil {
			s.log.Error("nonce store", "err", err)
			return t, nil, nil, wire.Errorf(http.StatusServiceUnavailable, wire.CodeUnavailable, "the hub's store does not answer: try again")
		}
		return t, nil, nil, wire.Errorf(http.StatusUnauthorized, wire.CodeReplay, "this request was already received")
	}
	if enc := contentEncoding(r); enc == "gzip" {
		pooled, _ = s.bodies.Get().(*[]byte)
		if pooled == nil {
			pooled = new([]byte)
		}
		body, werr = decodeBody(enc, raw, *pooled, wire.MaxBody)
		release()
		return t, body, pooled, werr
	}
	body, werr = decodeBody(contentEncoding(r), raw, nil, wire.MaxBody)
	if werr != nil {
		release()
	}
	return t, body, nil, werr
}

// readBody reads the body as sent, at most limit bytes, into dst's storage
// if it has room. The buffer grows with what arrives, from at most
// firstRead bytes: a declared Content-Length alone, with no body behind
// it, costs the hub little.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, dst []byte) ([]byte, *wire.Error) {
	if r.ContentLength > limit {
		return nil, wire.Errorf(http.StatusRequestEntityTooLarge, wire.CodeTooLarge, "the body is %d bytes; at most %d", r.ContentLength, limit)
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	var raw []byte
	var err error
	if r.ContentLength > 0 {
		// The usual case: read into a buffer that ends at the declared
		// size rather than one that overshoots it.
		raw, err = readDeclared(dst, body, r.ContentLength)
	} else {
		raw, err = io.ReadAll(body)
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, wire.Errorf(http.StatusRequestEntityTooLarge, wire.CodeTooLarge, "the body is over %d bytes", limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, wire.Errorf(http.StatusServiceUnavailable, wire.CodeUnavailable, "the body did not arrive in time: try again")
	case err != nil:
		return nil, wire.Errorf(http.StatusBadRequest, wire.CodeMalformed, "reading the body: %v", err)
	}
	return raw, nil
}

// firstRead is the most readDeclared allocates before bytes arrive.
const firstRead = 64 << 10

// readDeclared reads the n bytes of a body that declared its length into
// dst's storage, doubling the buffer as they arrive when it is full.
func readDeclared(dst []byte, r io.Reader, n int64) ([]byte, error) {
	buf := dst[:0]
	if int64(cap(buf)) < min(n, firstRead) {
		buf = make([]byte, 0, min(n, firstRead))
	}
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			buf = append(make([]byte, 0, min(n, 2*int64(cap(buf)))), buf...)
		}
		m, err := r.Read(buf[len(buf):min(int64(cap(buf)), n)])
		buf = buf[:len(buf)+m]
		if err == io.EOF && int64(len(buf)) < n {
			return nil, fmt.Errorf("the body ends before its Content-Length: %w", io.ErrUnexpectedEOF)
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
	}
	return buf, nil
}

func contentEncoding(r *http.Request) string {
	return strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
}

// decodeBody undoes the Content-Encoding enc, bounded by limit,
// decompressing into dst's storage.
func decodeBody(enc string, raw, dst []byte, limit int64) ([]byte, *wire.Error) {
	switch enc {
	case "", "identity":
		return raw, nil
	case "gzip":
		body, err := wire.DecompressAppend(dst[:0], raw, limit)
		if errors.Is(err, wire.ErrTooLarge) {
			return nil, wire.Errorf(http.StatusRequestEntityTooLarge, wire.CodeTooLarge, "the body is over %d bytes once decompressed", limit)
		}
		if err != nil {
			return nil, wire.Errorf(http.StatusBadRequest, wire.CodeMalformed, "%v", err)
		}
		return body, nil
	default:
		return nil, wire.Errorf(http.StatusUnsupportedMediaType, wire.CodeEncoding, "Content-Encoding %q: use gzip or none", enc)
	}
}

func decodeJSON(body []byte, v any) *wire.Error {
	if err := json.Unmarshal(body, v); err != nil {
		return wire.Errorf(http.StatusBadRequest, wire.CodeMalformed, "the body is not the expected JSON: %v", err)
	}
	return nil
}

func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := wire.Marshal(v)
	if err != nil {
		s.log.Error("encode answer", "err", err)
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal","message":"internal error"}`)
	}
	s.writeRaw(w, r, status, b)
}

// writeRaw answers with the JSON b, gzipped when the client takes it.
func (s *Server) writeRaw(w http.ResponseWriter, r *http.Request, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if len(b) > 1400 && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		b = wire.Compress(b)
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// writeError answers with err: a *wire.Error as it is, a *terminal.Error by
// its kind, anything else as a logged 500.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var we *wire.Error
	if !errors.As(err, &we) {
		switch terminal.ErrorKind(err) {
		case terminal.EINVALID:
			we = wire.Errorf(http.StatusBadRequest, wire.CodeInvalid, "%s", terminal.ErrorMessage(err))
		case terminal.ENOTFOUND:
			we = wire.Errorf(http.StatusNotFound, wire.CodeNotFound, "%s", terminal.ErrorMessage(err))
		case terminal.ECONFLICT:
			we = wire.Errorf(http.StatusConflict, wire.CodeConflict, "%s", terminal.ErrorMessage(err))
		case terminal.EUNAUTHORIZED:
			we = wire.Errorf(http.StatusUnauthorized, wire.CodeUnauthorized, "%s", terminal.ErrorMessage(err))
		case terminal.EUNAVAILABLE:
			// The store does not answer (a database failing over): the
			// terminal retries; nothing was stored.
			s.log.Warn("store unavailable", "path", r.URL.Path, "err", err)
			we = wire.Errorf(http.StatusServiceUnavailable, wire.CodeUnavailable, "%s: try again", terminal.ErrorMessage(err))
		default:
			if r.Context().Err() != nil {
				we = wire.Errorf(http.StatusServiceUnavailable, wire.CodeUnavailable, "the request was cancelled")
			} else {
				s.log.Error("request failed", "path", r.URL.Path, "err", err)
				we = wire.Errorf(http.StatusInternalServerError, wire.CodeInternal, "internal error")
			}
		}
	}
	s.writeJSON(w, r, we.Status, we)
}

func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	// Nothing proves who sent this: it is bounded as sent and once
	// decompressed, by far less than a signed body (see gated).
	raw, werr := readBody(w, r, maxEnrollBody, nil)
	var body []byte
	if werr == nil {
		body, werr = decodeBody(contentEncoding(r), raw, nil, maxEnrollBody)
	}
	if werr != nil && werr.Code == wire.CodeTooLarge {
		werr.Message = fmt.Sprintf("an enrollment is at most %d bytes, as sent and decompressed", maxEnrollBody)
	}
	var req wire.EnrollRequest
	if werr == nil {
		werr = decodeJSON(body, &req)
	}
	if werr != nil {
		s.writeError(w, r, werr)
		return
	}
	resp, err := s.hub.Enroll(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, resp)
}

func (s *Server) handleState(w http.ResponseWriter, r *http.Request, t Terminal, _ []byte) {
	resp, err := s.hub.State(r.Context(), t)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, resp)
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request, t Terminal, body []byte) {
	in, err := wire.DecodeUpload(body)
	if err != nil {
		s.writeError(w, r, wire.Errorf(http.StatusBadRequest, wire.CodeMalformed, "the body is not an upload: %v", err))
		return
	}
	events := make([]terminal.Event, len(in)) // the wire's events, as the domain's
	for i := range in {
		events[i] = terminal.Event(in[i])
	}
	resp, err := s.hub.Upload(r.Context(), t, events)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, resp)
}

func (s *Server) handleFeed(w http.ResponseWriter, r *http.Request, t Terminal, body []byte) {
	var req wire.FeedRequest
	if werr := decodeJSON(body, &req); werr != nil {
		s.writeError(w, r, werr)
		return
	}
	resp, err := s.hub.Feed(r.Context(), t, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b, err := wire.EncodeFeed(&resp)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeRaw(w, r, http.StatusOK, b)
}

func (s *Server) handleCatalogue(w http.ResponseWriter, r *http.Request, t Terminal, _ []byte) {
	var after int64
	if a := r.URL.Query().Get("after"); a != "" {
		v, err := strconv.ParseInt(a, 10, 64)
		if err != nil || v < 0 {
			s.writeError(w, r, wire.Errorf(http.StatusBadRequest, wire.CodeMalformed, "after=%q is not a publication number", a))
			return
		}
		after = v
	}
	c, err := s.hub.Catalogue(r.Context(), t, after)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if c == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.writeJSON(w, r, http.StatusOK, c)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.hub.store.Ping(ctx); err != nil {
		s.writeError(w, r, wire.Errorf(http.StatusServiceUnavailable, wire.CodeUnavailable, "the store is not answering"))
		return
	}
	id, _ := s.hub.store.HubID(ctx)
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok", "hub_id": id})
}

// addNonce records a request's nonce: in the store when several hub
// processes share it (NonceStore), so a request replayed to another
// process is refused too; else in this process's memory.
func (s *Server) addNonce(ctx context.Context, key string, now time.Time) (bool, error) {
	if ns, ok := s.hub.store.(NonceStore); ok {
		return ns.AddNonce(ctx, key, now, s.nonces.window)
	}
	return s.nonces.add(key, now), nil
}

// nonceCache remembers the nonces of accepted requests for the window in
// which their time stamps are accepted, so a captured request cannot be
// played again. It lives in memory: after a restart a replay inside the
// window gets through, which changes nothing because every request is
// idempotent (uploads are deduplicated by seq and id).
type nonceCache struct {
	mu        sync.Mutex
	window    time.Duration
	seen      map[string]time.Time
	lastPrune time.Time
}

const maxNonces = 1 << 20

func newNonceCache(window time.Duration) *nonceCache {
	return &nonceCache{window: window, seen: map[string]time.Time{}}
}

// add records key at now; false if it was already seen within the window
// (or the cache is full).
func (c *nonceCache) add(key string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.lastPrune) > c.window/4 || len(c.seen) >= maxNonces {
		for k, t := range c.seen {
			if now.Sub(t) > c.window {
				delete(c.seen, k)
			}
		}
		c.lastPrune = now
	}
	if t, ok := c.seen[key]; ok && now.Sub(t) <= c.window {
		return false
	}
	if len(c.seen) >= maxNonces {
		return false
	}
	c.seen[key] = now
	return true
}
