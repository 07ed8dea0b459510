package gateway_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/node/gateway"
	"github.com/bytepoints/bytepoints/types"
	rpclocal "github.com/cometbft/cometbft/rpc/client/local"
	"github.com/stretchr/testify/require"
)

// The intents are tested on a real one-validator node in this process:
// the gateway is built over the node's app and in-process RPC (as the node
// builds its own) and served over a real socket, so the test can keep a
// handle on it (a restart, a tampered intent).

const pinFlow = `{"read_type":"contact-emv","cvm":"pin-online","auth":"approved"}`

type walletNet struct {
	n       *node.Node
	home    string
	seller  string
	chainID string
	tokens  string // token file
	intents string // intents file
	gw      *gateway.Server
	srv     *httptest.Server
	url     string
	tok     string // till-1's bearer token
}

func startWalletNet(t *testing.T, tls bool) *walletNet {
	t.Helper()
	plan, err := node.FreePortPlan(1)
	require.NoError(t, err)
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 1, Output: filepath.Join(t.TempDir(), "net"),
		Ports: plan, TimeoutCommit: 200 * time.Millisecond, Invariants: true})
	require.NoError(t, err)
	n, err := node.New(m.Homes[0].Dir, node.Options{LogLevel: "none", NoMetrics: true})
	require.NoError(t, err)
	require.NoError(t, n.Start())
	t.Cleanup(n.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Height 2: the first commit must be in state before any tx.
	require.NoError(t, networks.WaitHeight(ctx, n.RPCURL(), 2))
	w := &walletNet{n: n, home: m.Homes[0].Dir, seller: m.Homes[0].SellerID, chainID: n.Genesis.ChainID,
		tokens: filepath.Join(t.TempDir(), "tokens.json")}
	w.intents = filepath.Join(filepath.Dir(w.tokens), "gateway_intents.json")

	// A till: a keyring key registered on chain, and its token.
	pub, err := node.AddKey(w.home, "till-1")
	require.NoError(t, err)
	op, err := node.LoadKey(w.home, node.OperatorKey)
	require.NoError(t, err)
	cl, err := client.Dial(ctx, n.RPCURL(), op)
	require.NoError(t, err)
	res, err := cl.Submit(ctx, &types.MsgRegisterTerminal{TerminalId: "till-1", Pubkey: pub}, client.Options{})
	require.NoError(t, err)
	require.True(t, res.OK(), "register: %d %s", res.Code, res.Log)
	tok, rec, err := gateway.NewToken(w.seller, "till-1", "till-1", pub, time.Now())
	require.NoError(t, err)
	rec.RatePerSecond, rec.Burst = 1000, 1000
	require.NoError(t, gateway.AddToken(w.tokens, rec))
	w.tok = tok

	w.gw = w.newGateway(t)
	w.srv = httptest.NewUnstartedServer(w.gw.Handler())
	if tls {
		w.srv.StartTLS()
	} else {
		w.srv.Start()
	}
	t.Cleanup(w.srv.Close)
	w.url = w.srv.URL
	return w
}

// newGateway builds a gateway over the node, on the same token and intents
// files (a second one is the first restarted).
func (w *walletNet) newGateway(t *testing.T) *gateway.Server {
	t.Helper()
	gw, err := gateway.New(gateway.Config{SellerID: w.seller, TokensPath: w.tokens, IntentTTL: time.Minute,
		PublicRatePerSecond: 1000, PublicBurst: 1000},
		gateway.Deps{App: w.n.App, RPC: rpclocal.New(w.n.Comet), ChainID: w.chainID, LoadKey: w.n.LoadKey})
	require.NoError(t, err)
	return gw
}

type answer struct {
	status int
	raw    string
	body   map[string]any
}

func (a answer) str(k string) string  { s, _ := a.body[k].(string); return s }
func (a answer) num(k string) float64 { f, _ := a.body[k].(float64); return f }

func (w *walletNet) do(t *testing.T, method, path, token, idem, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, w.url+path, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := w.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

// till makes a request as till-1.
func (w *walletNet) till(t *testing.T, method, path, idem, body string) answer {
	return w.do(t, method, path, w.tok, idem, body)
}

// earn gives the customer points with a purchase that verified nothing
// (an unrated payment: the CRMS then skips no verification for this card,
// so its redemptions need the wallet).
func (w *walletNet) earn(t *testing.T, customer string, rupees string) uint64 {
	t.Helper()
	a := w.till(t, "POST", "/v1/issue", "earn-"+customer+"-"+rupees, fmt.Sprintf(`{"customer_id":%q,"amount":%q}`, customer, rupees))
	require.Equal(t, 200, a.status, a.raw)
	require.NotZero(t, a.num("points_issued"))
	return uint64(a.num("points_issued"))
}

func (w *walletNet) bind(t *testing.T, customer string, pub ed25519.PublicKey, proof []byte) answer {
	t.Helper()
	return w.till(t, "POST", "/v1/wallet-bindings", "bind-"+hex.EncodeToString(pub[:6]),
		fmt.Sprintf(`{"customer_id":%q,"wallet_pubkey":%q,"proof":%q,"flow":%s}`, customer, hex.EncodeToString(pub), base64.StdEncoding.EncodeToString(proof), pinFlow))
}

func (w *walletNet) intent(t *testing.T, idem, customer string, points uint64, bill string, extra string) answer {
	t.Helper()
	return w.till(t, "POST", "/v1/redemption-intents", idem, fmt.Sprintf(`{"customer_id":%q,"points":%d,"bill_amount":%q%s}`, customer, points, bill, extra))
}

func (w *walletNet) sign(t *testing.T, id string, sig []byte) answer {
	t.Helper()
	return w.do(t, "POST", "/v1/redemption-intents/"+id+"/signature", "", "", fmt.Sprintf(`{"signature":%q}`, base64.StdEncoding.EncodeToString(sig)))
}

func signBytes(t *testing.T, a answer) []byte {
	t.Helper()
	sb, err := base64.StdEncoding.DecodeString(a.str("sign_bytes"))
	require.NoError(t, err)
	return sb
}

// body decodes an intent's sign bytes as the chain will.
func body(t *testing.T, sb []byte) *types.TxBody {
	t.Helper()
	dom := types.SignBytes(nil)
	require.True(t, bytes.HasPrefix(sb, dom))
	var b types.TxBody
	require.NoError(t, b.Unmarshal(sb[len(dom):]))
	return &b
}

// committed reads a committed transaction back from the node.
func (w *walletNet) committed(t *testing.T, hash string) (*types.Tx, *types.TxBody, *types.TxResultData) {
	t.Helper()
	h, err := hex.DecodeString(hash)
	require.NoError(t, err)
	res, err := rpclocal.New(w.n.Comet).Tx(context.Background(), h, false)
	require.NoError(t, err)
	require.Zero(t, res.TxResult.Code, res.TxResult.Log)
	var tx types.Tx
	require.NoError(t, tx.Unmarshal(res.Tx))
	var b types.TxBody
	require.NoError(t, b.Unmarshal(tx.Body))
	var d types.TxResultData
	require.NoError(t, d.Unmarshal(res.TxResult.Data))
	return &tx, &b, &d
}

func newWallet(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return pub, priv
}

// TestRedemptionIntents drives prepare-then-sign over HTTP with a wallet
// key held by the test: the bind with its proof of possession, an intent
// and its idempotency, refused signatures, the co-signed redeem as
// committed, single use, expiry, rejection, long poll and a restart.
func TestRedemptionIntents(t *testing.T) {
	w := startWalletNet(t, false)
	const cust = "card-intents-1"
	earned := w.earn(t, cust, "500.00")
	pub, priv := newWallet(t)

	// No wallet yet: no intent.
	a := w.intent(t, "i-0", cust, 10, "100.00", "")
	require.Equal(t, 422, a.status, a.raw)
	require.Equal(t, "cvm_required", a.str("code_name"))

	// The bind needs the key's proof of possession on this chain.
	other, otherPriv := newWallet(t)
	a = w.bind(t, cust, pub, ed25519.Sign(otherPriv, gateway.PossessionBytes(w.chainID, other)))
	require.Equal(t, 422, a.status, a.raw)
	require.Equal(t, "bad_signature", a.str("code_name"))
	a = w.bind(t, cust, pub, ed25519.Sign(priv, gateway.PossessionBytes("another-chain", pub)))
	require.Equal(t, 422, a.status, a.raw)
	a = w.bind(t, cust, pub, ed25519.Sign(priv, gateway.PossessionBytes(w.chainID, pub)))
	require.Equal(t, 200, a.status, a.raw)
	require.Equal(t, cust, a.str("customer_id"))

	// The wallet finds its customer, and its balance with proofs the test
	// checks against the node's app hash at that height.
	a = w.do(t, "GET", "/v1/wallets/"+hex.EncodeToString(pub), "", "", "")
	require.Equal(t, 200, a.status, a.raw)
	require.Equal(t, cust, a.str("customer_id"))
	a = w.do(t, "GET", "/v1/wallets/"+hex.EncodeToString(pub)+"/balance", "", "", "")
	require.Equal(t, 200, a.status, a.raw)
	checkProven(t, w, a)
	var bal types.BalanceResponse
	val, _ := base64.StdEncoding.DecodeString(a.str("value"))
	require.NoError(t, bal.Unmarshal(val))
	require.Equal(t, earned, bal.Points)
	require.Equal(t, []byte(pub), bal.WalletPubkey)
	a = w.do(t, "GET", "/v1/wallets/"+hex.EncodeToString(other), "", "", "")
	require.Equal(t, 404, a.status, a.raw)

	// More points than the card has: refused before anyone signs.
	a = w.intent(t, "i-big", cust, earned+1, "10000.00", "")
	require.Equal(t, 422, a.status, a.raw)
	require.Equal(t, "insufficient_points", a.str("code_name"))

	// An intent: its sign bytes are the redeem the till asked for.
	a = w.intent(t, "i-1", cust, 40, "250.00", "")
	require.Equal(t, 200, a.status, a.raw)
	id := a.str("intent_id")
	require.Equal(t, "open", a.str("status"))
	require.Equal(t, "/wallet/#intent="+id, a.str("wallet_url"))
	sb := signBytes(t, a)
	b := body(t, sb)
	m := b.GetRedeem()
	require.NotNil(t, m)
	require.Equal(t, w.chainID, b.ChainId)
	require.Equal(t, "i-1", b.IdempotencyKey)
	require.EqualValues(t, b.ValidUntilHeight, a.num("valid_until_height"))
	require.Equal(t, &types.MsgRedeem{SellerId: w.seller, TerminalId: "till-1", CustomerId: cust, Points: 40, BillPaise: 25000}, m)
	exp := int64(a.num("expires_at_unix"))
	//wallclock:ok the expiry is set from the gateway's clock: this checks the TTL bound on it, not an elapsed time
	require.LessOrEqual(t, exp, time.Now().Add(time.Minute+time.Second).Unix(), "bounded by the gateway's IntentTTL")

	// Idempotent: the same key and body answer the same intent; another
	// body is a conflict.
	again := w.intent(t, "i-1", cust, 40, "250.00", "")
	require.Equal(t, 200, again.status, again.raw)
	require.Equal(t, id, again.str("intent_id"))
	require.Equal(t, a.str("sign_bytes"), again.str("sign_bytes"))
	again = w.intent(t, "i-1", cust, 41, "250.00", "")
	require.Equal(t, 409, again.status, again.raw)
	require.Equal(t, "idempotency_conflict", again.str("code_name"))

	// Signatures over anything else, or by another key: bad_signature.
	a = w.sign(t, id, ed25519.Sign(otherPriv, sb))
	require.Equal(t, 422, a.status, a.raw)
	require.Equal(t, "bad_signature", a.str("code_name"))
	tampered := append([]byte(nil), sb...)
	tampered[len(tampered)-1] ^= 1
	a = w.sign(t, id, ed25519.Sign(priv, tampered))
	require.Equal(t, 422, a.status, a.raw)
	require.Equal(t, "bad_signature", a.str("code_name"))
	a = w.do(t, "POST", "/v1/redemption-intents/"+id+"/signature", "", "", `{"signature":"c2hvcnQ="}`)
	require.Equal(t, 400, a.status, a.raw)

	// A till long-polls while the wallet signs.
	var wg sync.WaitGroup
	var polled answer
	wg.Add(1)
	go func() {
		defer wg.Done()
		polled = w.do(t, "GET", "/v1/redemption-intents/"+id+"?wait=20", "", "", "")
	}()
	sig := ed25519.Sign(priv, sb)
	a = w.sign(t, id, sig)
	require.Equal(t, 200, a.status, a.raw)
	require.Equal(t, "wallet", a.str("authorised_by"), "the CRMS asked for verification and the wallet gave it")
	require.EqualValues(t, 40, a.num("points_redeemed"))
	require.EqualValues(t, earned-40, a.num("balance"))
	wg.Wait()
	require.Equal(t, 200, polled.status, polled.raw)
	require.Equal(t, "committed", polled.str("status"))
	require.Equal(t, a.str("tx_hash"), polled.str("tx_hash"))

	// As committed: the till's signature and the wallet's, over the very
	// bytes the intent answered.
	tx, cb, data := w.committed(t, a.str("tx_hash"))
	require.Equal(t, sb, types.SignBytes(tx.Body))
	require.Equal(t, sig, tx.WalletSignature)
	require.True(t, types.VerifySignature(pub, types.SignBytes(tx.Body), tx.WalletSignature))
	require.True(t, types.VerifySignature(cb.Signer, types.SignBytes(tx.Body), tx.Signature))
	require.Equal(t, "wallet", data.GetRedeem().AuthorisedBy)

	// Single use.
	a = w.sign(t, id, sig)
	require.Equal(t, 409, a.status, a.raw)
	require.Equal(t, "duplicate", a.str("code_name"))
	a = w.do(t, "POST", "/v1/redemption-intents/"+id+"/rejection", "", "", "")
	require.Equal(t, 409, a.status, a.raw)

	// That signature on another intent (the same customer, other points):
	// a signature over anything else.
	a = w.intent(t, "i-2", cust, 5, "250.00", "")
	require.Equal(t, 200, a.status, a.raw)
	id2, seen := a.str("intent_id"), signBytes(t, a)
	a = w.sign(t, id2, sig)
	require.Equal(t, 422, a.status, a.raw)
	require.Equal(t, "bad_signature", a.str("code_name"))

	// A till's change after the wallet read the intent: refused.
	require.NoError(t, w.gw.TamperIntent(id2, func(m *types.MsgRedeem) { m.Points = 9 }))
	a = w.sign(t, id2, ed25519.Sign(priv, seen))
	require.Equal(t, 422, a.status, a.raw)
	require.Equal(t, "bad_signature", a.str("code_name"))
	a = w.do(t, "GET", "/v1/redemption-intents/"+id2, "", "", "")
	require.Equal(t, "open", a.str("status"), "a refused signature uses nothing up")

	// Expiry: a short intent, long-polled until it expires, then refused.
	a = w.intent(t, "i-4", cust, 5, "100.00", `,"expires_in_seconds":1`)
	require.Equal(t, 200, a.status, a.raw)
	id4, sb4 := a.str("intent_id"), signBytes(t, a)
	a = w.do(t, "GET", "/v1/redemption-intents/"+id4+"?wait=10", "", "", "")
	require.Equal(t, "expired", a.str("status"), a.raw)
	a = w.sign(t, id4, ed25519.Sign(priv, sb4))
	require.Equal(t, 410, a.status, a.raw)
	require.Equal(t, "expired", a.str("code_name"))

	// Rejection abandons it.
	a = w.intent(t, "i-5", cust, 5, "100.00", "")
	id5, sb5 := a.str("intent_id"), signBytes(t, a)
	a = w.do(t, "POST", "/v1/redemption-intents/"+id5+"/rejection", "", "", "")
	require.Equal(t, 200, a.status, a.raw)
	require.Equal(t, "rejected", a.str("status"))
	a = w.sign(t, id5, ed25519.Sign(priv, sb5))
	require.Equal(t, 409, a.status, a.raw)

	// A restarted gateway (same files) still has an open intent, and
	// books it.
	a = w.intent(t, "i-6", cust, 3, "100.00", "")
	id6, sb6 := a.str("intent_id"), signBytes(t, a)
	w.srv.Config.Handler = w.newGateway(t).Handler()
	a = w.do(t, "GET", "/v1/redemption-intents/"+id6, "", "", "")
	require.Equal(t, "open", a.str("status"), a.raw)
	a = w.do(t, "GET", "/v1/wallets/"+hex.EncodeToString(pub), "", "", "")
	require.Equal(t, 200, a.status, "the binding survives too: %s", a.raw)
	a = w.sign(t, id6, ed25519.Sign(priv, sb6))
	require.Equal(t, 200, a.status, a.raw)
	require.EqualValues(t, earned-43, a.num("balance"))
	a = w.do(t, "GET", "/v1/redemption-intents/"+id, "", "", "")
	require.Equal(t, "committed", a.str("status"), "the finished one too")

	// Stopped between co-signing and broadcasting: the restarted gateway
	// offers the recorded tx again when the intent is asked for, and it
	// commits.
	a = w.intent(t, "i-8", cust, 2, "100.00", "")
	id8, sb8 := a.str("intent_id"), signBytes(t, a)
	old := w.newGateway(t)
	require.NoError(t, old.CosignOnly(id8, ed25519.Sign(priv, sb8)))
	w.srv.Config.Handler = w.newGateway(t).Handler()
	a = w.do(t, "GET", "/v1/redemption-intents/"+id8, "", "", "")
	require.Equal(t, "submitted", a.str("status"), a.raw)
	a = w.do(t, "GET", "/v1/redemption-intents/"+id8+"?wait=20", "", "", "")
	require.Equal(t, "committed", a.str("status"), a.raw)
	require.EqualValues(t, earned-45, a.body["redeem"].(map[string]any)["balance"])

	// The wallet's history, proven, newest first.
	a = w.do(t, "GET", "/v1/wallets/"+hex.EncodeToString(pub)+"/history?limit=10", "", "", "")
	require.Equal(t, 200, a.status, a.raw)
	checkProven(t, w, a)
	var h types.HistoryResponse
	val, _ = base64.StdEncoding.DecodeString(a.str("value"))
	require.NoError(t, h.Unmarshal(val))
	require.Len(t, h.Entries, 4)
	require.EqualValues(t, -2, h.Entries[0].PointsDelta)
	require.EqualValues(t, -3, h.Entries[1].PointsDelta)
	require.EqualValues(t, -40, h.Entries[2].PointsDelta)
	require.EqualValues(t, earned, h.Entries[3].PointsDelta)

	// Another customer's wallet key cannot sign for this one.
	const cust2 = "card-intents-2"
	pub2, priv2 := newWallet(t)
	a = w.bind(t, cust2, pub2, ed25519.Sign(priv2, gateway.PossessionBytes(w.chainID, pub2)))
	require.Equal(t, 200, a.status, a.raw)
	a = w.intent(t, "i-7", cust, 1, "100.00", "")
	a = w.sign(t, a.str("intent_id"), ed25519.Sign(priv2, signBytes(t, a)))
	require.Equal(t, 422, a.status, a.raw)
	require.Equal(t, "bad_signature", a.str("code_name"))
}

// checkProven verifies a proven wallet answer against the node's own
// committed app hash at its height (the same check the app does in the
// browser, done by app.VerifyQuery).
func checkProven(t *testing.T, w *walletNet, a answer) {
	t.Helper()
	var p gateway.Proven
	require.NoError(t, json.Unmarshal([]byte(a.raw), &p))
	blk, err := rpclocal.New(w.n.Comet).Block(context.Background(), ptr(p.Height+1))
	if err != nil { // the next block is not there yet: wait for it
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, networks.WaitHeight(ctx, w.n.RPCURL(), p.Height+1))
		blk, err = rpclocal.New(w.n.Comet).Block(context.Background(), ptr(p.Height+1))
	}
	require.NoError(t, err)
	require.Equal(t, hex.EncodeToString(blk.Block.AppHash), p.AppHash, "the app hash is the one the next block's header commits to")
	root, _ := hex.DecodeString(p.AppHash)
	val, _ := base64.StdEncoding.DecodeString(p.Value)
	var proofs []*types.ProvenEntry
	for _, e := range p.Entries {
		k, _ := hex.DecodeString(e.Key)
		v, _ := hex.DecodeString(e.Value)
		pr, _ := hex.DecodeString(e.Proof)
		proofs = append(proofs, &types.ProvenEntry{Key: k, Value: v, Exists: e.Exists, Proof: pr})
	}
	require.NoError(t, app.VerifyQuery(p.Path, val, proofs, root))
}

func ptr[T any](v T) *T { return &v }

// TestWalletRoutesRateLimited: the app and the wallet's public routes are
// under the per-address limit of the gateway's public routes.
func TestWalletRoutesRateLimited(t *testing.T) {
	s, err := gateway.New(gateway.Config{SellerID: "shop-a", PublicRatePerSecond: 0.001, PublicBurst: 3}, gateway.Deps{ChainID: "c"})
	require.NoError(t, err)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	statuses := func(method, path, body string) []int {
		var out []int
		for range 2 {
			req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			out = append(out, resp.StatusCode)
		}
		return out
	}
	require.Equal(t, []int{200, 200}, statuses("GET", "/wallet/", ""))
	// The third request from this address: over the burst of 3.
	require.Equal(t, []int{400, 429}, statuses("POST", "/v1/redemption-intents/00/signature", `{"signature":"x"}`))
	require.Equal(t, []int{429, 429}, statuses("GET", "/wallet/app.js", ""))
}
