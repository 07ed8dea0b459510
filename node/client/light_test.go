package client_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	"github.com/stretchr/testify/require"
)

// The light client's refusals are tested against real CometBFT nodes in
// this process: a two-validator chain, and a one-validator chain generated
// apart with the same chain id (a regenerated testnet).

type testNet struct {
	m     *node.Manifest
	nodes []*node.Node
}

func startNet(t *testing.T, ctx context.Context, validators int) *testNet {
	t.Helper()
	plan, err := node.FreePortPlan(validators)
	require.NoError(t, err)
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: validators, Output: filepath.Join(t.TempDir(), "net"),
		Ports: plan, TimeoutCommit: 150 * time.Millisecond, Transport: node.TransportTCP})
	require.NoError(t, err)
	nodes, err := networks.StartInProcess(m, io.Discard, "none", false)
	require.NoError(t, err)
	t.Cleanup(func() { networks.StopAll(nodes) })
	for _, n := range nodes {
		require.NoError(t, networks.WaitHeight(ctx, n.RPCURL(), 2))
	}
	return &testNet{m: m, nodes: nodes}
}

func (n *testNet) url(i int) string { return n.nodes[i].RPCURL() }

// lightClient dials url and starts a light client from tr.
func lightClient(t *testing.T, ctx context.Context, url string, tr client.Trust) (*client.Client, error) {
	t.Helper()
	cl, err := client.Dial(ctx, url, nil)
	require.NoError(t, err)
	if err := cl.UseLightClient(ctx, tr); err != nil {
		return nil, err
	}
	t.Cleanup(func() { cl.Close() })
	return cl, nil
}

// root is header 1 of the node at url, as an auditor receives it.
func root(t *testing.T, ctx context.Context, url string) client.Trust {
	t.Helper()
	cl, err := client.Dial(ctx, url, nil)
	require.NoError(t, err)
	tr, err := cl.TrustFromNode(ctx, 1)
	require.NoError(t, err)
	return tr
}

func nodeID(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	cl, err := client.Dial(ctx, url, nil)
	require.NoError(t, err)
	st, err := cl.RPC.Status(ctx)
	require.NoError(t, err)
	return string(st.NodeInfo.ID())
}

// rpcProxy forwards JSON-RPC to target; answer, when set, may replace the
// answer to a request (method, params) with its own.
type rpcProxy struct {
	*httptest.Server
	mu     sync.Mutex
	answer func(method string, params json.RawMessage, id json.RawMessage, forward func() []byte) []byte
}

func newProxy(t *testing.T, target string) *rpcProxy {
	p := &rpcProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		forward := func() []byte {
			req, _ := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), bytes.NewReader(body))
			req.Header = r.Header.Clone()
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return nil
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return b
		}
		var msg struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		var out []byte
		p.mu.Lock()
		hook := p.answer
		p.mu.Unlock()
		if json.Unmarshal(body, &msg) == nil && hook != nil {
			out = hook(msg.Method, msg.Params, msg.ID, forward)
		} else {
			out = forward()
		}
		if out == nil {
			http.Error(w, "proxy: no answer", http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	}))
	t.Cleanup(p.Close)
	return p
}

func TestLightClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	a := startNet(t, ctx, 2)
	trA := root(t, ctx, a.url(0))

	t.Run("witnesses are distinct nodes", func(t *testing.T) {
		idA, idB := nodeID(t, ctx, a.url(0)), nodeID(t, ctx, a.url(1))
		require.NotEqual(t, idA, idB)
		// Another URL for the primary: only its node id gives it away.
		alias := newProxy(t, a.url(0))
		for _, c := range []struct {
			name      string
			witnesses []string
			want      []string
		}{
			{"the primary's own URL", []string{a.url(0)}, []string{"is the primary itself", idA, a.url(0)}},
			{"the primary under another URL", []string{alias.URL}, []string{alias.URL, "is the primary itself", idA}},
			{"a witness named twice", []string{a.url(1), a.url(1)}, []string{"is the same node", idB, a.url(1)}},
			{"after a good witness, the primary", []string{a.url(1), alias.URL}, []string{"is the primary itself", idA}},
		} {
			tr := trA
			tr.Witnesses = c.witnesses
			_, err := lightClient(t, ctx, a.url(0), tr)
			require.Error(t, err, c.name)
			t.Logf("%s: %v", c.name, err)
			require.Equal(t, types.CodeInvalidArgument, types.CodeOf(err), "%s: %v", c.name, err)
			for _, w := range c.want {
				require.Contains(t, err.Error(), w, c.name)
			}
		}
		// A distinct witness cross-checks.
		tr := trA
		tr.Witnesses = []string{a.url(1)}
		cl, err := lightClient(t, ctx, a.url(0), tr)
		require.NoError(t, err)
		q, err := cl.Query(ctx, "/totals", true)
		require.NoError(t, err)
		require.Equal(t, []string{a.url(1)}, q.Verified.Witnesses)
		require.False(t, q.Verified.SelfWitness)
	})

	t.Run("stale answers are refused", func(t *testing.T) {
		// The proxy records the node's last abci_query answer per path,
		// then replays it: every header passes through untouched, so each
		// replayed answer still verifies against its own (old) header.
		p := newProxy(t, a.url(0))
		answers := map[string][]byte{}
		replay := false
		p.answer = func(method string, params, id json.RawMessage, forward func() []byte) []byte {
			if method != "abci_query" {
				return forward()
			}
			var q struct{ Path string }
			_ = json.Unmarshal(params, &q)
			p.mu.Lock()
			defer p.mu.Unlock()
			if replay && answers[q.Path] != nil {
				var m map[string]json.RawMessage
				_ = json.Unmarshal(answers[q.Path], &m)
				m["id"] = id
				out, _ := json.Marshal(m)
				return out
			}
			out := forward()
			answers[q.Path] = out
			return out
		}
		tr := trA
		tr.Witnesses = []string{a.url(1)}
		cl, err := lightClient(t, ctx, p.URL, tr)
		require.NoError(t, err)
		q, err := cl.Query(ctx, "/totals", true)
		require.NoError(t, err)
		old := q.Height
		require.LessOrEqual(t, q.Verified.Latest-q.Verified.StateHeight, int64(client.DefaultMaxLag))
		purchases, err := client.Decode[types.Totals](q)
		require.NoError(t, err)

		// A purchase commits after the recorded answer; the chain moves on.
		key, err := node.LoadKey(a.m.Homes[0].Dir, node.OperatorKey)
		require.NoError(t, err)
		seller, err := client.Dial(ctx, a.url(0), key)
		require.NoError(t, err)
		r, err := seller.Submit(ctx, &types.MsgPurchase{CustomerId: "hidden", AmountPaise: 10_000, Flow: &types.PaymentFlow{
			ReadType: types.ReadType_READ_TYPE_CONTACTLESS_EMV, Cvm: types.CVM_CVM_PIN_ONLINE_OK, Auth: types.AuthResult_AUTH_RESULT_APPROVED}}, client.Options{})
		require.NoError(t, err)
		require.True(t, r.OK(), r.Log)
		require.NoError(t, networks.WaitHeight(ctx, a.url(0), r.Height+client.DefaultMaxLag+2))
		p.mu.Lock()
		replay = true
		p.mu.Unlock()

		// A fresh client through the replaying proxy: refused, naming the
		// lag, both heights and the flag.
		cl, err = lightClient(t, ctx, p.URL, tr)
		require.NoError(t, err)
		_, err = cl.Query(ctx, "/totals", true)
		var ve *client.VerificationError
		require.ErrorAs(t, err, &ve, "a stale answer must not verify: %v", err)
		t.Logf("replayed: %v", err)
		var se *client.StaleError
		require.ErrorAs(t, err, &se)
		require.Equal(t, old, se.StateHeight)
		require.Greater(t, se.Latest, r.Height, "the latest verified header is after the hidden purchase")
		require.Equal(t, int64(client.DefaultMaxLag), se.MaxLag)
		for _, want := range []string{fmt.Sprintf("state height %d", old), fmt.Sprintf("header %d", se.Latest), "--max-lag", "/totals"} {
			require.Contains(t, err.Error(), want)
		}
		// The same replayed proofs are valid for their old header: only the
		// lag refuses them (a larger --max-lag takes them, purchase missing).
		tr.MaxLag = 10_000
		cl, err = lightClient(t, ctx, p.URL, tr)
		require.NoError(t, err)
		q, err = cl.Query(ctx, "/totals", true)
		require.NoError(t, err)
		again, err := client.Decode[types.Totals](q)
		require.NoError(t, err)
		require.Equal(t, purchases.Purchases, again.Purchases, "the replayed answer hides the purchase")
	})

	t.Run("trust store per chain id and genesis", func(t *testing.T) {
		// A network regenerated with the same chain id.
		c := startNet(t, ctx, 1)
		require.Equal(t, a.m.ChainID, c.m.ChainID)
		dir := t.TempDir()
		tr := trA
		tr.Dir, tr.Witnesses = dir, []string{a.url(1)}
		cl, err := lightClient(t, ctx, a.url(0), tr)
		require.NoError(t, err)
		_, err = cl.Query(ctx, "/totals", true)
		require.NoError(t, err)
		require.NoError(t, cl.Close())

		// The regenerated network finds no root of its own: it neither
		// starts from the other network's nor fails on it.
		_, err = lightClient(t, ctx, c.url(0), client.Trust{Dir: dir})
		require.ErrorIs(t, err, client.ErrNoTrustRoot)
		require.Contains(t, err.Error(), dir)
		trC := root(t, ctx, c.url(0))
		trC.Dir = dir
		cl, err = lightClient(t, ctx, c.url(0), trC)
		require.NoError(t, err)
		_, err = cl.Query(ctx, "/totals", true)
		require.NoError(t, err)
		require.NoError(t, cl.Close())

		// The first network's root is still there, untouched.
		cl, err = lightClient(t, ctx, a.url(0), client.Trust{Dir: dir, Witnesses: []string{a.url(1)}})
		require.NoError(t, err)
		q, err := cl.Query(ctx, "/totals", true)
		require.NoError(t, err)
		require.Equal(t, trA.Height, q.Verified.TrustHeight)
		require.Equal(t, trA.Hash, q.Verified.TrustHash)
		require.NoError(t, cl.Close())
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Len(t, entries, 2, "one store per network: %v", entries)

		// A stored root that no longer verifies (older than the trusting
		// period) is named: its height, hash, path, and the flags that
		// replace it.
		cl, err = lightClient(t, ctx, a.url(0), client.Trust{Dir: dir, Witnesses: []string{a.url(1)}, Period: time.Nanosecond})
		require.NoError(t, err)
		_, err = cl.Query(ctx, "/totals", true)
		var ve *client.VerificationError
		require.ErrorAs(t, err, &ve, "%v", err)
		msg := err.Error()
		t.Logf("expired stored root: %s", msg)
		var store string
		for _, e := range entries {
			if strings.Contains(msg, filepath.Join(dir, e.Name())) {
				store = e.Name()
			}
		}
		require.NotEmpty(t, store, "the error names the store's path: %s", msg)
		require.Contains(t, msg, fmt.Sprintf("header %d, hash %s", trA.Height, strings.ToUpper(hex.EncodeToString(trA.Hash))))
		require.Contains(t, msg, "--trust-height and --trust-hash")
		require.Contains(t, msg, "trusting period")

		// A store holding another network's headers under this one's name
		// (as a store keyed by chain id alone did): refused before the
		// light client starts, naming the stored header, the path and the
		// flags, never "expected old header next validators".
		ca, err := client.Dial(ctx, a.url(0), nil)
		require.NoError(t, err)
		g, err := client.GenesisHash(ctx, ca.RPC)
		require.NoError(t, err)
		nameA := fmt.Sprintf("light-%s-%x.db", a.m.ChainID, g[:8])
		var nameC string
		for _, e := range entries {
			if e.Name() != nameA {
				nameC = e.Name()
			}
		}
		require.NotEmpty(t, nameC, "%v", entries)
		mixed := t.TempDir()
		require.NoError(t, os.CopyFS(filepath.Join(mixed, nameA), os.DirFS(filepath.Join(dir, nameC))))
		_, err = lightClient(t, ctx, a.url(0), client.Trust{Dir: mixed, Witnesses: []string{a.url(1)}})
		require.ErrorAs(t, err, &ve, "%v", err)
		msg = err.Error()
		t.Logf("another network's stored root: %s", msg)
		require.Contains(t, msg, filepath.Join(mixed, nameA))
		require.Contains(t, msg, "not the trusted header")
		require.Contains(t, msg, "--trust-height and --trust-hash")
		require.NotContains(t, msg, "next validators")
	})
}
