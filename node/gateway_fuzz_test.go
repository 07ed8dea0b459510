package node_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/node/gateway"
	"github.com/bytepoints/bytepoints/types"
)

// fzGateway is one running seller node whose gateway the fuzz target
// drives over its real loopback socket, started once per fuzz process.
type fzGateway struct {
	base  string
	vars  *strings.Replacer // the placeholders of the inputs
	hc    *http.Client
	mux   *http.ServeMux // the gateway's route patterns, to see which a request takes
	cover map[string]bool
}

// Placeholders an input may hold, replaced by the fixture's values:
// tokens, a customer with points, a purchase, a redemption, a committed
// transaction and the open epoch. An Idempotency-Key of "*" becomes one
// derived from the whole input, so the same input is a replay and another
// input never collides with it.
const (
	fzToken      = "$TOKEN"
	fzGhost      = "$GHOST" // a token whose terminal is not registered on chain
	fzCust       = "$CUST"
	fzPurchase   = "$PURCHASE"
	fzRedemption = "$REDEMPTION"
	fzTxHash     = "$TXHASH"
	fzEpoch      = "$EPOCH"
)

func startFuzzGateway(f *testing.F) *fzGateway {
	plan, err := node.FreePortPlan(1)
	if err != nil {
		f.Fatal(err)
	}
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 1, Output: filepath.Join(f.TempDir(), "net"),
		Ports: plan, TimeoutCommit: 100 * time.Millisecond, Invariants: true, Transport: node.TransportTCP})
	if err != nil {
		f.Fatal(err)
	}
	nodes, err := networks.StartInProcess(m, io.Discard, "none", true)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { networks.StopAll(nodes) })
	n, home := nodes[0], m.Homes[0]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := networks.WaitHeight(ctx, n.RPCURL(), 2); err != nil {
		f.Fatal(err)
	}
	opKey, err := node.LoadKey(home.Dir, node.OperatorKey)
	if err != nil {
		f.Fatal(err)
	}
	cl, err := client.Dial(ctx, n.RPCURL(), opKey)
	if err != nil {
		f.Fatal(err)
	}
	acfg, err := node.LoadAppConfig(home.Dir)
	if err != nil {
		f.Fatal(err)
	}
	token := func(terminal string, register bool) string {
		pub, err := node.AddKey(home.Dir, terminal)
		if err != nil {
			f.Fatal(err)
		}
		if register {
			res, err := cl.Submit(ctx, &types.MsgRegisterTerminal{TerminalId: terminal, Pubkey: pub}, client.Options{})
			if err != nil || !res.OK() {
				f.Fatalf("register %s: %v %+v", terminal, err, res)
			}
		}
		tok, rec, err := gateway.NewToken(home.SellerID, terminal, terminal, pub, time.Now())
		if err != nil {
			f.Fatal(err)
		}
		rec.RatePerSecond, rec.Burst = 1e6, 1e6 // the fuzzer is faster than a till
		if err := gateway.AddToken(acfg.Gateway.TokensPath(home.Dir), rec); err != nil {
			f.Fatal(err)
		}
		return tok
	}
	g := &fzGateway{base: n.GatewayURL(), cover: map[string]bool{},
		// Redirects (net/http's path cleaning) are answers to check, not to follow.
		hc: &http.Client{Timeout: 60 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	tok, ghost := token("till-1", true), token("ghost", false)
	cust := fmt.Sprintf("%064x", 0xf022)

	// The fixture: a purchase and a redemption, booked through the gateway.
	fix := func(method, path, body string) map[string]any {
		st, raw := g.send(f, method, path, "Bearer "+tok, "fixture-"+path, "application/json", body)
		if st != 200 {
			f.Fatalf("fixture %s %s: %d %s", method, path, st, raw)
		}
		var out map[string]any
		if err := json.Unmarshal(raw, &out); err != nil {
			f.Fatal(err)
		}
		return out
	}
	buy := fix("POST", "/v1/issue", `{"customer_id":"`+cust+`","amount":"500.00","flow":`+pinFlow+`}`)
	red := fix("POST", "/v1/redeem", `{"customer_id":"`+cust+`","points":5,"bill_amount":"50.00","flow":`+pinFlow+`}`)
	sts := fix("GET", "/v1/statements", "")
	epoch := fmt.Sprint(uint64(sts["open_epoch"].(map[string]any)["epoch"].(float64)))
	g.vars = strings.NewReplacer(fzToken, tok, fzGhost, ghost, fzCust, cust, fzPurchase, buy["purchase_id"].(string),
		fzRedemption, red["redemption_id"].(string), fzTxHash, buy["tx_hash"].(string), fzEpoch, epoch)

	// The route patterns, from a gateway built the same way (the OpenAPI
	// test holds that these are exactly the documented routes).
	s, err := gateway.New(gateway.Config{SellerID: home.SellerID, TokensPath: filepath.Join(f.TempDir(), "tokens.json")}, gateway.Deps{})
	if err != nil {
		f.Fatal(err)
	}
	g.mux = http.NewServeMux()
	for _, r := range s.Routes() {
		g.mux.HandleFunc(r, func(http.ResponseWriter, *http.Request) {})
		g.cover[r] = false
	}
	return g
}

// send makes one request; the status and body, or a Fatal when the
// server dropped the connection (a handler panic does that).
func (g *fzGateway) send(t testing.TB, method, path, auth, idem, ctype, body string) (int, []byte) {
	t.Helper()
	hr, err := http.NewRequest(method, g.base+path, strings.NewReader(body))
	if err != nil {
		return -1, nil // not a request a client can send
	}
	if auth != "" {
		hr.Header.Set("Authorization", auth)
	}
	if idem != "" {
		hr.Header.Set("Idempotency-Key", idem)
	}
	if ctype != "" {
		hr.Header.Set("Content-Type", ctype)
	}
	resp, err := g.hc.Do(hr)
	if err != nil {
		if strings.Contains(err.Error(), "net/http: invalid") || strings.Contains(err.Error(), "unsupported protocol") {
			return -1, nil // refused by the client before sending
		}
		t.Fatalf("%s %q: %v (the server dropped the request)", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %q: reading the answer: %v", method, path, err)
	}
	if resp.StatusCode >= 400 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && !isAudit(hr) {
		t.Fatalf("%s %q: %d with content type %q: %s", method, path, resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	return resp.StatusCode, raw
}

// isAudit: the auditor's page, mounted beside the gateway on the same
// server, answers HTML; only the 5xx rule applies to it.
func isAudit(r *http.Request) bool {
	return r.URL.Path == "/audit" || strings.HasPrefix(r.URL.Path, "/audit/")
}

// fzSeed is a request; want is its status on the fixture (0: any).
type fzSeed struct {
	method, path, query, auth, idem, ctype, body string
	want                                         int
}

func fzSeeds() []fzSeed {
	const bearer, js = "Bearer " + fzToken, "application/json"
	flow := pinFlow
	return []fzSeed{
		{"POST", "/v1/issue", "", bearer, "*", js, `{"customer_id":"$CUST","amount":"1.00","flow":` + flow + `}`, 200},
		{"POST", "/v1/redeem", "", bearer, "*", js, `{"customer_id":"$CUST","points":1,"bill_amount":"5.00","flow":` + flow + `}`, 200},
		{"POST", "/v1/refund", "", bearer, "*", js, `{"purchase_id":"$PURCHASE","amount":"1.00"}`, 200},
		{"POST", "/v1/void", "", bearer, "*", js, `{"redemption_id":"$REDEMPTION"}`, 200},
		{"GET", "/v1/customers/$CUST", "", bearer, "", "", "", 200},
		{"GET", "/v1/customers/$CUST/history", "limit=2&page=1", bearer, "", "", "", 200},
		{"GET", "/v1/crms/decision", "customer_id=$CUST&amount=20.00&context_nano=1000000000", bearer, "", "", "", 200},
		{"GET", "/v1/statements", "", bearer, "", "", "", 200},
		{"GET", "/v1/statements/$EPOCH", "", bearer, "", "", "", 404}, // the open epoch has no statement yet
		{"GET", "/v1/statements/2026-01-01", "", bearer, "", "", "", 404},
		{"GET", "/v1/tx/$TXHASH", "", bearer, "", "", "", 200},
		{"GET", "/healthz", "", "", "", "", "", 200},
		{"GET", "/v1/openapi.json", "", "", "", "", "", 200},
		{"GET", "/v1/openapi.yaml", "", "", "", "", "", 200},
		{"GET", "/v1/openapi-3.0.json", "", "", "", "", "", 200},
		{"GET", "/v1/openapi-3.0.yaml", "", "", "", "", "", 200},
		{"GET", "/v1/tx/.", "", bearer, "", "", "", 400}, // never a redirect to another route
		// Refusals, each with its status.
		{"POST", "/v1/issue", "", bearer, "*", js, `{"customer_id":"$CUST","amount":"1.005"}`, 400},
		{"POST", "/v1/issue", "", bearer, "", js, `{"customer_id":"$CUST","amount":"1.00"}`, 400},
		{"POST", "/v1/issue", "", bearer, "*", "text/plain", `{"customer_id":"$CUST","amount":"1.00"}`, 415},
		{"POST", "/v1/issue", "", "Bearer " + fzGhost, "*", js, `{"customer_id":"$CUST","amount":"1.00"}`, 401},
		{"POST", "/v1/issue", "", bearer, "*", js, `{"customer_id":"$CUST","amount":"1.00","terminal_id":"till-2"}`, 403},
		{"POST", "/v1/redeem", "", bearer, "*", js, `{"customer_id":"$CUST","points":100000,"bill_amount":"1000.00","flow":` + flow + `}`, 422},
		{"POST", "/v1/refund", "", bearer, "*", js, `{"purchase_id":"xyz"}`, 400},
		{"POST", "/v1/void", "", bearer, "*", js, `{"redemption_id":"$PURCHASE"}`, 422},
		{"GET", "/v1/customers/a%2Fb", "", bearer, "", "", "", 400},
		{"GET", "/v1/customers/$CUST/history", "limit=0", bearer, "", "", "", 400},
		{"GET", "/v1/crms/decision", "customer_id=$CUST&amount=1.00&seller_id=x", bearer, "", "", "", 400},
		{"GET", "/v1/statements/yesterday", "", bearer, "", "", "", 400},
		{"GET", "/v1/tx/abc", "", bearer, "", "", "", 400},
		{"GET", "/v1/statements", "", "", "", "", "", 401},
		{"GET", "/v1/issue", "", bearer, "", "", "", 405},
		{"GET", "/v1/nope", "", bearer, "", "", "", 404},
		{"DELETE", "/healthz", "", "", "", "", "", 405},
		{"GET", "/audit", "", "", "", "", "", 0},
		// The wallet's routes (docs/wallet.md): the fixture's card has no
		// bound wallet, and the ids and keys below name nothing.
		{"POST", "/v1/redemption-intents", "", bearer, "*", js, `{"customer_id":"$CUST","points":1,"bill_amount":"5.00"}`, 422},
		{"GET", "/v1/redemption-intents/nope", "", "", "", "", "", 404},
		{"POST", "/v1/redemption-intents/nope/signature", "", "", "", js, `{"signature":"AAAA"}`, 400},
		{"POST", "/v1/redemption-intents/nope/rejection", "", "", "", js, `{}`, 404},
		{"POST", "/v1/wallet-bindings", "", bearer, "*", js, `{"customer_id":"$CUST"}`, 400},
		{"GET", "/v1/wallets/abc", "", "", "", "", "", 400},
		{"GET", "/v1/wallets/abc/balance", "", "", "", "", "", 400},
		{"GET", "/v1/wallets/abc/history", "", "", "", "", "", 400},
	}
}

// FuzzGatewayRoutes sends requests built from the input (method, path,
// query, Authorization, Idempotency-Key, Content-Type, body; placeholders
// for the fixture's tokens and ids) to a running node's gateway. No answer
// is a 5xx other than the documented 504 (commit not seen in time), no
// request drops the connection (a handler panic), every error is the one
// error shape {code, code_name, message} with the SPEC code and its name,
// and the seeds, one or more per route, answer their statuses.
func FuzzGatewayRoutes(f *testing.F) {
	if testing.Short() {
		f.Skip("starts a node")
	}
	g := startFuzzGateway(f)
	for _, s := range fzSeeds() {
		// The valid requests succeed, every route is among them, and the
		// refusals answer their statuses.
		st, raw := g.do(f, s.method, s.path, s.query, s.auth, s.idem, s.ctype, s.body)
		if s.want != 0 && st != s.want {
			f.Fatalf("seed %s %s?%s: %d, want %d: %s", s.method, s.path, s.query, st, s.want, raw)
		}
		f.Add(s.method, s.path, s.query, s.auth, s.idem, s.ctype, s.body)
	}
	for r, seen := range g.cover {
		if !seen {
			f.Fatalf("no seed for route %s", r)
		}
	}
	f.Fuzz(func(t *testing.T, method, path, query, auth, idem, ctype, body string) {
		g.do(t, method, path, query, auth, idem, ctype, body)
	})
}

// do sends one input's request and checks the answer.
func (g *fzGateway) do(t testing.TB, method, path, query, auth, idem, ctype, body string) (int, []byte) {
	t.Helper()
	if idem == "*" {
		h := sha256.Sum256([]byte(strings.Join([]string{method, path, query, auth, ctype, body}, "\x00")))
		idem = "fz-" + hex.EncodeToString(h[:12])
	}
	path, query, auth, body = g.vars.Replace(path), g.vars.Replace(query), g.vars.Replace(auth), g.vars.Replace(body)
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if query != "" {
		path += "?" + query
	}
	if len(auth)+len(idem)+len(ctype) > 8<<10 {
		return -1, nil // above the server's header limit: net/http's own 431, not the gateway's
	}
	st, raw := g.send(t, method, path, auth, idem, ctype, body)
	if st < 0 {
		return st, raw
	}
	if r, err := http.NewRequest(method, g.base+path, nil); err == nil {
		if _, pat := g.mux.Handler(r); pat != "" {
			g.cover[pat] = true
		}
		if isAudit(r) {
			if st >= 500 {
				t.Fatalf("%s %q: %d from the audit page: %s", method, path, st, raw)
			}
			return st, raw
		}
	}
	switch {
	case st >= 500 && st != http.StatusGatewayTimeout:
		t.Fatalf("%s %q: %d: %s", method, path, st, raw)
	case st >= 300 && st < 400:
		return st, raw // net/http's redirect to the cleaned path
	case method == http.MethodHead:
		return st, raw
	case st >= 400:
		checkErrorShape(t, method, path, st, raw)
	case strings.HasSuffix(strings.SplitN(path, "?", 2)[0], ".yaml"):
		return st, raw // the OpenAPI document in YAML
	default:
		if !json.Valid(raw) {
			t.Fatalf("%s %q: %d with a body that is not JSON: %s", method, path, st, raw)
		}
	}
	return st, raw
}

// checkErrorShape: exactly {code, code_name, message} and the optional
// transaction fields; the code is a SPEC code and the name is its name.
func checkErrorShape(t testing.TB, method, path string, status int, raw []byte) {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("%s %q: %d with a body that is not a JSON object: %s", method, path, status, raw)
	}
	code, ok1 := e["code"].(float64)
	name, ok2 := e["code_name"].(string)
	msg, ok3 := e["message"].(string)
	if !ok1 || !ok2 || !ok3 || msg == "" || code != float64(int(code)) || code <= 0 {
		t.Fatalf("%s %q: %d without the error shape: %s", method, path, status, raw)
	}
	if types.Code(code).Name() != name {
		t.Fatalf("%s %q: code %v named %q, not %q", method, path, code, name, types.Code(code).Name())
	}
	for k := range e {
		switch k {
		case "code", "code_name", "message", "tx_hash", "conflict_with":
		default:
			t.Fatalf("%s %q: %d with field %q outside the error shape: %s", method, path, status, k, raw)
		}
	}
}
