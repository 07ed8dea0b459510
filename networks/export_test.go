//go:build network

package networks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/internal/harness"
	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
)

// TestNetworkExportRestart: a seller's node books purchases and a
// redemption and is stopped; `bytepointsd export` writes the genesis of a
// new chain; the same home, its chain data set aside and the genesis
// replaced, starts the new chain at the exported height + 1, whose first
// header carries the exported app hash; totals, balances and statements
// read the same, and the new chain books.
func TestNetworkExportRestart(t *testing.T) {
	bin := binary(t)
	home := oneSeller(t, true)
	key, err := node.LoadKey(home.Dir, node.OperatorKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var proc *harness.Process
	start := func() {
		t.Helper()
		if proc, err = harness.StartProcess(bin, home.Dir, nil); err != nil {
			t.Fatal(err)
		}
	}
	defer func() { proc.Kill() }()
	dial := func() *client.Client {
		t.Helper()
		cl, err := client.Dial(ctx, home.RPC, key)
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	start()
	if err := networks.WaitHeight(ctx, home.RPC, 2); err != nil {
		t.Fatal(err)
	}
	cl := dial()
	for i := 0; i < 5; i++ {
		r, err := cl.Submit(ctx, &types.MsgPurchase{CustomerId: fmt.Sprintf("e-%d", i), AmountPaise: uint64(20000 * (i + 1)), Flow: pin}, client.Options{})
		if err != nil || !r.OK() {
			t.Fatalf("%v %+v", err, r)
		}
	}
	if r, err := cl.Submit(ctx, &types.MsgRedeem{CustomerId: "e-4", Points: 40, BillPaise: 10000, Flow: pin}, client.Options{}); err != nil || !r.OK() {
		t.Fatalf("%v %+v", err, r)
	}
	paths := []string{"/totals", "/sellers", "/params", "/statements", "/balance/e-0", "/balance/e-1", "/balance/e-2", "/balance/e-3", "/balance/e-4", "/history/e-4"}
	read := func(cl *client.Client) map[string][]byte {
		t.Helper()
		out := map[string][]byte{}
		for _, p := range paths {
			q, err := cl.Query(ctx, p, false)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			out[p] = q.Value
		}
		return out
	}
	// The old chain's answers (empty blocks until the stop change none of
	// them). Read before the stop: the validator must have signed nothing
	// past the exported height, which is the last it commits.
	before := read(cl)
	auditBefore := auditChecks(t, bin, home.RPC, 1)
	if err := proc.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}

	genesis := filepath.Join(t.TempDir(), "genesis.json")
	var ex struct {
		Height        int64  `json:"height"`
		AppHash       string `json:"app_hash"`
		InitialHeight int64  `json:"initial_height"`
		SHA256        string `json:"sha256"`
	}
	out := cli(t, bin, "export", "--home", home.Dir, "--height", "latest", "--chain-id", "bytepoints-restart-local", "--out", genesis, "-o", json0)
	if err := json.Unmarshal([]byte(out), &ex); err != nil || ex.Height < 3 || ex.InitialHeight != ex.Height+1 || ex.AppHash == "" {
		t.Fatalf("export output (%v):\n%s", err, out)
	}
	// Restart the home on the new chain: chain data aside, a fresh
	// last-sign state for the validator (the new chain id is in every sign
	// bytes, so nothing signed for the old chain can conflict), the new
	// genesis in place.
	data := filepath.Join(home.Dir, "data")
	if err := os.Rename(data, data+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "priv_validator_state.json"), []byte(`{"height":"0","round":0,"step":0}`), 0o600); err != nil {
		t.Fatal(err)
	}
	gbz, err := os.ReadFile(genesis)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home.Dir, "config", "genesis.json"), gbz, 0o644); err != nil {
		t.Fatal(err)
	}
	start()
	if err := networks.WaitHeight(ctx, home.RPC, ex.InitialHeight+2); err != nil {
		log, _ := os.ReadFile(proc.Log)
		t.Fatalf("%v\n%s", err, tail(log))
	}
	cl = dial()
	st, err := cl.RPC.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.NodeInfo.Network != "bytepoints-restart-local" || st.SyncInfo.EarliestBlockHeight != ex.InitialHeight {
		t.Fatalf("restarted chain %s from height %d", st.NodeInfo.Network, st.SyncInfo.EarliestBlockHeight)
	}
	first := ex.InitialHeight
	b, err := cl.RPC.Block(ctx, &first)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%X", b.Block.Header.AppHash); got != ex.AppHash {
		t.Fatalf("first header of the new chain carries app hash %s, the export %s", got, ex.AppHash)
	}
	after := read(cl)
	for _, p := range paths {
		if !bytes.Equal(before[p], after[p]) {
			t.Fatalf("%s differs after the restart:\nold %x\nnew %x", p, before[p], after[p])
		}
	}
	// audit verify, from the new chain's first header, finds the same.
	auditAfter := auditChecks(t, bin, home.RPC, ex.InitialHeight)
	// (answers-fresh names the heights it read at; the totals' checks must
	// read the same.)
	if fmt.Sprint(auditBefore[1:]) != fmt.Sprint(auditAfter[1:]) || auditAfter[0]["name"] != "answers-fresh" {
		t.Fatalf("audit verify's checks differ:\nold %v\nnew %v", auditBefore, auditAfter)
	}
	t.Logf("audit verify on both chains: %v", auditAfter)
	r, err := cl.Submit(ctx, &types.MsgPurchase{CustomerId: "e-0", AmountPaise: 10000, Flow: pin}, client.Options{})
	if err != nil || !r.OK() {
		t.Fatalf("purchase on the restarted chain: %v %+v", err, r)
	}
	if log, _ := os.ReadFile(proc.Log); strings.Contains(string(log), "CONSENSUS FAILURE") {
		t.Fatalf("restarted node failed:\n%s", tail(log))
	}
}

const json0 = "json"

// auditChecks runs audit verify against the one node at rpc, trusting its
// header h, and returns the checks (all must pass).
func auditChecks(t *testing.T, bin, rpc string, h int64) []map[string]any {
	t.Helper()
	var hdr struct{ Hash string }
	if err := json.Unmarshal([]byte(cli(t, bin, "query", "header", "--height", fmt.Sprint(h), "--node", rpc, "-o", "json")), &hdr); err != nil {
		t.Fatal(err)
	}
	var out struct {
		OK       bool `json:"ok"`
		Verified struct {
			Checks []map[string]any `json:"checks"`
		} `json:"verified"`
	}
	raw := cli(t, bin, "audit", "verify", "-o", "json", "-q", "--light-dir", t.TempDir(), "--rpc", rpc,
		"--trust-height", fmt.Sprint(h), "--trust-hash", hdr.Hash)
	if err := json.Unmarshal([]byte(raw), &out); err != nil || !out.OK || len(out.Verified.Checks) == 0 {
		t.Fatalf("audit verify (%v):\n%s", err, raw)
	}
	return out.Verified.Checks
}
