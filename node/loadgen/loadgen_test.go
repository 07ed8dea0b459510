package loadgen_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/node/loadgen"
	"github.com/bytepoints/bytepoints/types"
	"github.com/stretchr/testify/require"
)

// gen-txs registers the benchmark terminals and signs purchases spread over
// them; load commits every one exactly once, counting a transaction sent
// twice (as a flaky transport would) once, from the blocks. Every count is
// a property of the transactions, not of how many fit in some seconds.
func TestGenerateAndLoadCountEachTxOnce(t *testing.T) {
	plan, err := node.FreePortPlan(1)
	require.NoError(t, err)
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 1, Output: filepath.Join(t.TempDir(), "net"),
		Ports: plan, TimeoutCommit: 100 * time.Millisecond})
	require.NoError(t, err)
	n, err := node.New(m.Homes[0].Dir, node.Options{LogLevel: "none", NoMetrics: true, NoGateway: true})
	require.NoError(t, err)
	require.NoError(t, n.Start())
	t.Cleanup(n.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, networks.WaitHeight(ctx, n.RPCURL(), 2)) // block 1 applied and committed

	var buf bytes.Buffer
	st, err := loadgen.GeneratePurchases(ctx, loadgen.GenOptions{Homes: []string{m.Homes[0].Dir}, RPC: n.RPCURL(),
		Count: 300, TerminalsPerSeller: 3, Customers: 40, Seed: 7}, &buf)
	require.NoError(t, err)
	require.Equal(t, 300, st.Txs)
	require.Equal(t, 3, st.Registered, "the terminals were registered on chain")
	path := filepath.Join(t.TempDir(), "txs.hex")
	require.NoError(t, writeFile(path, buf.Bytes()))
	txs, err := loadgen.ReadTxFile(path)
	require.NoError(t, err)
	require.Len(t, txs, 300)

	// A second generation reuses the registered terminals.
	st2, err := loadgen.GeneratePurchases(ctx, loadgen.GenOptions{Homes: []string{m.Homes[0].Dir}, RPC: n.RPCURL(),
		Count: 1, TerminalsPerSeller: 3, Seed: 8}, &bytes.Buffer{})
	require.NoError(t, err)
	require.Zero(t, st2.Registered)

	sent := append(append([][]byte{}, txs...), txs[:100]...) // 100 delivered twice
	rep, err := loadgen.Load(ctx, loadgen.LoadOptions{Nodes: []string{n.RPCURL()}, Txs: sent,
		SubmitAll: true, Concurrency: 8})
	require.NoError(t, err)
	require.Equal(t, 400, rep.Submitted)
	require.Equal(t, 300, rep.Accepted)
	require.Equal(t, 100, rep.Redelivered)
	require.Equal(t, 300, rep.CommittedAll, "each transaction counted once: %+v", rep)
	require.Empty(t, rep.FailedInBlock)
	require.Zero(t, rep.Unused)
	require.Positive(t, rep.Blocks)
	require.Positive(t, rep.P50, "latency is measured from the blocks that committed the txs")

	// What the report says, checked against the chain on its own: each of
	// the 300 is found committed by its hash with code 0, and the blocks
	// hold each exactly once (the 100 copies were never included again).
	cl, err := client.Dial(ctx, n.RPCURL(), nil)
	require.NoError(t, err)
	want := map[[32]byte]int{}
	for i, tx := range txs {
		r, err := cl.LookupTx(ctx, types.TxHash(tx))
		require.NoError(t, err)
		require.NotNil(t, r, "tx %d was reported committed but is not found", i)
		require.True(t, r.OK(), "tx %d: code %d %s", i, r.Code, r.Log)
		want[sha256.Sum256(tx)] = 0
	}
	st3, err := cl.RPC.Status(ctx)
	require.NoError(t, err)
	included := 0
	for h := int64(1); h <= st3.SyncInfo.LatestBlockHeight; h++ {
		b, err := cl.RPC.Block(ctx, &h)
		require.NoError(t, err)
		for _, tx := range b.Block.Txs {
			if _, ours := want[sha256.Sum256(tx)]; ours {
				want[sha256.Sum256(tx)]++
				included++
			}
		}
	}
	for _, c := range want {
		require.Equal(t, 1, c, "a transaction included other than once")
	}
	require.Equal(t, rep.Accepted, included, "the blocks hold what load reports as accepted")
	require.Equal(t, rep.CommittedAll, included)
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }
