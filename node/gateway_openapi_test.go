package node_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/schema_validation"
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
	require.Contains(t, m, `bytepoints_gateway_request_seconds_count{route="POST /v1/issue",status="200"} 1`)
	require.Contains(t, m, `bytepoints_gateway_request_seconds_count{route="GET /v1/crms/decision",status="200"} 1`)
	require.Contains(t, m, `bytepoints_gateway_request_seconds_count{route="unmatched",status="404"} 1`)
	require.Contains(t, m, "bytepoints_crms_decision_seconds_count 1")
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
