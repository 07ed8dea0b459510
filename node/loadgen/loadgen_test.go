package loadgen_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/loadgen"
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
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }
