package gateway

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// Defaults of Config.
const (
	DefaultRatePerSecond = 20
	DefaultBurst         = 40
	DefaultMaxBodyBytes  = 16 << 10
	DefaultCommitTimeout = 15 * time.Second
	DefaultValidFor      = 100
)

// Config tunes the gateway; zero values take the defaults.
type Config struct {
	SellerID   string
	TokensPath string
	// RatePerSecond and Burst bound each token's requests (a token bucket
	// per token; a token's own record may override them).
	RatePerSecond float64
	Burst         int
	// MaxBodyBytes bounds a request body (413 above it).
	MaxBodyBytes int64
	// CommitTimeout is how long a booking waits for its commit before
	// answering 504 with the tx hash to poll.
	CommitTimeout time.Duration
	// ValidFor is how many blocks a signed transaction may wait in mempools.
	ValidFor uint64
}

func (c *Config) defaults() {
	if c.RatePerSecond <= 0 {
		c.RatePerSecond = DefaultRatePerSecond
	}
	if c.Burst <= 0 {
		c.Burst = DefaultBurst
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.CommitTimeout <= 0 {
		c.CommitTimeout = DefaultCommitTimeout
	}
	if c.ValidFor == 0 {
		c.ValidFor = DefaultValidFor
	}
}

// Deps is what the gateway needs from its running node.
type Deps struct {
	App     *app.App
	RPC     rpcclient.Client // the node's own RPC, in process
	ChainID string
	// Pending reports whether a transaction is in the node's mempool.
	Pending func(hash []byte) bool
	// LoadKey reads a key of the home's keyring.
	LoadKey func(name string) (ed25519.PrivateKey, error)
	// LogError reports what the operator must see (a broken token file).
	LogError func(msg string, kv ...any)
	// Registerer, when set, receives the gateway's metrics.
	Registerer prometheus.Registerer
	// Decisions observes each CRMS decision's latency (may be nil).
	Decisions prometheus.Observer
}

// Server is the gateway's HTTP handler.
type Server struct {
	cfg     Config
	d       Deps
	tokens  *tokenSet
	api     huma.API
	mux     *http.ServeMux
	handler http.Handler
	latency *prometheus.HistogramVec

	limMu    sync.Mutex
	limiters map[string]*rate.Limiter

	routes map[string][]string // path pattern -> methods, for 405
}

type principalKey struct{}

// New builds the gateway's handler.
func New(cfg Config, d Deps) (*Server, error) {
	cfg.defaults()
	if err := types.ValidateSellerID(cfg.SellerID); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if d.LogError == nil {
		d.LogError = func(string, ...any) {}
	}
	installErrorHook()
	s := &Server{cfg: cfg, d: d, mux: http.NewServeMux(), limiters: map[string]*rate.Limiter{}, routes: map[string][]string{}}
	s.tokens = newTokenSet(cfg.TokensPath, d.LoadKey, d.LogError)

	hc := huma.DefaultConfig("Byte Points seller gateway", "1")
	hc.Info.Description = "The REST API of one seller's Byte Points node, for POS integrators (SPEC §9). " +
		"Each request acts as the terminal of its bearer token and is signed with that terminal's key. " +
		"Errors are always {code, code_name, message} with the SPEC codes; see docs/gateway.md."
	hc.OpenAPIPath = "/v1/openapi"
	hc.DocsPath = ""
	hc.SchemasPath = ""
	hc.CreateHooks = nil // no $schema links in bodies
	hc.Formats = map[string]huma.Format{"application/json": strictJSON, "json": strictJSON}
	hc.RejectUnknownQueryParameters = true
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"terminalToken": {Type: "http", Scheme: "bearer", BearerFormat: "bpt~seller~terminal~id~secret",
			Description: "A per-terminal token from `bytepointsd gateway token create --terminal T`."},
	}
	s.api = humago.New(s.mux, hc)
	s.api.UseMiddleware(s.authenticate)
	s.register()
	s.api.OpenAPI().AddOperation(&huma.Operation{
		OperationID: "openapi", Method: http.MethodGet, Path: "/v1/openapi.json", Summary: "This OpenAPI 3.1 document",
		Tags: []string{"meta"},
		Responses: map[string]*huma.Response{"200": {Description: "The document",
			Content: map[string]*huma.MediaType{"application/openapi+json": {Schema: &huma.Schema{Type: huma.TypeObject}}}}},
	})
	s.routes["/v1/openapi.json"] = []string{http.MethodGet}
	s.mux.HandleFunc("/", s.unmatched)

	var h http.Handler = s.mux
	if d.Registerer != nil {
		s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "bytepoints", Name: "gateway_request_seconds",
			Help:    "Seller gateway requests by route (method and path pattern; \"unmatched\" for unknown routes) and HTTP status.",
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}}, []string{"route", "status"})
		if err := d.Registerer.Register(s.latency); err != nil {
			// A gateway built again in the same process (a node restarted
			// in place) keeps counting into the collector it registered.
			var are prometheus.AlreadyRegisteredError
			existing, ok := s.latency, errors.As(err, &are)
			if ok {
				existing, ok = are.ExistingCollector.(*prometheus.HistogramVec)
			}
			if !ok {
				return nil, fmt.Errorf("gateway metrics: %w", err)
			}
			s.latency = existing
		}
		h = s.measure(h)
	}
	s.handler = h
	return s, nil
}

// Handler serves the gateway.
func (s *Server) Handler() http.Handler { return s.handler }

// OpenAPI is the generated document (what GET /v1/openapi.json serves).
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// Routes lists every served "METHOD /path" (the OpenAPI test checks
// that the document has each).
func (s *Server) Routes() []string {
	var out []string
	for p, ms := range s.routes {
		for _, m := range ms {
			out = append(out, m+" "+p)
		}
	}
	return out
}

// op registers one operation; authenticated ones need a terminal token.
func op[I, O any](s *Server, o huma.Operation, auth bool, h func(context.Context, *I) (*O, error)) {
	if auth {
		o.Security = []map[string][]string{{"terminalToken": {}}}
		o.Errors = append(o.Errors, http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests)
	}
	o.Errors = append(o.Errors, http.StatusBadRequest)
	// The limit is enforced exactly in authenticate (http.MaxBytesReader);
	// huma's own, which refuses a body of exactly its size, stays above it.
	o.MaxBodyBytes = s.cfg.MaxBodyBytes + 2
	s.routes[o.Path] = append(s.routes[o.Path], o.Method)
	huma.Register(s.api, o, h)
}

// unmatched answers every request no route takes: 405 when the path
// exists for another method, else 404, in the gateway's error shape.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pat := s.mux.Handler(probe); pat != "" && pat != "/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		e := newError(http.StatusMethodNotAllowed, types.CodeInvalidArgument,
			fmt.Sprintf("%s is not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(allowed, " or ")))
		e.GetHeaders().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, e)
		return
	}
	writeError(w, newError(http.StatusNotFound, types.CodeNotFound,
		fmt.Sprintf("no route %s %s; the routes are in GET /v1/openapi.json", r.Method, clip(r.URL.Path))))
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// authenticate is the huma middleware of the authenticated routes: the
// bearer token, this seller, the terminal's status on chain, the token's
// rate limit and the declared body size, before the body is read.
func (s *Server) authenticate(ctx huma.Context, next func(huma.Context)) {
	o := ctx.Operation()
	if len(o.Security) == 0 {
		next(ctx)
		return
	}
	r, w := humago.Unwrap(ctx)
	p, e := s.tokens.authenticate(ctx.Header("Authorization"), s.cfg.SellerID, s.d.App.DB())
	if e == nil {
		e = s.limit(p)
	}
	if e == nil && r.ContentLength > s.cfg.MaxBodyBytes {
		e = tooLarge(s.cfg.MaxBodyBytes)
	}
	if e != nil {
		writeError(w, e)
		return
	}
	// A body without a declared length (chunked) is cut at the limit; huma
	// reports the read error, which humaError turns into this same 413.
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	next(huma.WithValue(ctx, principalKey{}, p))
}

func principal(ctx context.Context) *Principal { return ctx.Value(principalKey{}).(*Principal) }

// limit takes one request from the token's bucket.
func (s *Server) limit(p *Principal) *Error {
	s.limMu.Lock()
	l, ok := s.limiters[p.TokenID]
	if !ok {
		r, b := s.cfg.RatePerSecond, s.cfg.Burst
		if p.rate > 0 {
			r = p.rate
		}
		if p.burst > 0 {
			b = p.burst
		}
		l = rate.NewLimiter(rate.Limit(r), b)
		s.limiters[p.TokenID] = l
	}
	s.limMu.Unlock()
	now := time.Now()
	res := l.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 || !res.OK() {
		res.CancelAt(now)
		secs := int(math.Ceil(d.Seconds()))
		if secs < 1 || !res.OK() {
			secs = 1
		}
		e := newError(http.StatusTooManyRequests, types.CodeRateLimited,
			fmt.Sprintf("token %s is over its rate limit of %g requests/s (burst %d); retry after %d s", p.TokenID, float64(l.Limit()), l.Burst(), secs))
		e.GetHeaders().Set("Retry-After", strconv.Itoa(secs))
		return e
	}
	return nil
}

// statusWriter remembers the status for the latency metric.
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

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// measure records every request's latency by route and status.
func (s *Server) measure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" || route == "/" {
			route = "unmatched"
		}
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.latency.WithLabelValues(route, strconv.Itoa(sw.status)).Observe(time.Since(start).Seconds())
	})
}

// newClient signs as the request's terminal.
func (s *Server) newClient(p *Principal) *client.Client {
	return &client.Client{RPC: s.d.RPC, ChainID: s.d.ChainID, Key: p.Key, ValidFor: s.cfg.ValidFor, Timeout: s.cfg.CommitTimeout}
}
