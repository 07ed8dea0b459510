package gateway

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/node/wallet"
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
	// The routes without a token, per client address.
	DefaultPublicRatePerSecond = 10
	DefaultPublicBurst         = 50
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
	// PublicRatePerSecond and PublicBurst bound each client address's
	// requests to the routes without a token (a token bucket per IP).
	PublicRatePerSecond float64
	PublicBurst         int
	// IntentTTL bounds how long a redemption intent waits for the
	// customer's wallet (intents.go); IntentsPath is the file that keeps
	// intents across restarts (default: gateway_intents.json beside the
	// token file; none without a token file).
	IntentTTL   time.Duration
	IntentsPath string
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
	if c.PublicRatePerSecond <= 0 {
		c.PublicRatePerSecond = DefaultPublicRatePerSecond
	}
	if c.PublicBurst <= 0 {
		c.PublicBurst = DefaultPublicBurst
	}
	if c.IntentTTL <= 0 {
		c.IntentTTL = DefaultIntentTTL
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
	// LogRequest, when set, gets one line per request: request_id,
	// method, route, status, seconds (the node logs it at debug level).
	LogRequest func(msg string, kv ...any)
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

	flights flights
	intents *intents
	public  *publicLimiter

	routes  map[string][]string // path pattern -> methods, for 405
	open    map[string]bool     // paths of the routes without a token
	mounted []string            // Mount's patterns
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
	s := &Server{cfg: cfg, d: d, mux: http.NewServeMux(), limiters: map[string]*rate.Limiter{}, routes: map[string][]string{},
		open: map[string]bool{}, public: &publicLimiter{rate: rate.Limit(cfg.PublicRatePerSecond), burst: cfg.PublicBurst}}
	s.tokens = newTokenSet(cfg.TokensPath, d.LoadKey, d.LogError)
	var err error
	if s.intents, err = newIntents(intentsPath(cfg), time.Now); err != nil {
		return nil, err
	}

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
	s.registerIntents()
	// huma serves the document in four forms (OpenAPIPath): each is a
	// route, so each is in the document.
	for _, doc := range []struct{ id, path, media, summary string }{
		{"openapi", "/v1/openapi.json", "application/openapi+json", "This OpenAPI 3.1 document (JSON)"},
		{"openapi-yaml", "/v1/openapi.yaml", "application/openapi+yaml", "This OpenAPI 3.1 document (YAML)"},
		{"openapi-3.0", "/v1/openapi-3.0.json", "application/openapi+json", "This document downgraded to OpenAPI 3.0 (JSON), for older generators"},
		{"openapi-3.0-yaml", "/v1/openapi-3.0.yaml", "application/openapi+yaml", "This document downgraded to OpenAPI 3.0 (YAML)"},
	} {
		schema := &huma.Schema{Type: huma.TypeObject}
		if strings.HasSuffix(doc.path, ".yaml") {
			schema = &huma.Schema{Type: huma.TypeString}
		}
		s.api.OpenAPI().AddOperation(&huma.Operation{
			OperationID: doc.id, Method: http.MethodGet, Path: doc.path, Summary: doc.summary, Tags: []string{"meta"},
			Responses: map[string]*huma.Response{
				"200": {Description: "The document", Content: map[string]*huma.MediaType{doc.media: {Schema: schema}}},
				"429": s.errorResponse("The client address is over the public routes' rate limit"),
			},
		})
		s.routes[doc.path] = []string{http.MethodGet}
		s.open[doc.path] = true
	}
	s.mux.Handle("/", s.Public(http.HandlerFunc(s.unmatched)))
	for _, p := range wallet.Routes {
		s.Mount(p, wallet.New(d.ChainID))
	}
	finishDocument(s.api.OpenAPI())

	var h http.Handler = s.mux
	h = s.gatePublic(h)
	h = cleanPaths(h)
	if d.Registerer != nil {
		s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "bytepoints", Name: "gateway_request_seconds",
			Help:    "Seller gateway requests by method, route (the path pattern, e.g. /v1/customers/{id}; \"unmatched\" for unknown routes) and HTTP status.",
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}}, []string{"method", "route", "status"})
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
	}
	h = s.measure(h)
	s.handler = withRequestID(h)
	return s, nil
}

// gatePublic applies the per-address limit to the gateway's own routes
// without a token (huma serves the OpenAPI documents itself, outside its
// operation middleware).
func (s *Server) gatePublic(next http.Handler) http.Handler {
	limited := s.Public(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.open[r.URL.Path] || s.open[s.patternOf(r)] {
			limited.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// patternOf is the path pattern of the route a request takes
// ("/v1/redemption-intents/{id}"), for the public routes with parameters.
func (s *Server) patternOf(r *http.Request) string {
	_, pat := s.mux.Handler(r)
	if _, p, ok := strings.Cut(pat, " "); ok {
		return p
	}
	return pat
}

// errorResponse documents an error answer of the gateway's shape.
func (s *Server) errorResponse(desc string) *huma.Response {
	return &huma.Response{Description: desc, Content: map[string]*huma.MediaType{
		"application/json": {Schema: &huma.Schema{Ref: "#/components/schemas/Error"}}}}
}

// Handler serves the gateway.
func (s *Server) Handler() http.Handler { return s.handler }

// OpenAPI is the generated document (what GET /v1/openapi.json serves).
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// Routes lists every served "METHOD /path" of the API (the OpenAPI test
// checks that the document has each, and has no other).
func (s *Server) Routes() []string {
	var out []string
	for p, ms := range s.routes {
		for _, m := range ms {
			out = append(out, m+" "+p)
		}
	}
	sort.Strings(out)
	return out
}

// Mounted lists the patterns served through Mount (outside /v1 and the
// document; docs/gateway.md lists them).
func (s *Server) Mounted() []string { return append([]string(nil), s.mounted...) }

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
	if !auth {
		o.Errors = append(o.Errors, http.StatusTooManyRequests)
		s.open[o.Path] = true
	}
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
	p, e := s.tokens.authenticate(ctx.Header("Authorization"), s.cfg.SellerID, s.d.App)
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
		// The route is the pattern without its method ("GET /v1/tx/{hash}"
		// -> "/v1/tx/{hash}"): a template, never the requested path.
		route := r.Pattern
		if _, p, ok := strings.Cut(route, " "); ok {
			route = p
		}
		if route == "" || route == "/" {
			route = "unmatched"
		}
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		method := r.Method
		switch method {
		case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		default:
			method = "other" // the label's values stay a known few
		}
		secs := time.Since(start).Seconds()
		if s.latency != nil {
			s.latency.WithLabelValues(method, route, strconv.Itoa(sw.status)).Observe(secs)
		}
		if s.d.LogRequest != nil {
			s.d.LogRequest("gateway request", "request_id", RequestID(r.Context()), "method", method, "route", route,
				"status", sw.status, "seconds", secs)
		}
	})
}

// newClient signs as the request's terminal.
func (s *Server) newClient(p *Principal) *client.Client {
	return &client.Client{RPC: s.d.RPC, ChainID: s.d.ChainID, Key: p.Key, ValidFor: s.cfg.ValidFor, Timeout: s.cfg.CommitTimeout}
}
