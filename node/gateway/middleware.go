package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bytepoints/bytepoints/types"
	"golang.org/x/time/rate"
)

// ---- concurrent duplicates ----

// flights serialises bookings that share a terminal key and an
// idempotency key. Without it, concurrent identical requests sign the
// same bytes at the same height; CometBFT takes the first and answers the
// others "already in cache", and each of them then finds the committed
// transaction and reports it as its own booking (replayed: false). Taking
// turns, the first books and every later turn is the chain's replay (or
// the same transaction, which book recognises).
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	key    string
	turn   chan struct{} // holds one token: whose turn it is
	refs   int           // guarded by flights.mu
	booked []byte        // the transaction an earlier turn booked; guarded by turn
}

// enter waits for the key's turn (or for the request to give up).
func (fs *flights) enter(ctx context.Context, key string) (*flight, *Error) {
	fs.mu.Lock()
	if fs.m == nil {
		fs.m = map[string]*flight{}
	}
	f, ok := fs.m[key]
	if !ok {
		f = &flight{key: key, turn: make(chan struct{}, 1)}
		f.turn <- struct{}{}
		fs.m[key] = f
	}
	f.refs++
	fs.mu.Unlock()
	select {
	case <-f.turn:
		return f, nil
	case <-ctx.Done():
		fs.drop(f)
		e := newError(http.StatusServiceUnavailable, types.CodeInternal,
			"another request with this Idempotency-Key is still being booked; retry with the same key")
		e.GetHeaders().Set("Retry-After", "1")
		return nil, e
	}
}

// leave passes the turn on.
func (fs *flights) leave(f *flight) {
	f.turn <- struct{}{}
	fs.drop(f)
}

func (fs *flights) drop(f *flight) {
	fs.mu.Lock()
	if f.refs--; f.refs == 0 {
		delete(fs.m, f.key)
	}
	fs.mu.Unlock()
}

// ---- request ids ----

// RequestIDHeader is echoed on every answer: the client's own id when it
// sent an acceptable one, else one the gateway made.
const RequestIDHeader = "X-Request-Id"

type requestIDKey struct{}

// RequestID is the request's id (set by the gateway's handler).
func RequestID(ctx context.Context) string { s, _ := ctx.Value(requestIDKey{}).(string); return s }

// validRequestID accepts 1-128 visible ASCII characters: enough for a
// UUID or a trace id, nothing that could split a log line.
func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// ---- malformed paths ----

// cleanPaths refuses a path with empty, "." or ".." segments. Go's
// ServeMux would answer it with a redirect to the cleaned path: another
// route than the one asked for (GET /v1/tx/. -> /v1/tx/), which a client
// following redirects would take for an answer.
func cleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bad := malformedPath(r.URL.Path); bad != "" {
			writeError(w, badRequest("malformed path %q: %s", clip(r.URL.Path), bad))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func malformedPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		return "a path starts with /"
	}
	segs := strings.Split(p[1:], "/")
	for i, seg := range segs {
		switch {
		case seg == "." || seg == "..":
			return "no . or .. segments"
		case seg == "" && i < len(segs)-1:
			return "no empty segments (//)"
		}
	}
	return ""
}

// ---- public routes ----

// publicLimiter bounds the requests of each client address on the routes
// without a token (/healthz, the OpenAPI documents, the audit page, any
// unknown route): a token bucket per IP address (the connection's, never a
// header's, which anyone can write).
type publicLimiter struct {
	rate  rate.Limit
	burst int

	mu sync.Mutex
	m  map[string]*rate.Limiter
}

// maxPublicClients bounds the table; past it, full buckets (clients idle
// long enough to have earned back their burst) are forgotten.
const maxPublicClients = 10000

func (l *publicLimiter) allow(r *http.Request) *Error {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	now := time.Now()
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*rate.Limiter{}
	}
	b, ok := l.m[ip]
	if !ok {
		if len(l.m) >= maxPublicClients {
			for k, v := range l.m {
				if v.TokensAt(now) >= float64(l.burst) {
					delete(l.m, k)
				}
			}
		}
		b = rate.NewLimiter(l.rate, l.burst)
		l.m[ip] = b
	}
	l.mu.Unlock()
	if b.AllowN(now, 1) {
		return nil
	}
	secs := int(math.Ceil(1 / float64(l.rate)))
	if secs < 1 {
		secs = 1
	}
	e := newError(http.StatusTooManyRequests, types.CodeRateLimited,
		fmt.Sprintf("this address is over the public routes' rate limit of %g requests/s (burst %d); retry after %d s", float64(l.rate), l.burst, secs))
	e.GetHeaders().Set("Retry-After", strconv.Itoa(secs))
	return e
}

// Public wraps a handler of a route without a token in the per-address
// limit. The gateway's own public routes have it; Mount gives it to
// handlers mounted beside them (the audit page).
func (s *Server) Public(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := s.public.allow(r); e != nil {
			writeError(w, e)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Mount serves a public handler (no token) at a ServeMux pattern beside
// the API, with the gateway's request ids, path checks, metrics and
// per-address rate limit. Its routes are outside /v1 and outside the
// OpenAPI document; docs/gateway.md lists them.
func (s *Server) Mount(pattern string, h http.Handler) {
	s.mux.Handle(pattern, s.Public(h))
	s.mounted = append(s.mounted, pattern)
}
