//go:build network

package networks_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/stretchr/testify/require"
)

// auditRun runs audit verify with -o json and returns its exit status and
// what it printed.
func (n *net) auditRun(args ...string) (int, map[string]any, string) {
	n.t.Helper()
	cmd := exec.Command(n.bin, append([]string{"audit", "verify", "-o", "json", "--light-dir", n.t.TempDir()}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		require.True(n.t, ok, "audit verify did not run: %v", err)
		code = ee.ExitCode()
	}
	var out map[string]any
	require.NoError(n.t, json.Unmarshal(stdout.Bytes(), &out), "audit verify -o json printed:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	return code, out, stderr.String()
}

// trustRoot is seller-0's first header as an auditor receives it.
func (n *net) trustRoot() []string {
	out := cli(n.t, n.bin, "query", "header", "--height", "1", "--node", n.home("seller-0").RPC, "-o", "json")
	var hdr struct{ Hash string }
	require.NoError(n.t, json.Unmarshal([]byte(out), &hdr))
	return []string{"--trust-height", "1", "--trust-hash", hdr.Hash}
}

// checkAudit: audit verify passes from header 1 across the validator-set
// change the caller made (a seller voted in and signing), with witnesses;
// and fails, naming the failure, for a tampered answer, a trust hash of
// another chain and a witness on a fork of the chain.
func (n *net) checkAudit() {
	t := n.t
	trust := n.trustRoot()
	rpcs := n.home("seller-0").RPC + "," + n.home("seller-1").RPC + "," + n.home("seller-2").RPC

	code, out, progress := n.auditRun(append([]string{"--rpc", rpcs}, trust...)...)
	require.Zero(t, code, "audit verify failed: %v", out)
	require.Equal(t, true, out["ok"], "%v", out)
	v := out["verified"].(map[string]any)
	require.EqualValues(t, 1, v["trust_height"])
	require.Greater(t, v["latest_header_height"].(float64), v["trust_height"].(float64))
	require.EqualValues(t, 5, v["sellers"], "the voted-in seller is audited too")
	require.Len(t, v["witnesses"], 2)
	for _, c := range v["checks"].([]any) {
		require.Equal(t, true, c.(map[string]any)["ok"], "%v", c)
	}
	require.Contains(t, progress, "headers: verified to height")

	// The primary named as its own witness cross-checks nothing: refused,
	// before anything is read.
	s0 := n.home("seller-0").RPC
	code, out, _ = n.auditRun(append([]string{"--rpc", s0 + "," + s0}, trust...)...)
	require.NotZero(t, code)
	require.Equal(t, "invalid_argument", out["code_name"], "%v", out)
	require.Contains(t, out["error"], "is the primary itself")

	// (a) A proxy in front of seller-0's RPC flips a byte of the totals'
	// value; headers pass through untouched.
	var flipped atomic.Int32
	target := "http://" + strings.TrimPrefix(n.home("seller-0").RPC, "http://")
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		resp, _ := io.ReadAll(res.Body)
		if bytes.Contains(body, []byte(`"abci_query"`)) && bytes.Contains(body, []byte(`"/totals"`)) {
			resp = flipValue(resp, &flipped)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(resp)
	}))
	defer proxy.Close()
	code, out, _ = n.auditRun(append([]string{"--rpc", proxy.URL + "," + n.home("seller-1").RPC}, trust...)...)
	require.NotZero(t, code)
	require.NotZero(t, flipped.Load(), "the proxy saw no totals query")
	require.Equal(t, "verification_failed", out["code_name"], "%v", out)
	require.Contains(t, out["error"], "PROOF FAILED for /totals")

	// (b) A trust hash from another chain: a one-validator chain generated
	// apart (the same chain id, other keys), run in this process.
	plan, err := node.FreePortPlan(1)
	require.NoError(t, err)
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 1, Output: filepath.Join(t.TempDir(), "fork"), Ports: plan,
		TimeoutCommit: 300 * time.Millisecond})
	require.NoError(t, err)
	fork, err := networks.StartInProcess(m, io.Discard, "none", false)
	require.NoError(t, err)
	defer networks.StopAll(fork)
	require.NoError(t, networks.WaitHeight(n.ctx, fork[0].RPCURL(), 3))
	require.Equal(t, n.m.ChainID, m.ChainID, "the fork shares the chain id")
	forkHdr := cli(t, n.bin, "query", "header", "--height", "1", "--node", fork[0].RPCURL(), "-o", "json")
	var fh struct{ Hash string }
	require.NoError(t, json.Unmarshal([]byte(forkHdr), &fh))
	code, out, _ = n.auditRun("--rpc", rpcs, "--trust-height", "1", "--trust-hash", fh.Hash)
	require.NotZero(t, code)
	require.Equal(t, "verification_failed", out["code_name"], "%v", out)
	require.Contains(t, out["error"], "trusted header 1")
	require.Contains(t, strings.ToLower(out["error"].(string)), strings.ToLower(fh.Hash[:16]), "the error names the hash that did not match")

	// (c) A witness on the fork disagrees with the primary.
	code, out, _ = n.auditRun(append([]string{"--rpc", n.home("seller-0").RPC + "," + fork[0].RPCURL()}, trust...)...)
	require.NotZero(t, code)
	require.Equal(t, "verification_failed", out["code_name"], "%v", out)
	require.Contains(t, out["error"], fork[0].RPCURL(), "the error names the witness")
}

// flipValue flips one bit of the value in an abci_query JSON-RPC answer.
func flipValue(resp []byte, flipped *atomic.Int32) []byte {
	var msg map[string]any
	if json.Unmarshal(resp, &msg) != nil {
		return resp
	}
	result, _ := msg["result"].(map[string]any)
	response, _ := result["response"].(map[string]any)
	val, _ := response["value"].(string)
	bz, err := base64.StdEncoding.DecodeString(val)
	if err != nil || len(bz) == 0 {
		return resp
	}
	bz[len(bz)/2] ^= 0x01
	response["value"] = base64.StdEncoding.EncodeToString(bz)
	flipped.Add(1)
	out, err := json.Marshal(msg)
	if err != nil {
		return resp
	}
	return out
}
