package node_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/auditpage"
	"github.com/bytepoints/bytepoints/node/gateway"
	"github.com/bytepoints/bytepoints/types"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

// specRoutes are the routes of SPEC §9.
var specRoutes = []string{
	"POST /v1/issue", "POST /v1/redeem", "POST /v1/refund", "POST /v1/void",
	"GET /v1/customers/{id}", "GET /v1/customers/{id}/history", "GET /v1/crms/decision",
	"GET /v1/statements", "GET /v1/statements/{epoch}", "GET /v1/tx/{hash}", "GET /v1/openapi.json", "GET /healthz",
}

// TestGatewayOpenAPI: the served document is valid OpenAPI 3.1 (checked
// by libopenapi-validator against the OpenAPI 3.1 JSON schema), has every
// SPEC route, and real answers validate against it.
func TestGatewayOpenAPI(t *testing.T) {
	g := startGatewayNet(t, 1, nil)[0]
	g.terminal(t, "till-1")
	tok, _ := g.token(t, "till-1", nil)

	resp, err := httpClient.Get(g.n.GatewayURL() + "/v1/openapi.json")
	require.NoError(t, err)
	spec, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)

	doc, err := libopenapi.NewDocument(spec)
	require.NoError(t, err)
	require.Equal(t, "3.1.0", doc.GetVersion())
	ok, verrs := schema_validation.ValidateOpenAPIDocument(doc)
	for _, e := range verrs {
		t.Errorf("OpenAPI document: %s: %s", e.Message, e.Reason)
	}
	require.True(t, ok)

	model, errs := doc.BuildV3Model()
	require.Empty(t, errs)
	for _, r := range specRoutes {
		method, path, _ := strings.Cut(r, " ")
		item, found := model.Model.Paths.PathItems.Get(path)
		require.True(t, found, "route %s is not in the document", r)
		require.NotNil(t, item.GetOperations().GetOrZero(strings.ToLower(method)), "route %s is not in the document", r)
	}

	// Real requests and answers, good and bad, conform to the document.
	v, verr := validator.NewValidator(doc)
	require.Empty(t, verr)
	cust := customerID(7)
	for _, c := range []req{
		{method: "POST", path: "/v1/issue", idem: "o-1", body: `{"customer_id":"` + cust + `","amount":"10.00","flow":` + pinFlow + `}`},
		{method: "POST", path: "/v1/redeem", idem: "o-2", body: `{"customer_id":"` + cust + `","points":1,"bill_amount":"1.00"}`},
		{method: "POST", path: "/v1/issue", idem: "o-3", body: `{"customer_id":"` + cust + `","amount":10}`},
		{method: "GET", path: "/v1/customers/" + cust},
		{method: "GET", path: "/v1/customers/" + cust + "/history"},
		{method: "GET", path: "/v1/crms/decision?customer_id=" + cust + "&amount=5.00"},
		{method: "GET", path: "/v1/statements"},
		{method: "GET", path: "/healthz"},
	} {
		hr, err := http.NewRequest(c.method, g.n.GatewayURL()+c.path, strings.NewReader(c.body))
		require.NoError(t, err)
		if c.body != "" {
			hr.Header.Set("Content-Type", "application/json")
			hr.Header.Set("Idempotency-Key", c.idem)
		}
		hr.Header.Set("Authorization", "Bearer "+tok)
		resp, err := httpClient.Do(hr)
		require.NoError(t, err)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(raw))
		hr.Body = io.NopCloser(strings.NewReader(c.body))
		ok, errs := v.ValidateHttpResponse(hr, resp)
		for _, e := range errs {
			t.Errorf("%s %s -> %d %s: %s: %s", c.method, c.path, resp.StatusCode, raw, e.Message, e.Reason)
		}
		require.True(t, ok)

		// The control: the same answer with a field of the wrong type
		// does not validate, so the check above is a real one.
		if resp.StatusCode == 200 && c.path == "/v1/issue" {
			bad := bytes.Replace(raw, []byte(`"points_issued":10`), []byte(`"points_issued":"10"`), 1)
			require.NotEqual(t, raw, bad)
			resp.Body = io.NopCloser(bytes.NewReader(bad))
			ok, _ := v.ValidateHttpResponse(hr, resp)
			require.False(t, ok, "a wrong answer validated")
		}
	}
}

// TestGatewayTLSAndMetrics: with tls_cert and tls_key the gateway serves
// HTTPS only; with the node's metrics on, it reports request latency by
// route and status and the CRMS decision latency. (Only one node per
// process may have metrics: CometBFT registers them globally.)
func TestGatewayTLSAndMetrics(t *testing.T) {
	var metricsURL string
	var pool *x509.CertPool
	g := startGatewayNetMetrics(t, func(dir string, c *node.AppConfig) {
		pool = writeCert(t, filepath.Join(dir, "config"))
		c.Gateway.TLSCert, c.Gateway.TLSKey = "config/gateway.crt", "config/gateway.key"
	}, &metricsURL)
	require.True(t, strings.HasPrefix(g.n.GatewayURL(), "https://127.0.0.1:"), g.n.GatewayURL())
	g.terminal(t, "till-1")
	tok, _ := g.token(t, "till-1", nil)

	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	r := doURL(t, hc, g.n.GatewayURL(), req{method: "POST", path: "/v1/issue", token: tok, idem: "t-1",
		body: `{"customer_id":"` + customerID(8) + `","amount":"10.00","flow":` + pinFlow + `}`})
	require.Equal(t, 200, r.status, r.raw)
	r = doURL(t, hc, g.n.GatewayURL(), req{method: "GET", path: "/v1/crms/decision?customer_id=" + customerID(8) + "&amount=5.00", token: tok})
	require.Equal(t, 200, r.status, r.raw)
	r = doURL(t, hc, g.n.GatewayURL(), req{method: "GET", path: "/v1/nope", token: tok})
	require.Equal(t, 404, r.status, r.raw)

	// Plain HTTP on the TLS port gets no gateway answer.
	plain := strings.Replace(g.n.GatewayURL(), "https://", "http://", 1)
	if resp, err := httpClient.Get(plain + "/healthz"); err == nil {
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "Go's TLS server answers plain HTTP with 400")
		resp.Body.Close()
	}

	resp, err := httpClient.Get(metricsURL)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := string(body)
	require.Contains(t, m, `bytepoints_gateway_request_seconds_count{method="POST",route="/v1/issue",status="200"} 1`)
	require.Contains(t, m, `bytepoints_gateway_request_seconds_count{method="GET",route="/v1/crms/decision",status="200"} 1`)
	require.Contains(t, m, `bytepoints_gateway_request_seconds_count{method="GET",route="unmatched",status="404"} 1`)
	require.Contains(t, m, "bytepoints_crms_decision_seconds_count 1")
	require.Contains(t, m, "# TYPE bytepoints_issued_points_total counter")
	require.Contains(t, m, "# TYPE bytepoints_redeemed_points gauge")

	// The node's own metrics pass promtool's lint (`promtool check
	// metrics`): counters end in _total and gauges do not, units are base
	// units in the name, help on every metric. CometBFT's are its own.
	mfs, err := prometheus.DefaultGatherer.Gather()
	require.NoError(t, err)
	var ours []string
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "bytepoints_") {
			ours = append(ours, mf.GetName())
		}
	}
	require.Contains(t, ours, "bytepoints_gateway_request_seconds")
	require.Contains(t, ours, "bytepoints_tx_results_total")
	problems, err := testutil.GatherAndLint(prometheus.DefaultGatherer, ours...)
	require.NoError(t, err)
	for _, p := range problems {
		t.Errorf("metric %s: %s", p.Metric, p.Text)
	}
	// The control: the lint does catch the old mistake.
	bad := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bytepoints_redeemed_points_total", Help: "x"}, func() float64 { return 0 })
	problems, err = testutil.CollectAndLint(bad)
	require.NoError(t, err)
	require.NotEmpty(t, problems, "a gauge named _total passed the lint")
}

// startGatewayNetMetrics starts one node with its metrics on.
func startGatewayNetMetrics(t *testing.T, edit func(string, *node.AppConfig), metricsURL *string) gwNode {
	t.Helper()
	plan, err := node.FreePortPlan(1)
	require.NoError(t, err)
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 1, Output: filepath.Join(t.TempDir(), "net"),
		Ports: plan, TimeoutCommit: 100 * time.Millisecond, Transport: node.TransportTCP})
	require.NoError(t, err)
	h := m.Homes[0]
	c, err := node.LoadAppConfig(h.Dir)
	require.NoError(t, err)
	edit(h.Dir, &c)
	require.NoError(t, node.WriteAppConfig(h.Dir, c))
	n, err := node.New(h.Dir, node.Options{LogLevel: "none"})
	require.NoError(t, err)
	require.NoError(t, n.Start())
	t.Cleanup(n.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, networks.WaitHeight(ctx, n.RPCURL(), 2))
	*metricsURL = h.Metrics
	return gwNode{n: n, home: h}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and returns a
// pool that trusts it.
func writeCert(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bytepoints gateway test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gateway.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gateway.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// ---- the contract: every answer validates against the served document ----

// contract checks gateway answers against the OpenAPI document the same
// gateway serves, with a JSON Schema 2020-12 validator (OpenAPI 3.1's
// schemas are 2020-12 schemas): the schema of the operation's documented
// response for that status and media type, by JSON pointer into the
// document, so $refs resolve as a generated client would resolve them.
// Every request of the gateway tests goes through it (doURL).
type contract struct {
	base      string
	compiler  *jsonschema.Compiler
	doc       map[string]any
	templates []routeTemplate

	mu      sync.Mutex
	schemas map[string]*jsonschema.Schema
	seen    map[string]bool // "METHOD template status"
}

type routeTemplate struct {
	path string
	re   *regexp.Regexp
}

const contractURL = "https://gateway.invalid/v1/openapi.json"

var contracts sync.Map // base URL -> *contract

func contractFor(t *testing.T, hc *http.Client, base string) *contract {
	t.Helper()
	if c, ok := contracts.Load(base); ok {
		return c.(*contract)
	}
	resp, err := hc.Get(base + "/v1/openapi.json")
	require.NoError(t, err)
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode, "GET /v1/openapi.json: %s", raw)
	c, err := newContract(base, raw)
	require.NoError(t, err)
	actual, _ := contracts.LoadOrStore(base, c)
	return actual.(*contract)
}

func newContract(base string, spec []byte) (*contract, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(spec))
	if err != nil {
		return nil, err
	}
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft2020)
	if err := comp.AddResource(contractURL, doc); err != nil {
		return nil, err
	}
	c := &contract{base: base, compiler: comp, doc: doc.(map[string]any), schemas: map[string]*jsonschema.Schema{}, seen: map[string]bool{}}
	for p := range c.doc["paths"].(map[string]any) {
		re := "^" + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(p), `[^/]+`) + "$"
		c.templates = append(c.templates, routeTemplate{path: p, re: regexp.MustCompile(re)})
	}
	sort.Slice(c.templates, func(i, j int) bool { return c.templates[i].path < c.templates[j].path })
	return c, nil
}

func (c *contract) schema(ptr string) (*jsonschema.Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.schemas[ptr]; ok {
		return s, nil
	}
	s, err := c.compiler.Compile(contractURL + "#" + ptr)
	if err != nil {
		return nil, err
	}
	c.schemas[ptr] = s
	return s, nil
}

func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// validate checks one answer; it returns the route template ("" for a
// request no operation takes).
func (c *contract) validate(method, rawPath string, status int, h http.Header, body []byte) (string, error) {
	path, _, _ := strings.Cut(rawPath, "?")
	if h.Get("X-Request-Id") == "" {
		return "", fmt.Errorf("no X-Request-Id")
	}
	if v := h.Get("Idempotent-Replayed"); v != "" && v != "true" {
		return "", fmt.Errorf("Idempotent-Replayed: %q", v)
	}
	media, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	tmpl := ""
	for _, rt := range c.templates {
		if rt.re.MatchString(path) {
			tmpl = rt.path
			break
		}
	}
	var op map[string]any
	if tmpl != "" {
		op, _ = c.doc["paths"].(map[string]any)[tmpl].(map[string]any)[strings.ToLower(method)].(map[string]any)
	}
	var ptr string
	if op == nil {
		// No operation: an unknown route (404), another method (405), a
		// malformed path (400) or the public limit (429), all in the
		// error shape.
		if status != 404 && status != 405 && status != 400 && status != 429 {
			return "", fmt.Errorf("%s %s has no operation, yet answered %d", method, path, status)
		}
		tmpl = "(none)"
		ptr = "/components/schemas/Error"
	} else {
		resp, ok := op["responses"].(map[string]any)[strconv.Itoa(status)].(map[string]any)
		if !ok {
			return tmpl, fmt.Errorf("status %d is not documented for %s %s", status, method, tmpl)
		}
		if _, ok := resp["content"].(map[string]any)[media]; !ok {
			return tmpl, fmt.Errorf("media type %q is not documented for %s %s %d", media, method, tmpl, status)
		}
		ptr = "/paths/" + pointerEscape(tmpl) + "/" + strings.ToLower(method) + "/responses/" + strconv.Itoa(status) +
			"/content/" + pointerEscape(media) + "/schema"
	}
	sch, err := c.schema(ptr)
	if err != nil {
		return tmpl, fmt.Errorf("compile %s: %w", ptr, err)
	}
	var v any
	if strings.HasSuffix(media, "yaml") {
		v = string(body) // documented as a string
	} else if v, err = jsonschema.UnmarshalJSON(bytes.NewReader(body)); err != nil {
		return tmpl, fmt.Errorf("not JSON: %w", err)
	}
	if err := sch.Validate(v); err != nil {
		return tmpl, err
	}
	c.mu.Lock()
	c.seen[method+" "+tmpl+" "+strconv.Itoa(status)] = true
	c.mu.Unlock()
	return tmpl, nil
}

// check is validate for a test.
func (c *contract) check(t *testing.T, method, path string, status int, h http.Header, body []byte) {
	t.Helper()
	if _, err := c.validate(method, path, status, h, body); err != nil {
		t.Errorf("%s %s -> %d breaks the OpenAPI document: %v\n%s", method, path, status, err, body)
	}
}

// TestGatewayOpenAPIContract: an answer of every route and of every error
// status the gateway can give is captured from two running sellers and
// validated against the document the gateway serves (JSON Schema 2020-12,
// santhosh-tekuri/jsonschema), and the document's answers are evolvable
// (a new field does not break a validating client) while its requests
// are closed.
func TestGatewayOpenAPIContract(t *testing.T) {
	params := app.DefaultParams()
	params.EpochSeconds = 12 // statements close while the test runs
	ns := startGatewayNetWith(t, node.NetworkOptions{Validators: 2, Params: params},
		func(_ string, c *node.AppConfig) { c.Gateway.CommitTimeoutSeconds = 3 })
	a, b := ns[0], ns[1]
	a.terminal(t, "till-a")
	a.terminal(t, "till-slow")
	b.terminal(t, "till-b")
	tokA, _ := a.token(t, "till-a", nil)
	slow, _ := a.token(t, "till-slow", func(r *gateway.TokenRecord) { r.RatePerSecond, r.Burst = 0.001, 1 })
	tokB, _ := b.token(t, "till-b", nil)
	cust := customerID(40)
	issueBody := `{"customer_id":"` + cust + `","amount":"100.00","flow":` + pinFlow + `}`
	want := func(r reply, status int) reply {
		t.Helper()
		require.Equal(t, status, r.status, r.raw)
		return r
	}

	// A void needs its redemption's epoch still open: start the bookings
	// early in an epoch.
	openEpoch := func() map[string]any {
		return want(a.do(t, req{method: "GET", path: "/v1/statements", token: tokA}), 200).body["open_epoch"].(map[string]any)
	}
	// (Wait for an epoch to open rather than compare clocks: block time is
	// the validators', not this machine's.)
	first := openEpoch()["epoch"].(float64)
	require.Eventually(t, func() bool { return openEpoch()["epoch"].(float64) > first }, 30*time.Second, 50*time.Millisecond)

	// Bookings, their replays and their refusals.
	issue := want(a.do(t, req{method: "POST", path: "/v1/issue", token: tokA, idem: "k-1", body: issueBody}), 200)
	bookedIn := openEpoch()["epoch"].(float64)
	want(a.do(t, req{method: "POST", path: "/v1/issue", token: tokA, idem: "k-1", body: issueBody}), 200)
	want(a.do(t, req{method: "POST", path: "/v1/issue", token: tokA, idem: "k-1", body: `{"customer_id":"` + cust + `","amount":"1.00"}`}), 409)
	want(a.do(t, req{method: "POST", path: "/v1/issue", token: tokA, idem: "k-2", body: `{"customer_id":"` + cust + `","amount":"1.00","amount":"9.00"}`}), 400)
	want(a.do(t, req{method: "POST", path: "/v1/issue", idem: "k-2", body: issueBody}), 401)
	want(a.do(t, req{method: "POST", path: "/v1/issue", token: tokA, idem: "k-2", body: `{"customer_id":"` + cust + `","amount":"1.00","terminal_id":"till-x"}`}), 403)
	want(a.do(t, req{method: "POST", path: "/v1/issue", token: tokA, idem: "k-2", body: `{"customer_id":"` + cust + `","amount":"1.00","memo":"` + strings.Repeat("x", 20000) + `"}`}), 413)
	want(a.do(t, req{method: "POST", path: "/v1/issue", token: tokA, idem: "k-2", body: issueBody, header: map[string]string{"Content-Type": "text/plain"}}), 415)
	want(a.do(t, req{method: "POST", path: "/v1/issue", token: tokA, idem: "k-2", body: `{"customer_id":"` + cust + `","amount":"100000000.00"}`}), 422)
	redeem := want(a.do(t, req{method: "POST", path: "/v1/redeem", token: tokA, idem: "k-3",
		body: `{"customer_id":"` + cust + `","points":10,"bill_amount":"20.00","flow":` + pinFlow + `}`}), 200)
	want(a.do(t, req{method: "POST", path: "/v1/redeem", token: tokA, idem: "k-4", body: `{"customer_id":"` + cust + `","points":10,"bill_amount":"20.00"}`}), 422)
	want(a.do(t, req{method: "POST", path: "/v1/redeem", token: tokA, idem: "k-4", body: `{"customer_id":"` + cust + `","points":1,"bill_amount":"1.00","context_nano":1}`}), 400)
	want(b.do(t, req{method: "POST", path: "/v1/refund", token: tokB, idem: "k-5", body: `{"purchase_id":"` + issue.str("purchase_id") + `"}`}), 403)
	want(b.do(t, req{method: "POST", path: "/v1/void", token: tokB, idem: "k-6", body: `{"redemption_id":"` + redeem.str("redemption_id") + `"}`}), 403)
	want(a.do(t, req{method: "POST", path: "/v1/refund", token: tokA, idem: "k-7", body: `{"purchase_id":"` + issue.str("purchase_id") + `","amount":"10.00"}`}), 200)
	want(a.do(t, req{method: "POST", path: "/v1/refund", token: tokA, idem: "k-8", body: `{"purchase_id":"xyz"}`}), 400)
	want(a.do(t, req{method: "POST", path: "/v1/void", token: tokA, idem: "k-9", body: `{"redemption_id":"` + redeem.str("redemption_id") + `"}`}), 200)
	want(a.do(t, req{method: "POST", path: "/v1/void", token: tokA, idem: "k-10", body: `{"redemption_id":"` + strings.Repeat("0", 64) + `"}`}), 422)

	// Reads.
	want(a.do(t, req{method: "GET", path: "/v1/customers/" + cust, token: tokA}), 200)
	want(a.do(t, req{method: "GET", path: "/v1/customers/a%2Fb", token: tokA}), 400)
	want(a.do(t, req{method: "GET", path: "/v1/customers/" + cust + "/history?limit=2", token: tokA}), 200)
	want(a.do(t, req{method: "GET", path: "/v1/customers/" + cust + "/history?limit=0", token: tokA}), 400)
	want(a.do(t, req{method: "GET", path: "/v1/crms/decision?customer_id=" + cust + "&amount=5.00&context_nano=1500000000", token: tokA}), 200)
	want(a.do(t, req{method: "GET", path: "/v1/crms/decision?customer_id=" + cust + "&amount=5.00&context_nano=1", token: tokA}), 400)
	want(a.do(t, req{method: "GET", path: "/v1/tx/" + issue.str("tx_hash"), token: tokA}), 200)
	want(b.do(t, req{method: "GET", path: "/v1/tx/" + issue.str("tx_hash"), token: tokB}), 200)
	want(a.do(t, req{method: "GET", path: "/v1/tx/" + strings.Repeat("ab", 32), token: tokA}), 200)
	want(a.do(t, req{method: "GET", path: "/v1/tx/abc", token: tokA}), 400)
	want(a.do(t, req{method: "GET", path: "/v1/statements/yesterday", token: tokA}), 400)
	// The statement of the epoch of the first booking, once closed, with
	// lines whose direction and status come from types' tables.
	var st reply
	require.Eventually(t, func() bool {
		st = a.do(t, req{method: "GET", path: fmt.Sprintf("/v1/statements/%d", uint64(bookedIn)), token: tokA})
		return st.status == 200
	}, 60*time.Second, 200*time.Millisecond, "epoch %v did not close", bookedIn)
	require.NotEmpty(t, st.body["lines"])
	for _, l := range st.body["lines"].([]any) {
		line := l.(map[string]any)
		require.Contains(t, types.Directions.Names(), line["direction"])
		require.Contains(t, types.LineStatuses.Names(), line["status"])
		if line["seller_id"] == a.home.SellerID {
			require.Equal(t, "payable", line["direction"], "seller A issued more than it redeemed")
		}
	}
	open := want(a.do(t, req{method: "GET", path: "/v1/statements", token: tokA}), 200).body["open_epoch"].(map[string]any)["epoch"].(float64)
	want(a.do(t, req{method: "GET", path: fmt.Sprintf("/v1/statements/%d", uint64(open)+1000), token: tokA}), 404)

	// The customer's wallet (docs/wallet.md): a bind with the key's proof
	// of possession, the wallet's proven reads, an intent signed (and its
	// reuse refused) and one rejected.
	wpub, wpriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	pop := base64.StdEncoding.EncodeToString(ed25519.Sign(wpriv, gateway.PossessionBytes(a.n.Genesis.ChainID, wpub)))
	want(a.do(t, req{method: "POST", path: "/v1/wallet-bindings", token: tokA, idem: "k-w1",
		body: `{"customer_id":"` + cust + `","wallet_pubkey":"` + hex.EncodeToString(wpub) + `","proof":"` + pop + `","flow":` + pinFlow + `}`}), 200)
	wp := "/v1/wallets/" + hex.EncodeToString(wpub)
	want(a.do(t, req{method: "GET", path: wp}), 200)
	want(a.do(t, req{method: "GET", path: wp + "/balance"}), 200)
	want(a.do(t, req{method: "GET", path: wp + "/history?limit=5"}), 200)
	intentBody := `{"customer_id":"` + cust + `","points":1,"bill_amount":"5.00"}`
	in := want(a.do(t, req{method: "POST", path: "/v1/redemption-intents", token: tokA, idem: "k-w2", body: intentBody}), 200)
	sb, err := base64.StdEncoding.DecodeString(in.str("sign_bytes"))
	require.NoError(t, err)
	ip := "/v1/redemption-intents/" + in.str("intent_id")
	want(a.do(t, req{method: "GET", path: ip}), 200)
	sig := `{"signature":"` + base64.StdEncoding.EncodeToString(ed25519.Sign(wpriv, sb)) + `"}`
	want(a.do(t, req{method: "POST", path: ip + "/signature", body: sig}), 200)
	want(a.do(t, req{method: "POST", path: ip + "/signature", body: sig}), 409)
	in = want(a.do(t, req{method: "POST", path: "/v1/redemption-intents", token: tokA, idem: "k-w3", body: intentBody}), 200)
	want(a.do(t, req{method: "POST", path: "/v1/redemption-intents/" + in.str("intent_id") + "/rejection"}), 200)

	// Meta routes, and requests no operation takes.
	want(a.do(t, req{method: "GET", path: "/healthz"}), 200)
	want(a.do(t, req{method: "GET", path: "/v1/openapi.json"}), 200)
	want(a.do(t, req{method: "GET", path: "/v1/openapi-3.0.json"}), 200)
	c := contractFor(t, httpClient, a.n.GatewayURL())
	for _, p := range []string{"/v1/openapi.yaml", "/v1/openapi-3.0.yaml"} {
		resp, err := httpClient.Get(a.n.GatewayURL() + p)
		require.NoError(t, err)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode)
		require.Contains(t, string(raw), "openapi: ")
		c.check(t, "GET", p, resp.StatusCode, resp.Header, raw)
	}
	want(a.do(t, req{method: "GET", path: "/v1/nope", token: tokA}), 404)
	want(a.do(t, req{method: "GET", path: "/v1/issue", token: tokA}), 405)
	want(a.do(t, req{method: "GET", path: "/v1/tx/.?0", token: tokA}), 400)
	// The audit page is mounted beside the API, outside the document,
	// with the same request ids.
	resp, err := httpClient.Get(a.n.GatewayURL() + "/audit/data.json")
	require.NoError(t, err)
	resp.Body.Close()
	require.NotEmpty(t, resp.Header.Get("X-Request-Id"))

	// Rate limits: a token's, and the public routes' per address.
	want(a.do(t, req{method: "GET", path: "/v1/statements", token: slow}), 200)
	want(a.do(t, req{method: "GET", path: "/v1/statements", token: slow}), 429)
	limited := false
	for i := 0; i < 500 && !limited; i++ {
		limited = a.do(t, req{method: "GET", path: "/healthz"}).status == 429
	}
	require.True(t, limited, "the public routes are not rate-limited")

	// 504: with B down the chain cannot commit.
	b.n.Stop()
	want(a.do(t, req{method: "POST", path: "/v1/issue", token: tokA, idem: "k-11", body: issueBody[:len(issueBody)-1] + `,"terminal_id":"till-a"}`}), 504)

	// Every documented operation answered 2xx, and every error status
	// was met, each validated.
	ok2xx := map[string]bool{}
	statuses := map[int]bool{}
	for k := range c.seen {
		f := strings.Fields(k)
		st, _ := strconv.Atoi(f[2])
		statuses[st] = true
		if st/100 == 2 {
			ok2xx[f[0]+" "+f[1]] = true
		}
	}
	for p, item := range c.doc["paths"].(map[string]any) {
		for m := range item.(map[string]any) {
			require.True(t, ok2xx[strings.ToUpper(m)+" "+p], "no 2xx answer of %s %s was captured", strings.ToUpper(m), p)
		}
	}
	for _, st := range []int{400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 504} {
		require.True(t, statuses[st], "no %d answer was captured", st)
	}

	// Evolvable answers, closed requests: a field added to an answer
	// validates; a field the request schema does not know does not; and
	// a wrong type in an answer does not (the check is a real one).
	h := http.Header{"X-Request-Id": {"x"}, "Content-Type": {"application/json"}}
	extra := strings.Replace(issue.raw, `{`, `{"added_later":1,`, 1)
	_, err = c.validate("POST", "/v1/issue", 200, h, []byte(extra))
	require.NoError(t, err, "a new answer field broke the document")
	wrong := strings.Replace(issue.raw, `"points_issued":100`, `"points_issued":"100"`, 1)
	require.NotEqual(t, issue.raw, wrong)
	_, err = c.validate("POST", "/v1/issue", 200, h, []byte(wrong))
	require.Error(t, err)
	reqSchema, err := c.schema("/paths/~1v1~1issue/post/requestBody/content/application~1json/schema")
	require.NoError(t, err)
	require.NoError(t, reqSchema.Validate(map[string]any{"customer_id": "c", "amount": "1.00"}))
	require.Error(t, reqSchema.Validate(map[string]any{"customer_id": "c", "amount": "1.00", "pin_verified": true}))
}

// TestGatewayOpenAPIRoutesDocumented: docs/gateway.md names every route
// the gateway serves (the document's, and those mounted outside /v1) and
// says how answers evolve.
func TestGatewayOpenAPIRoutesDocumented(t *testing.T) {
	s, err := gateway.New(gateway.Config{SellerID: "shop-a", TokensPath: filepath.Join(t.TempDir(), "t.json")}, gateway.Deps{})
	require.NoError(t, err)
	for _, p := range auditpage.Routes {
		s.Mount(p, http.NotFoundHandler())
	}
	md, err := os.ReadFile("../docs/gateway.md")
	require.NoError(t, err)
	doc := string(md)
	routes := s.Routes()
	require.NotEmpty(t, routes)
	for _, r := range routes {
		require.Contains(t, doc, r, "docs/gateway.md does not document %s", r)
	}
	for _, p := range s.Mounted() {
		require.Contains(t, doc, "GET "+p, "docs/gateway.md does not document the mounted route %s", p)
	}
	require.Contains(t, doc, "GET /audit/data.json")
	require.Contains(t, doc, "additionalProperties")
}
