package main

import (
	"bytes"
	"context"
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

	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/stretchr/testify/require"
)

// TestAuditVerifyRefusals runs `audit verify` (the real binary) against a
// two-validator chain in this process: a witness that is the primary, or
// one named twice, is refused naming its node id; a network regenerated
// with the same chain id neither starts from nor fails on the first one's
// stored root; and a primary replaying old answers is refused, naming the
// lag, by `audit verify` and by `query --prove`.
func TestAuditVerifyRefusals(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := func(validators int) (*node.Manifest, []*node.Node) {
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
		return m, nodes
	}
	m, nodes := start(2)
	A, B := nodes[0].RPCURL(), nodes[1].RPCURL()
	nodeID := func(url string) string {
		c, err := rpchttp.New(url, "/websocket")
		require.NoError(t, err)
		st, err := c.Status(ctx)
		require.NoError(t, err)
		return string(st.NodeInfo.ID())
	}
	trust := trustArgs(t, A) // --trust-height 1 --trust-hash H --light-dir D
	verify := func(args ...string) (map[string]any, int) {
		t.Helper()
		return cliJSON(t, append([]string{"audit", "verify", "-q"}, args...)...)
	}

	t.Run("witnesses are distinct nodes", func(t *testing.T) {
		out, code := verify(append([]string{"--rpc", A + "," + A}, trust...)...)
		require.NotZero(t, code, "%v", out)
		require.Equal(t, "invalid_argument", out["code_name"], "%v", out)
		require.Contains(t, out["error"], "is the primary itself")
		require.Contains(t, out["error"], nodeID(A))

		out, code = verify(append([]string{"--rpc", A + "," + B + "," + B}, trust...)...)
		require.NotZero(t, code, "%v", out)
		require.Equal(t, "invalid_argument", out["code_name"], "%v", out)
		require.Contains(t, out["error"], "is the same node")
		require.Contains(t, out["error"], nodeID(B))

		// --witness is checked the same way.
		out, code = verify(append([]string{"--rpc", A, "--witness", A}, trust...)...)
		require.NotZero(t, code, "%v", out)
		require.Contains(t, out["error"], nodeID(A))

		out, code = verify(append([]string{"--rpc", A + "," + B}, trust...)...)
		require.Zero(t, code, "%v", out)
		v := out["verified"].(map[string]any)
		require.Equal(t, []any{B}, v["witnesses"])
		require.EqualValues(t, client.DefaultMaxLag, v["max_lag"])
		fresh := false
		for _, c := range v["checks"].([]any) {
			if c.(map[string]any)["name"] == "answers-fresh" {
				fresh = c.(map[string]any)["ok"].(bool)
			}
		}
		require.True(t, fresh, "%v", v["checks"])
	})

	t.Run("a regenerated network does not inherit the stored root", func(t *testing.T) {
		dir := t.TempDir()
		rootA := append(append([]string{}, trust[:4]...), "--light-dir", dir)
		out, code := verify(append([]string{"--rpc", A + "," + B}, rootA...)...)
		require.Zero(t, code, "%v", out)

		mc, cn := start(1)
		require.Equal(t, m.ChainID, mc.ChainID, "the same chain id, another genesis")
		C := cn[0].RPCURL()
		// Without flags: no root of its own, said as such (not a failure
		// to follow the first network's validators).
		out, code = verify("--rpc", C, "--light-dir", dir)
		require.NotZero(t, code, "%v", out)
		require.Equal(t, "invalid_argument", out["code_name"], "%v", out)
		require.Contains(t, out["error"], "no trust root")
		require.Contains(t, out["error"], dir)
		rootC := trustArgs(t, C)[:4]
		out, code = verify(append([]string{"--rpc", C, "--light-dir", dir}, rootC...)...)
		require.Zero(t, code, "%v", out)
		out, code = verify("--rpc", C, "--light-dir", dir)
		require.Zero(t, code, "from its own stored root: %v", out)
		// The first network's root is untouched.
		out, code = verify("--rpc", A+","+B, "--light-dir", dir)
		require.Zero(t, code, "%v", out)
		require.Equal(t, trust[3], out["verified"].(map[string]any)["trust_hash"])
	})

	t.Run("stale answers are refused", func(t *testing.T) {
		// A proxy in front of A records the last abci_query answer per
		// path, then replays it; headers and status pass through.
		var mu sync.Mutex
		answers := map[string][]byte{}
		replay := false
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			var msg struct {
				ID     json.RawMessage `json:"id"`
				Method string          `json:"method"`
				Params struct{ Path string }
			}
			_ = json.Unmarshal(body, &msg)
			forward := func() []byte {
				req, _ := http.NewRequestWithContext(r.Context(), r.Method, A+r.URL.RequestURI(), bytes.NewReader(body))
				req.Header = r.Header.Clone()
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					return nil
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return b
			}
			var out []byte
			if msg.Method == "abci_query" {
				mu.Lock()
				if old := answers[msg.Params.Path]; replay && old != nil {
					var m map[string]json.RawMessage
					_ = json.Unmarshal(old, &m)
					m["id"] = msg.ID
					out, _ = json.Marshal(m)
				} else if out = forward(); !replay {
					answers[msg.Params.Path] = out
				}
				mu.Unlock()
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
		defer proxy.Close()

		out, code := verify(append([]string{"--rpc", proxy.URL + "," + B}, trust...)...)
		require.Zero(t, code, "recording: %v", out)
		old := int64(out["verified"].(map[string]any)["state_height"].(float64))

		// A purchase after the recorded answers; the chain moves on.
		key, err := node.LoadKey(m.Homes[0].Dir, node.OperatorKey)
		require.NoError(t, err)
		seller, err := client.Dial(ctx, A, key)
		require.NoError(t, err)
		r, err := seller.Submit(ctx, &types.MsgPurchase{CustomerId: "hidden", AmountPaise: 10_000, Flow: &types.PaymentFlow{
			ReadType: types.ReadType_READ_TYPE_CONTACTLESS_EMV, Cvm: types.CVM_CVM_PIN_ONLINE_OK, Auth: types.AuthResult_AUTH_RESULT_APPROVED}}, client.Options{})
		require.NoError(t, err)
		require.True(t, r.OK(), r.Log)
		require.NoError(t, networks.WaitHeight(ctx, A, r.Height+client.DefaultMaxLag+2))
		mu.Lock()
		replay = true
		mu.Unlock()

		out, code = verify(append([]string{"--rpc", proxy.URL + "," + B}, trust...)...)
		require.NotZero(t, code, "a replayed audit must not pass: %v", out)
		require.Equal(t, "verification_failed", out["code_name"], "%v", out)
		require.EqualValues(t, types.CodeVerificationFailed, out["code"])
		msg := out["error"].(string)
		require.Contains(t, msg, fmt.Sprintf("state height %d", old))
		require.Contains(t, msg, "blocks behind the latest verified header")
		require.Contains(t, msg, "--max-lag")

		out, code = cliJSON(t, append([]string{"query", "totals", "--prove", "--node", proxy.URL, "--witness", B}, trust...)...)
		require.NotZero(t, code, "%v", out)
		require.Equal(t, "verification_failed", out["code_name"], "%v", out)
		require.Contains(t, out["error"], "--max-lag")
		require.True(t, strings.Contains(out["error"].(string), "/totals"), "%v", out)

		// --max-lag is the flag that decides: raised, the old (valid)
		// proofs pass, without the purchase.
		out, code = cliJSON(t, append([]string{"query", "totals", "--prove", "--node", proxy.URL, "--witness", B, "--max-lag", "100000"}, trust...)...)
		require.Zero(t, code, "%v", out)
		out, code = cliJSON(t, append([]string{"query", "totals", "--prove", "--node", proxy.URL, "--max-lag", "0"}, trust...)...)
		require.NotZero(t, code)
		require.Equal(t, "invalid_argument", out["code_name"], "%v", out)
	})
}
