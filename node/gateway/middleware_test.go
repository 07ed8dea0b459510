package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bytepoints/bytepoints/types"
	"github.com/stretchr/testify/require"
)

// These drive the gateway's handler without a node: they reach no route
// that reads state.

func newTestServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.SellerID = "shop-a"
	cfg.TokensPath = filepath.Join(t.TempDir(), "tokens.json")
	s, err := New(cfg, Deps{})
	require.NoError(t, err)
	return s
}

func serve(s *Server, r *http.Request) (*httptest.ResponseRecorder, map[string]any) {
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	var body map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	return w, body
}

// TestGatewayMalformedPathsAreRefused: a path Go's ServeMux would
// redirect to its cleaned form is 400 in the error shape, never a 3xx to
// another route.
func TestGatewayMalformedPathsAreRefused(t *testing.T) {
	s := newTestServer(t, Config{})
	for _, p := range []string{"/v1/tx/.?0", "/v1/tx/..", "/v1/customers/x/../../issue", "//v1/statements", "/v1//statements", "/audit/./data.json", "/v1/tx/%2E"} {
		w, body := serve(s, httptest.NewRequest(http.MethodGet, p, nil))
		require.Equal(t, http.StatusBadRequest, w.Code, "%s: %s", p, w.Body)
		require.Empty(t, w.Header().Get("Location"), p)
		require.Equal(t, float64(types.CodeInvalidArgument), body["code"], p)
		require.Contains(t, body["message"], "malformed path", p)
	}
	// The control: a clean unknown path is the usual 404.
	w, _ := serve(s, httptest.NewRequest(http.MethodGet, "/v1/nope", nil))
	require.Equal(t, http.StatusNotFound, w.Code)
}

// TestGatewayRequestID: a client's X-Request-Id is echoed; without one
// (or with one that could split a log line) the gateway makes one.
func TestGatewayRequestID(t *testing.T) {
	s := newTestServer(t, Config{})
	r := httptest.NewRequest(http.MethodGet, "/v1/nope", nil)
	r.Header.Set("X-Request-Id", "pos-17/abc-123")
	w, _ := serve(s, r)
	require.Equal(t, "pos-17/abc-123", w.Header().Get("X-Request-Id"))

	seen := map[string]bool{}
	for _, sent := range []string{"", "has space", strings.Repeat("x", 129)} {
		r := httptest.NewRequest(http.MethodGet, "/v1/openapi.json", nil)
		if sent != "" {
			r.Header.Set("X-Request-Id", sent)
		}
		w, _ := serve(s, r)
		id := w.Header().Get("X-Request-Id")
		require.Len(t, id, 32, "sent %q", sent)
		require.NotEqual(t, sent, id)
		require.False(t, seen[id])
		seen[id] = true
	}
}

// TestGatewayPublicRateLimit: the routes without a token are limited per
// client address (429 with Retry-After, in the error shape); another
// address has its own bucket.
func TestGatewayPublicRateLimit(t *testing.T) {
	s := newTestServer(t, Config{PublicRatePerSecond: 0.001, PublicBurst: 2})
	get := func(path, addr string) (*httptest.ResponseRecorder, map[string]any) {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.RemoteAddr = addr
		return serve(s, r)
	}
	for i, p := range []string{"/v1/openapi.json", "/v1/openapi.yaml"} {
		w, _ := get(p, "192.0.2.1:1000")
		require.Equal(t, http.StatusOK, w.Code, "request %d", i)
	}
	w, body := get("/v1/openapi-3.0.json", "192.0.2.1:2000")
	require.Equal(t, http.StatusTooManyRequests, w.Code, w.Body.String())
	require.Equal(t, float64(types.CodeRateLimited), body["code"])
	require.NotEmpty(t, w.Header().Get("Retry-After"))
	// Unknown routes share the bucket; a mounted public handler too.
	w, _ = get("/v1/nope", "192.0.2.1:3000")
	require.Equal(t, http.StatusTooManyRequests, w.Code)
	s.Mount("/audit/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	w, _ = get("/audit/", "192.0.2.1:4000")
	require.Equal(t, http.StatusTooManyRequests, w.Code)
	w, _ = get("/audit/", "192.0.2.2:4000")
	require.Equal(t, http.StatusNoContent, w.Code, "another address has its own bucket")
}

// TestGatewayErrorsAreNotHTMLEscaped: a JSON body is not HTML.
func TestGatewayErrorsAreNotHTMLEscaped(t *testing.T) {
	s := newTestServer(t, Config{})
	w, _ := serve(s, httptest.NewRequest(http.MethodGet, "/v1/<nope>&", nil))
	require.Equal(t, http.StatusNotFound, w.Code)
	require.Contains(t, w.Body.String(), "/v1/<nope>&")
	require.NotContains(t, w.Body.String(), `\u003c`)
}
