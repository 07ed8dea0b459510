package node_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
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
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/stretchr/testify/require"
)

// The gateway tests drive real nodes in this process over their real
// HTTP sockets (gateway and CometBFT RPC). Tokens are made with the same
// functions `bytepointsd gateway token create` calls (the CLI itself is
// driven in cmd/bytepointsd's TestGatewayTokenCLI).

const pinFlow = `{"read_type":"contact-emv","cvm":"pin-online","auth":"approved"}`

// gwNode is one running seller node with its home.
type gwNode struct {
	n    *node.Node
	home node.NetworkHome
}

// startGatewayNet generates and starts an in-process network of
// validators sellers (TCP p2p), optionally editing each home's app
// config first.
func startGatewayNet(t *testing.T, validators int, edit func(dir string, c *node.AppConfig)) []gwNode {
	t.Helper()
	return startGatewayNetWith(t, node.NetworkOptions{Validators: validators}, edit)
}

// startGatewayNetWith is startGatewayNet with more network options.
func startGatewayNetWith(t *testing.T, o node.NetworkOptions, edit func(dir string, c *node.AppConfig)) []gwNode {
	t.Helper()
	plan, err := node.FreePortPlan(o.Validators)
	require.NoError(t, err)
	o.Output, o.Ports, o.TimeoutCommit, o.Invariants, o.Transport = filepath.Join(t.TempDir(), "net"), plan, 100*time.Millisecond, true, node.TransportTCP
	m, err := node.GenerateNetwork(o)
	require.NoError(t, err)
	if edit != nil {
		for _, h := range m.Homes {
			c, err := node.LoadAppConfig(h.Dir)
			require.NoError(t, err)
			edit(h.Dir, &c)
			require.NoError(t, node.WriteAppConfig(h.Dir, c))
		}
	}
	nodes, err := networks.StartInProcess(m, io.Discard, "none", true)
	require.NoError(t, err)
	t.Cleanup(func() { networks.StopAll(nodes) })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := make([]gwNode, len(nodes))
	for i, n := range nodes {
		// Height 2: CometBFT reports a block stored before the app has
		// committed it; the first commit must be in state before any tx.
		require.NoError(t, networks.WaitHeight(ctx, n.RPCURL(), 2))
		out[i] = gwNode{n: n, home: m.Homes[i]}
	}
	return out
}

// operator submits msg signed with the seller's operator key.
func (g gwNode) operator(t *testing.T, msg any) *client.Result {
	t.Helper()
	key, err := node.LoadKey(g.home.Dir, node.OperatorKey)
	require.NoError(t, err)
	cl, err := client.Dial(context.Background(), g.n.RPCURL(), key)
	require.NoError(t, err)
	res, err := cl.Submit(context.Background(), msg, client.Options{})
	require.NoError(t, err)
	return res
}

// terminal creates a keyring key for id, registers it on chain with the
// operator key and returns its public key.
func (g gwNode) terminal(t *testing.T, id string) ed25519.PublicKey {
	t.Helper()
	pub, err := node.AddKey(g.home.Dir, id)
	require.NoError(t, err)
	res := g.operator(t, &types.MsgRegisterTerminal{TerminalId: id, Pubkey: pub})
	require.True(t, res.OK(), "register %s: %d %s", id, res.Code, res.Log)
	return pub
}

// token stores a new token for terminal (signing with the key of the same
// name) in the home's token file, as `gateway token create` does.
func (g gwNode) token(t *testing.T, terminal string, edit func(*gateway.TokenRecord)) (string, gateway.TokenRecord) {
	t.Helper()
	key, err := node.LoadKey(g.home.Dir, terminal)
	require.NoError(t, err)
	tok, rec, err := gateway.NewToken(g.home.SellerID, terminal, terminal, key.Public().(ed25519.PublicKey), time.Now())
	require.NoError(t, err)
	// Tests fire requests faster than a till; TestGatewayRateLimit sets
	// its own limits.
	rec.RatePerSecond, rec.Burst = 1000, 1000
	if edit != nil {
		edit(&rec)
	}
	require.NoError(t, gateway.AddToken(g.tokensPath(t), rec))
	return tok, rec
}

func (g gwNode) tokensPath(t *testing.T) string {
	c, err := node.LoadAppConfig(g.home.Dir)
	require.NoError(t, err)
	return c.Gateway.TokensPath(g.home.Dir)
}

// reply is one HTTP answer.
type reply struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (r reply) code() types.Code {
	c, _ := r.body["code"].(float64)
	return types.Code(c)
}

func (r reply) str(k string) string { s, _ := r.body[k].(string); return s }

func (r reply) num(k string) float64 { f, _ := r.body[k].(float64); return f }

var httpClient = &http.Client{Timeout: 60 * time.Second}

// req is one request to a gateway.
type req struct {
	method, path, token, idem, body string
	header                          map[string]string
	raw                             io.Reader // instead of body
}

func (g gwNode) do(t *testing.T, r req) reply {
	t.Helper()
	return doURL(t, httpClient, g.n.GatewayURL(), r)
}

func doURL(t *testing.T, hc *http.Client, base string, r req) reply {
	t.Helper()
	var body io.Reader = strings.NewReader(r.body)
	if r.raw != nil {
		body = r.raw
	}
	hr, err := http.NewRequest(r.method, base+r.path, body)
	require.NoError(t, err)
	if r.body != "" || r.raw != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.idem != "" {
		hr.Header.Set("Idempotency-Key", r.idem)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	resp, err := hc.Do(hr)
	require.NoError(t, err, "%s %s", r.method, r.path)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	require.NoError(t, json.Unmarshal(raw, &out.body), "%s %s answered %d with no JSON object: %s", r.method, r.path, resp.StatusCode, raw)
	// Every answer of every gateway test is held to the document.
	contractFor(t, hc, base).check(t, r.method, r.path, resp.StatusCode, resp.Header, raw)
	return out
}

func customerID(i int) string { return fmt.Sprintf("%064x", 0xc0ffee00+i) }

func balance(t *testing.T, g gwNode, tok, customer string) float64 {
	t.Helper()
	r := g.do(t, req{method: "GET", path: "/v1/customers/" + customer, token: tok})
	require.Equal(t, 200, r.status, r.raw)
	return r.num("points")
}

// committedSigner reads a transaction back from CometBFT's RPC and returns
// the key that signed it.
func committedSigner(t *testing.T, rpcURL, txHash string) []byte {
	t.Helper()
	c, err := rpchttp.New(rpcURL, "/websocket")
	require.NoError(t, err)
	h, err := hex.DecodeString(txHash)
	require.NoError(t, err)
	res, err := c.Tx(context.Background(), h, false)
	require.NoError(t, err)
	var tx types.Tx
	require.NoError(t, tx.Unmarshal(res.Tx))
	var body types.TxBody
	require.NoError(t, body.Unmarshal(tx.Body))
	return body.Signer
}

// TestGatewayBookings: each booking type over HTTP, its replay (same key,
// same body: the original answer, booked once) and its conflict (same
// key, other body: 409 naming the original), signed by the terminal's key.
func TestGatewayBookings(t *testing.T) {
	g := startGatewayNet(t, 1, nil)[0]
	termPub := g.terminal(t, "till-1")
	tok, _ := g.token(t, "till-1", nil)
	opKey, err := node.LoadKey(g.home.Dir, node.OperatorKey)
	require.NoError(t, err)
	cust := customerID(1)

	issue := g.do(t, req{method: "POST", path: "/v1/issue", token: tok, idem: "i-1",
		body: `{"customer_id":"` + cust + `","amount":"100.00","flow":` + pinFlow + `}`})
	require.Equal(t, 200, issue.status, issue.raw)
	require.Equal(t, float64(100), issue.num("points_issued"))
	require.Equal(t, "100.00", issue.str("seller_payment"))
	require.Equal(t, false, issue.body["replayed"])
	require.Equal(t, "till-1", issue.str("terminal_id"))
	purchase := issue.str("purchase_id")

	redeem := g.do(t, req{method: "POST", path: "/v1/redeem", token: tok, idem: "r-1",
		body: `{"customer_id":"` + cust + `","points":40,"bill_amount":"50.00","flow":` + pinFlow + `}`})
	require.Equal(t, 200, redeem.status, redeem.raw)
	require.Equal(t, float64(40), redeem.num("same_seller_points"))
	require.Equal(t, "40.00", redeem.str("system_payment"))
	require.Equal(t, "cvm", redeem.str("authorised_by"))
	redemption := redeem.str("redemption_id")

	void := g.do(t, req{method: "POST", path: "/v1/void", token: tok, idem: "v-1", body: `{"redemption_id":"` + redemption + `"}`})
	require.Equal(t, 200, void.status, void.raw)
	require.Equal(t, float64(40), void.num("points_restored"))
	require.Equal(t, float64(100), void.num("balance"))

	refund := g.do(t, req{method: "POST", path: "/v1/refund", token: tok, idem: "f-1", body: `{"purchase_id":"` + purchase + `","amount":"30.00"}`})
	require.Equal(t, 200, refund.status, refund.raw)
	require.Equal(t, "30.00", refund.str("refunded"))
	require.Equal(t, float64(30), refund.num("points_clawed_back"))
	require.Equal(t, float64(70), balance(t, g, tok, cust))

	// Every booking: the same request again is the original answer and
	// books nothing; the same key with another body is 409.
	for _, c := range []struct {
		name, path, key, same, other string
		orig                         reply
	}{
		{"issue", "/v1/issue", "i-1", `{"customer_id":"` + cust + `","amount":"100.00","flow":` + pinFlow + `}`,
			`{"customer_id":"` + cust + `","amount":"99.00","flow":` + pinFlow + `}`, issue},
		{"redeem", "/v1/redeem", "r-1", `{"customer_id":"` + cust + `","points":40,"bill_amount":"50.00","flow":` + pinFlow + `}`,
			`{"customer_id":"` + cust + `","points":41,"bill_amount":"50.00","flow":` + pinFlow + `}`, redeem},
		{"void", "/v1/void", "v-1", `{"redemption_id":"` + redemption + `"}`, `{"redemption_id":"` + purchase + `"}`, void},
		{"refund", "/v1/refund", "f-1", `{"purchase_id":"` + purchase + `","amount":"30.00"}`, `{"purchase_id":"` + purchase + `","amount":"1.00"}`, refund},
	} {
		t.Run(c.name, func(t *testing.T) {
			again := g.do(t, req{method: "POST", path: c.path, token: tok, idem: c.key, body: c.same})
			require.Equal(t, 200, again.status, again.raw)
			require.Equal(t, true, again.body["replayed"])
			require.Equal(t, "true", again.header.Get("Idempotent-Replayed"), "a replay says so in a header too")
			require.Empty(t, c.orig.header.Values("Idempotent-Replayed"), "the booking itself is no replay")
			require.Equal(t, c.orig.str("tx_hash"), again.str("tx_hash"))
			for k, v := range c.orig.body {
				if k != "replayed" {
					require.Equal(t, v, again.body[k], "replayed field %s", k)
				}
			}
			conflict := g.do(t, req{method: "POST", path: c.path, token: tok, idem: c.key, body: c.other})
			require.Equal(t, 409, conflict.status, conflict.raw)
			require.Equal(t, types.CodeIdempotencyConflict, conflict.code())
			require.Equal(t, c.orig.str("tx_hash"), conflict.str("conflict_with"))
			// The other operation's result is never the answer.
			require.Nil(t, conflict.body["points_issued"])
			// A key used by one booking type is a conflict for another too.
			cross := g.do(t, req{method: "POST", path: "/v1/issue", token: tok, idem: c.key,
				body: `{"customer_id":"` + cust + `","amount":"5.00"}`})
			if c.name != "issue" {
				require.Equal(t, 409, cross.status, cross.raw)
				require.Equal(t, c.orig.str("tx_hash"), cross.str("conflict_with"))
			}
			// The chain records the terminal as the signer, never the operator.
			signer := committedSigner(t, g.n.RPCURL(), c.orig.str("tx_hash"))
			require.Equal(t, []byte(termPub), signer)
			require.NotEqual(t, []byte(opKey.Public().(ed25519.PublicKey)), signer)
		})
	}
	require.Equal(t, float64(70), balance(t, g, tok, cust), "replays booked nothing")

	// A redemption without a flow verified nothing: a new card has no
	// reputation, so the CRMS asks for verification.
	nf := g.do(t, req{method: "POST", path: "/v1/redeem", token: tok, idem: "r-2",
		body: `{"customer_id":"` + cust + `","points":10,"bill_amount":"10.00"}`})
	require.Equal(t, 422, nf.status, nf.raw)
	require.Equal(t, types.CodeCVMRequired, nf.code())
	require.Len(t, nf.str("tx_hash"), 64)
	// A contradictory flow is refused, not booked.
	bad := g.do(t, req{method: "POST", path: "/v1/issue", token: tok, idem: "i-2",
		body: `{"customer_id":"` + cust + `","amount":"10.00","flow":{"read_type":"contact-emv","cvm":"wrong-pin-aborted","auth":"approved"}}`})
	require.Equal(t, 422, bad.status, bad.raw)
	require.Equal(t, types.CodeInvalidArgument, bad.code())
	// An issue without a flow books points and records nothing verified.
	plain := g.do(t, req{method: "POST", path: "/v1/issue", token: tok, idem: "i-3", body: `{"customer_id":"` + cust + `","amount":"10.00"}`})
	require.Equal(t, 200, plain.status, plain.raw)
	// A context within the bounds is taken (and signed into the purchase).
	withCtx := g.do(t, req{method: "POST", path: "/v1/issue", token: tok, idem: "i-5", body: `{"customer_id":"` + cust + `","amount":"10.00","context_nano":1500000000}`})
	require.Equal(t, 200, withCtx.status, withCtx.raw)
	// A bound is the chain's: code 9.
	big := g.do(t, req{method: "POST", path: "/v1/issue", token: tok, idem: "i-4", body: `{"customer_id":"` + cust + `","amount":"100000000.00"}`})
	require.Equal(t, 422, big.status, big.raw)
	require.Equal(t, types.CodeInvalidAmount, big.code())

	// The submission's status, and the reads.
	st := g.do(t, req{method: "GET", path: "/v1/tx/" + strings.ToUpper(issue.str("tx_hash")), token: tok})
	require.Equal(t, 200, st.status, st.raw)
	require.Equal(t, "committed", st.str("status"))
	require.Equal(t, "purchase", st.str("msg_type"))
	require.Equal(t, hex.EncodeToString(termPub), st.str("signer"))
	require.Equal(t, float64(100), st.body["issue"].(map[string]any)["points_issued"])
	unknown := g.do(t, req{method: "GET", path: "/v1/tx/" + strings.Repeat("ab", 32), token: tok})
	require.Equal(t, "unknown", unknown.str("status"), unknown.raw)

	hist := g.do(t, req{method: "GET", path: "/v1/customers/" + cust + "/history?limit=2", token: tok})
	require.Equal(t, 200, hist.status, hist.raw)
	require.Len(t, hist.body["entries"], 2)
	require.Equal(t, "earn", hist.body["entries"].([]any)[0].(map[string]any)["kind"])

	dec := g.do(t, req{method: "GET", path: "/v1/crms/decision?customer_id=" + cust + "&amount=20.00", token: tok})
	require.Equal(t, 200, dec.status, dec.raw)
	require.Equal(t, g.home.SellerID, dec.str("seller_id"))
	require.Equal(t, "20.00", dec.str("amount"), "the decision is about the amount asked")
	require.NotEmpty(t, dec.str("reason"))

	sts := g.do(t, req{method: "GET", path: "/v1/statements", token: tok})
	require.Equal(t, 200, sts.status, sts.raw)
	open := sts.body["open_epoch"].(map[string]any)["epoch"].(float64)
	notYet := g.do(t, req{method: "GET", path: fmt.Sprintf("/v1/statements/%d", uint64(open)), token: tok})
	require.Equal(t, 404, notYet.status, notYet.raw)
	require.Equal(t, types.CodeNotFound, notYet.code())
	day := time.Unix(int64(open)*86400, 0).UTC().Format("2006-01-02")
	byDate := g.do(t, req{method: "GET", path: "/v1/statements/" + day, token: tok})
	require.Equal(t, 404, byDate.status, byDate.raw)
	require.Contains(t, byDate.str("message"), fmt.Sprintf("epoch %d", uint64(open)), "a date names its day's epoch")

	health := g.do(t, req{method: "GET", path: "/healthz"})
	require.Equal(t, 200, health.status)
	require.Equal(t, "ok", health.str("status"))
}

// TestGatewayBadRequests: every malformed request is refused before
// anything is signed, with its status, the SPEC code and a message that
// speaks JSON, not Go.
func TestGatewayBadRequests(t *testing.T) {
	g := startGatewayNet(t, 1, nil)[0]
	g.terminal(t, "till-1")
	tok, _ := g.token(t, "till-1", nil)
	cust := customerID(3)
	okIssue := `{"customer_id":"` + cust + `","amount":"10.00"}`
	ten := bytes.Repeat([]byte(" "), 10<<20)
	for _, c := range []struct {
		name   string
		r      req
		status int
		code   types.Code
		want   string // in the message
	}{
		{"trailing JSON", req{method: "POST", path: "/v1/issue", idem: "b1", body: okIssue + `{"customer_id":"x","amount":"99.00"}`}, 400, types.CodeInvalidArgument, "after the JSON object"},
		// A name twice: a proxy or a POS log that keeps the first "amount"
		// would see Rs 1 where the ledger would book Rs 500. Refused on
		// every body route, naming the member.
		{"duplicate amount", req{method: "POST", path: "/v1/issue", idem: "b1", body: `{"customer_id":"` + cust + `","amount":"1.00","amount":"500.00"}`}, 400, types.CodeInvalidArgument, `amount: duplicate member name "amount"`},
		{"duplicate in the flow", req{method: "POST", path: "/v1/issue", idem: "b1", body: `{"customer_id":"` + cust + `","amount":"1.00","flow":{"read_type":"magstripe","read_type":"contact-emv","cvm":"pin-online","auth":"approved"}}`}, 400, types.CodeInvalidArgument, "flow.read_type: duplicate member name"},
		{"duplicate points", req{method: "POST", path: "/v1/redeem", idem: "b1", body: `{"customer_id":"` + cust + `","points":1,"points":40,"bill_amount":"50.00"}`}, 400, types.CodeInvalidArgument, `points: duplicate member name "points"`},
		{"duplicate refund amount", req{method: "POST", path: "/v1/refund", idem: "b1", body: `{"purchase_id":"` + strings.Repeat("0", 64) + `","amount":"1.00","amount":"9.00"}`}, 400, types.CodeInvalidArgument, `amount: duplicate member name "amount"`},
		{"duplicate redemption id", req{method: "POST", path: "/v1/void", idem: "b1", body: `{"redemption_id":"` + strings.Repeat("0", 64) + `","redemption_id":"` + strings.Repeat("1", 64) + `"}`}, 400, types.CodeInvalidArgument, `redemption_id: duplicate member name`},
		// The context multiplier is checked whatever the flow: the ledger
		// asks the CRMS (which checks it) only without a verified PIN.
		{"issue context out of range with a PIN", req{method: "POST", path: "/v1/issue", idem: "b1", body: `{"customer_id":"` + cust + `","amount":"1.00","flow":` + pinFlow + `,"context_nano":5000000000}`}, 400, types.CodeInvalidArgument, "context_nano 5000000000 is outside"},
		{"issue context out of range without a flow", req{method: "POST", path: "/v1/issue", idem: "b1", body: `{"customer_id":"` + cust + `","amount":"1.00","context_nano":-1}`}, 400, types.CodeInvalidArgument, "context_nano -1 is outside"},
		{"redeem context out of range with a PIN", req{method: "POST", path: "/v1/redeem", idem: "b1", body: `{"customer_id":"` + cust + `","points":1,"bill_amount":"1.00","flow":` + pinFlow + `,"context_nano":5000000000}`}, 400, types.CodeInvalidArgument, "context_nano 5000000000 is outside"},
		{"redeem context out of range without a PIN", req{method: "POST", path: "/v1/redeem", idem: "b1", body: `{"customer_id":"` + cust + `","points":1,"bill_amount":"1.00","context_nano":-5}`}, 400, types.CodeInvalidArgument, "context_nano -5 is outside"},
		{"trailing garbage", req{method: "POST", path: "/v1/issue", idem: "b1", body: okIssue + ` x`}, 400, types.CodeInvalidArgument, "after the JSON object"},
		{"10 MB body", req{method: "POST", path: "/v1/issue", idem: "b1", raw: bytes.NewReader(ten)}, 413, types.CodeInvalidArgument, "larger than the limit of 16384 bytes"},
		{"10 MB body, chunked", req{method: "POST", path: "/v1/issue", idem: "b1", raw: io.MultiReader(bytes.NewReader(ten))}, 413, types.CodeInvalidArgument, "larger than the limit of 16384 bytes"},
		{"just above the limit", req{method: "POST", path: "/v1/issue", idem: "b1", body: okIssue[:len(okIssue)-1] + strings.Repeat(" ", 16385-len(okIssue)) + "}"}, 413, types.CodeInvalidArgument, "larger than the limit"},
		{"not JSON", req{method: "POST", path: "/v1/issue", idem: "b1", body: `{customer_id: 1}`}, 400, types.CodeInvalidArgument, "not valid JSON"},
		{"truncated", req{method: "POST", path: "/v1/issue", idem: "b1", body: `{"customer_id":`}, 400, types.CodeInvalidArgument, "ends before"},
		{"array body", req{method: "POST", path: "/v1/issue", idem: "b1", body: `[1]`}, 400, types.CodeInvalidArgument, "expected object"},
		{"unknown field", req{method: "POST", path: "/v1/issue", idem: "b1", body: `{"customer_id":"` + cust + `","amount":"1.00","pin_verified":true}`}, 400, types.CodeInvalidArgument, "pin_verified"},
		{"amount as a number", req{method: "POST", path: "/v1/issue", idem: "b1", body: `{"customer_id":"` + cust + `","amount":100}`}, 400, types.CodeInvalidArgument, "body.amount: expected string"},
		{"amount with 3 decimals", req{method: "POST", path: "/v1/issue", idem: "b1", body: `{"customer_id":"` + cust + `","amount":"1.005"}`}, 400, types.CodeInvalidArgument, "amount"},
		{"points as a string", req{method: "POST", path: "/v1/redeem", idem: "b1", body: `{"customer_id":"` + cust + `","points":"40","bill_amount":"50.00"}`}, 400, types.CodeInvalidArgument, "body.points: expected integer"},
		{"points negative", req{method: "POST", path: "/v1/redeem", idem: "b1", body: `{"customer_id":"` + cust + `","points":-1,"bill_amount":"50.00"}`}, 400, types.CodeInvalidArgument, "body.points"},
		{"points too large", req{method: "POST", path: "/v1/redeem", idem: "b1", body: `{"customer_id":"` + cust + `","points":1e30,"bill_amount":"50.00"}`}, 400, types.CodeInvalidArgument, "points"},
		{"points fractional", req{method: "POST", path: "/v1/redeem", idem: "b1", body: `{"customer_id":"` + cust + `","points":1.5,"bill_amount":"50.00"}`}, 400, types.CodeInvalidArgument, "body.points"},
		{"enum as an integer", req{method: "POST", path: "/v1/issue", idem: "b1", body: `{"customer_id":"` + cust + `","amount":"1.00","flow":{"read_type":6,"cvm":"pin-online","auth":"approved"}}`}, 400, types.CodeInvalidArgument, "body.flow.read_type: expected string"},
		{"unknown enum name", req{method: "POST", path: "/v1/issue", idem: "b1", body: `{"customer_id":"` + cust + `","amount":"1.00","flow":{"read_type":"chip","cvm":"pin-online","auth":"approved"}}`}, 400, types.CodeInvalidArgument, "body.flow.read_type"},
		{"flow missing a field", req{method: "POST", path: "/v1/issue", idem: "b1", body: `{"customer_id":"` + cust + `","amount":"1.00","flow":{"cvm":"pin-online","auth":"approved"}}`}, 400, types.CodeInvalidArgument, "read_type"},
		{"customer id with /", req{method: "POST", path: "/v1/issue", idem: "b1", body: `{"customer_id":"a/b","amount":"1.00"}`}, 400, types.CodeInvalidArgument, "customer id"},
		{"missing customer", req{method: "POST", path: "/v1/issue", idem: "b1", body: `{"amount":"1.00"}`}, 400, types.CodeInvalidArgument, "customer_id"},
		{"missing Idempotency-Key", req{method: "POST", path: "/v1/issue", body: okIssue}, 400, types.CodeInvalidArgument, "Idempotency-Key"},
		{"Idempotency-Key with a space", req{method: "POST", path: "/v1/issue", idem: "a b", body: okIssue}, 400, types.CodeInvalidArgument, "Idempotency-Key"},
		{"Idempotency-Key too long", req{method: "POST", path: "/v1/issue", idem: strings.Repeat("k", 65), body: okIssue}, 400, types.CodeInvalidArgument, "Idempotency-Key"},
		{"bad payment time", req{method: "POST", path: "/v1/issue", idem: "b1", body: `{"customer_id":"` + cust + `","amount":"1.00","payment_time":"yesterday"}`}, 400, types.CodeInvalidArgument, "payment_time"},
		{"refund id not hex", req{method: "POST", path: "/v1/refund", idem: "b1", body: `{"purchase_id":"xyz"}`}, 400, types.CodeInvalidArgument, "purchase_id"},
		{"zero refund", req{method: "POST", path: "/v1/refund", idem: "b1", body: `{"purchase_id":"` + strings.Repeat("0", 64) + `","amount":"0.00"}`}, 400, types.CodeInvalidArgument, "positive"},
		{"text body", req{method: "POST", path: "/v1/issue", idem: "b1", body: okIssue, header: map[string]string{"Content-Type": "text/plain"}}, 415, types.CodeInvalidArgument, "content type"},
		{"customer path with /", req{method: "GET", path: "/v1/customers/a%2Fb"}, 400, types.CodeInvalidArgument, "customer id"},
		{"customer path too long", req{method: "GET", path: "/v1/customers/" + strings.Repeat("a", 65)}, 400, types.CodeInvalidArgument, "path.id"},
		{"history limit 0", req{method: "GET", path: "/v1/customers/" + cust + "/history?limit=0"}, 400, types.CodeInvalidArgument, "limit"},
		{"history page not a number", req{method: "GET", path: "/v1/customers/" + cust + "/history?page=x"}, 400, types.CodeInvalidArgument, "page"},
		// The old gateway built the decision's query path from the customer
		// id: "x/1000" answered for Rs 10 when asked about Rs 1. Now ids are
		// checked and the decision is asked with typed arguments.
		{"decision customer with /", req{method: "GET", path: "/v1/crms/decision?customer_id=c0ffee%2F1000&amount=1.00"}, 400, types.CodeInvalidArgument, "customer id"},
		{"decision without amount", req{method: "GET", path: "/v1/crms/decision?customer_id=" + cust}, 400, types.CodeInvalidArgument, "amount"},
		{"decision amount as paise", req{method: "GET", path: "/v1/crms/decision?customer_id=" + cust + "&amount=1.001"}, 400, types.CodeInvalidArgument, "amount"},
		{"issue context out of range", req{method: "POST", path: "/v1/issue", idem: "b1", body: `{"customer_id":"` + cust + `","amount":"1.00","context_nano":-5}`}, 400, types.CodeInvalidArgument, "context"},
		{"decision context out of range", req{method: "GET", path: "/v1/crms/decision?customer_id=" + cust + "&amount=1.00&context_nano=-5"}, 400, types.CodeInvalidArgument, "context_nano -5 is outside"},
		{"decision context above the bound", req{method: "GET", path: "/v1/crms/decision?customer_id=" + cust + "&amount=1.00&context_nano=2000000001"}, 400, types.CodeInvalidArgument, "x2.000000001"},
		{"unknown query parameter", req{method: "GET", path: "/v1/crms/decision?customer_id=" + cust + "&amount=1.00&seller_id=x"}, 400, types.CodeInvalidArgument, "seller_id"},
		{"tx hash too short", req{method: "GET", path: "/v1/tx/abc"}, 400, types.CodeInvalidArgument, "64 hex"},
		{"tx hash not hex", req{method: "GET", path: "/v1/tx/" + strings.Repeat("zz", 32)}, 400, types.CodeInvalidArgument, "64 hex"},
		{"epoch neither number nor date", req{method: "GET", path: "/v1/statements/yesterday"}, 400, types.CodeInvalidArgument, "epoch"},
		{"epoch date malformed", req{method: "GET", path: "/v1/statements/2026-13-40"}, 400, types.CodeInvalidArgument, "epoch"},
		{"unknown route", req{method: "GET", path: "/v1/balance/" + cust}, 404, types.CodeNotFound, "no route"},
		{"wrong method", req{method: "GET", path: "/v1/issue"}, 405, types.CodeInvalidArgument, "POST"},
		// Go's ServeMux would redirect these to another route.
		{"dot segment", req{method: "GET", path: "/v1/tx/.?0"}, 400, types.CodeInvalidArgument, "malformed path"},
		{"dot-dot segment", req{method: "GET", path: "/v1/customers/x/../../statements"}, 400, types.CodeInvalidArgument, "malformed path"},
		{"empty segment", req{method: "GET", path: "/v1//statements"}, 400, types.CodeInvalidArgument, "malformed path"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.r.token = tok
			r := g.do(t, c.r)
			require.Equal(t, c.status, r.status, r.raw)
			require.Equal(t, c.code, r.code(), r.raw)
			require.Equal(t, c.code.Name(), r.str("code_name"))
			require.Contains(t, r.str("message"), c.want)
			for _, leak := range []string{"uint64", "int64", "Go struct", "Go value", "gateway.", "json: ", "reflect"} {
				require.NotContains(t, r.str("message"), leak, "the message leaks an implementation detail")
			}
			// Exactly the error shape (and its optional transaction fields).
			for k := range r.body {
				require.Contains(t, []string{"code", "code_name", "message", "tx_hash", "conflict_with"}, k)
			}
		})
	}
	require.Equal(t, float64(0), balance(t, g, tok, cust), "no malformed request booked anything")
}

// TestGatewayCredentials: per-terminal tokens, refused at once when
// revoked locally or on chain, never acting for another terminal.
func TestGatewayCredentials(t *testing.T) {
	g := startGatewayNet(t, 1, nil)[0]
	g.terminal(t, "till-1")
	g.terminal(t, "till-2")
	tok1, rec1 := g.token(t, "till-1", nil)
	tok2, _ := g.token(t, "till-2", nil)
	cust := customerID(4)
	issue := func(tok, idem, extra string) reply {
		return g.do(t, req{method: "POST", path: "/v1/issue", token: tok, idem: idem,
			body: `{"customer_id":"` + cust + `","amount":"10.00"` + extra + `}`})
	}

	none := g.do(t, req{method: "GET", path: "/v1/statements"})
	require.Equal(t, 401, none.status, none.raw)
	require.Equal(t, types.CodeUnknownSigner, none.code())
	require.Contains(t, none.header.Get("WWW-Authenticate"), "Bearer")
	garbage := g.do(t, req{method: "GET", path: "/v1/statements", token: "0123456789abcdef0123456789abcdef"})
	require.Equal(t, 401, garbage.status, garbage.raw)
	forged := g.do(t, req{method: "GET", path: "/v1/statements", token: tok1[:len(tok1)-4] + "0000"})
	require.Equal(t, 401, forged.status, forged.raw)

	// The scheme is case-insensitive (RFC 9110 §11.1).
	for _, scheme := range []string{"bearer", "BEARER", "Bearer"} {
		r := g.do(t, req{method: "GET", path: "/v1/statements", header: map[string]string{"Authorization": scheme + " " + tok1}})
		require.Equal(t, 200, r.status, "%s: %s", scheme, r.raw)
	}
	basic := g.do(t, req{method: "GET", path: "/v1/statements", header: map[string]string{"Authorization": "Basic " + tok1}})
	require.Equal(t, 401, basic.status, basic.raw)

	// A token acts as its own terminal only.
	require.Equal(t, 200, issue(tok1, "c-1", "").status)
	other := issue(tok1, "c-2", `,"terminal_id":"till-2"`)
	require.Equal(t, 403, other.status, other.raw)
	require.Equal(t, types.CodeUnauthorized, other.code())
	unreg := issue(tok1, "c-3", `,"terminal_id":"till-9"`)
	require.Equal(t, 403, unreg.status, unreg.raw)
	// A token whose terminal was never registered on chain does nothing.
	_, err := node.AddKey(g.home.Dir, "ghost")
	require.NoError(t, err)
	ghost, _ := g.token(t, "ghost", nil)
	gr := issue(ghost, "c-4", "")
	require.Equal(t, 401, gr.status, gr.raw)
	require.Equal(t, types.CodeUnknownSigner, gr.code())
	require.Contains(t, gr.str("message"), "not registered")

	// Revoked in the token file: refused on the running gateway at once.
	revoked, err := gateway.RevokeTokens(g.tokensPath(t), func(r *gateway.TokenRecord) bool { return r.ID == rec1.ID }, time.Now())
	require.NoError(t, err)
	require.Len(t, revoked, 1)
	r := issue(tok1, "c-5", "")
	require.Equal(t, 401, r.status, r.raw)
	require.Equal(t, types.CodeUnknownSigner, r.code())
	require.Equal(t, 200, issue(tok2, "c-6", "").status, "other tokens keep working")

	// Revoked on chain: refused at once, whatever the token file says.
	res := g.operator(t, &types.MsgRevokeTerminal{TerminalId: "till-2"})
	require.True(t, res.OK(), res.Log)
	r = issue(tok2, "c-7", "")
	require.Equal(t, 401, r.status, r.raw)
	require.Equal(t, types.CodeUnknownSigner, r.code())
	require.Contains(t, r.str("message"), "revoked on chain")
	require.Equal(t, float64(20), balance(t, g, ghostFree(t, g), cust), "only the two accepted purchases were booked")
}

// ghostFree is a working token for reads after the test's revocations.
func ghostFree(t *testing.T, g gwNode) string {
	g.terminal(t, "till-3")
	tok, _ := g.token(t, "till-3", nil)
	return tok
}

// TestGatewayOtherSeller: seller A's terminal token on seller B's gateway
// is 403 (it is a valid credential, for another gateway), and B's gateway
// never acts for A's terminal. Then, with B down, a booking on A that
// cannot commit is 504 with its hash, and that hash is pending.
func TestGatewayOtherSeller(t *testing.T) {
	ns := startGatewayNet(t, 2, func(_ string, c *node.AppConfig) { c.Gateway.CommitTimeoutSeconds = 3 })
	a, b := ns[0], ns[1]
	a.terminal(t, "till-a")
	tokA, _ := a.token(t, "till-a", nil)
	b.terminal(t, "till-b")
	tokB, _ := b.token(t, "till-b", nil)

	r := b.do(t, req{method: "POST", path: "/v1/issue", token: tokA, idem: "x-1", body: `{"customer_id":"` + customerID(5) + `","amount":"10.00"}`})
	require.Equal(t, 403, r.status, r.raw)
	require.Equal(t, types.CodeUnauthorized, r.code())
	require.Contains(t, r.str("message"), a.home.SellerID)
	// B's own terminal cannot name A's terminal.
	r = b.do(t, req{method: "POST", path: "/v1/issue", token: tokB, idem: "x-2",
		body: `{"customer_id":"` + customerID(5) + `","amount":"10.00","terminal_id":"till-a"}`})
	require.Equal(t, 403, r.status, r.raw)
	// Each works on its own seller's gateway.
	r = a.do(t, req{method: "POST", path: "/v1/issue", token: tokA, idem: "x-3", body: `{"customer_id":"` + customerID(5) + `","amount":"10.00"}`})
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, a.home.SellerID, r.str("seller_id"))
	issued := r
	red := a.do(t, req{method: "POST", path: "/v1/redeem", token: tokA, idem: "x-5",
		body: `{"customer_id":"` + customerID(5) + `","points":2,"bill_amount":"5.00","flow":` + pinFlow + `}`})
	require.Equal(t, 200, red.status, red.raw)

	// A's objects are not B's to touch: 403, as for every other
	// credential that is valid but not for this object.
	r = b.do(t, req{method: "POST", path: "/v1/refund", token: tokB, idem: "x-6", body: `{"purchase_id":"` + issued.str("purchase_id") + `"}`})
	require.Equal(t, 403, r.status, r.raw)
	require.Equal(t, types.CodeUnauthorized, r.code())
	require.Contains(t, r.str("message"), a.home.SellerID)
	// B's node applies A's redemption block a moment after A answers
	// (README, known limits): wait until B's app has committed it (the
	// block after it exists) so that B's answer is about ownership.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, networks.WaitHeight(ctx, b.n.RPCURL(), int64(red.num("height"))+1))
	r = b.do(t, req{method: "POST", path: "/v1/void", token: tokB, idem: "x-7", body: `{"redemption_id":"` + red.str("redemption_id") + `"}`})
	require.Equal(t, 403, r.status, r.raw)
	require.Equal(t, types.CodeUnauthorized, r.code())

	// A's gateway shows A's transaction in full, as its own seller's and
	// terminal's; B's gateway answers it with its status alone.
	mine := a.do(t, req{method: "GET", path: "/v1/tx/" + red.str("tx_hash"), token: tokA})
	require.Equal(t, 200, mine.status, mine.raw)
	require.Equal(t, a.home.SellerID, mine.str("seller_id"))
	require.Equal(t, "till-a", mine.str("terminal_id"))
	rd := mine.body["redeem"].(map[string]any)
	require.Equal(t, a.home.SellerID, rd["seller_id"])
	require.Equal(t, "till-a", rd["terminal_id"])
	theirs := b.do(t, req{method: "GET", path: "/v1/tx/" + red.str("tx_hash"), token: tokB})
	require.Equal(t, 200, theirs.status, theirs.raw)
	require.Equal(t, "committed", theirs.str("status"))
	require.Equal(t, mine.num("height"), theirs.num("height"))
	for k := range theirs.body {
		require.Contains(t, []string{"tx_hash", "status", "height"}, k, "another seller's transaction: status only, not %s", k)
	}

	// With B stopped the chain cannot commit (half the voting power): a
	// booking is accepted into A's mempool, its commit is not seen in time
	// (504 with the hash to poll), and its status is pending.
	b.n.Stop()
	r = a.do(t, req{method: "POST", path: "/v1/issue", token: tokA, idem: "x-4", body: `{"customer_id":"` + customerID(5) + `","amount":"10.00"}`})
	require.Equal(t, 504, r.status, r.raw)
	require.Equal(t, types.CodeNotCommitted, r.code())
	require.Len(t, r.str("tx_hash"), 64)
	st := a.do(t, req{method: "GET", path: "/v1/tx/" + r.str("tx_hash"), token: tokA})
	require.Equal(t, 200, st.status, st.raw)
	require.Equal(t, "pending", st.str("status"))
}

// TestGatewayRateLimit: a token over its rate gets 429 with Retry-After;
// another token is not affected.
func TestGatewayRateLimit(t *testing.T) {
	g := startGatewayNet(t, 1, nil)[0]
	g.terminal(t, "till-1")
	g.terminal(t, "till-2")
	slow, _ := g.token(t, "till-1", func(r *gateway.TokenRecord) { r.RatePerSecond, r.Burst = 0.001, 3 })
	other, _ := g.token(t, "till-2", nil)
	for i := range 3 {
		r := g.do(t, req{method: "GET", path: "/v1/statements", token: slow})
		require.Equal(t, 200, r.status, "request %d: %s", i, r.raw)
	}
	r := g.do(t, req{method: "GET", path: "/v1/statements", token: slow})
	require.Equal(t, 429, r.status, r.raw)
	require.Equal(t, types.CodeRateLimited, r.code())
	require.NotEmpty(t, r.header.Get("Retry-After"))
	require.Equal(t, 200, g.do(t, req{method: "GET", path: "/v1/statements", token: other}).status)
}

// TestGatewayConcurrentDuplicates: twenty identical requests at once, one
// key and one body: one booking, and exactly one answer says so; the other
// nineteen are replays (body and header).
func TestGatewayConcurrentDuplicates(t *testing.T) {
	g := startGatewayNet(t, 1, nil)[0]
	g.terminal(t, "till-1")
	tok, _ := g.token(t, "till-1", nil)
	cust := customerID(30)
	body := `{"customer_id":"` + cust + `","amount":"25.00","flow":` + pinFlow + `}`
	type answer struct {
		status int
		header http.Header
		raw    []byte
		err    error
	}
	const n = 20
	answers := make(chan answer, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			hr, err := http.NewRequest("POST", g.n.GatewayURL()+"/v1/issue", strings.NewReader(body))
			if err != nil {
				answers <- answer{err: err}
				return
			}
			hr.Header.Set("Authorization", "Bearer "+tok)
			hr.Header.Set("Content-Type", "application/json")
			hr.Header.Set("Idempotency-Key", "same-key")
			resp, err := httpClient.Do(hr)
			if err != nil {
				answers <- answer{err: err}
				return
			}
			raw, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			answers <- answer{status: resp.StatusCode, header: resp.Header, raw: raw, err: err}
		}()
	}
	close(start)
	c := contractFor(t, httpClient, g.n.GatewayURL())
	booked, replayed, hashes := 0, 0, map[string]bool{}
	for range n {
		a := <-answers
		require.NoError(t, a.err)
		require.Equal(t, 200, a.status, "%s", a.raw)
		c.check(t, "POST", "/v1/issue", a.status, a.header, a.raw)
		var b map[string]any
		require.NoError(t, json.Unmarshal(a.raw, &b))
		hashes[b["tx_hash"].(string)] = true
		if b["replayed"] == true {
			replayed++
			require.Equal(t, "true", a.header.Get("Idempotent-Replayed"))
		} else {
			booked++
			require.Empty(t, a.header.Values("Idempotent-Replayed"))
		}
	}
	require.Equal(t, 1, booked, "exactly one answer books")
	require.Equal(t, n-1, replayed)
	require.Len(t, hashes, 1, "every answer names the one transaction")
	require.Equal(t, float64(25), balance(t, g, tok, cust), "booked once")
}
