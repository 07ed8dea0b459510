package abci_test

import (
	"testing"

	"github.com/bytepoints/bytepoints/app/apptest"
	"github.com/bytepoints/bytepoints/types"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"
)

// Each signature is verified once per node: CheckTx verifies; recheck,
// PrepareProposal and FinalizeBlock find it verified. A block's unseen
// transactions are batch-verified before execution, and a bad signature in
// the batch still fails alone, with its code, without failing the others.
func TestSignaturesAreVerifiedOncePerNode(t *testing.T) {
	x, _ := open(t, t.TempDir())
	initChain(t, x)
	block(t, x, 1)
	op := apptest.Operator("seller-a")
	buy := func(i int) *types.MsgPurchase {
		return &types.MsgPurchase{CustomerId: "c", AmountPaise: uint64(100 * (i + 1)), Flow: apptest.Flow()}
	}
	seen := signed(1, op, buy(0), "seen")
	res, err := x.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: seen, Type: abcitypes.CheckTxType_New})
	require.NoError(t, err)
	require.Zero(t, res.Code, res.Log)
	require.Empty(t, x.App.Unverified([][]byte{seen}), "CheckTx verified it")

	var unseen [][]byte
	for i := 1; i <= 5; i++ {
		unseen = append(unseen, signed(1, op, buy(i), "unseen-"+string(rune('0'+i))))
	}
	forged := signed(1, op, buy(9), "forged")
	var env types.Tx
	require.NoError(t, env.Unmarshal(forged))
	env.Signature[10] ^= 0x40
	forged, _ = env.Marshal()
	txs := append([][]byte{seen, forged}, unseen...)
	require.Len(t, x.App.Unverified(txs), 6, "the forged and the five unseen need verifying")

	prep, err := x.PrepareProposal(ctx, &abcitypes.RequestPrepareProposal{Txs: txs, MaxTxBytes: 1 << 20})
	require.NoError(t, err)
	require.Len(t, prep.Txs, 6, "the proposer drops the forged one")

	out := block(t, x, 2, txs...)
	require.Zero(t, out.TxResults[0].Code)
	require.Equal(t, uint32(types.CodeBadSignature), out.TxResults[1].Code, out.TxResults[1].Log)
	for i, r := range out.TxResults[2:] {
		require.Zero(t, r.Code, "unseen %d: %s", i, r.Log)
	}
	require.Len(t, x.App.Unverified(txs), 1, "only the forged one is never marked verified")

	// A recheck after a block re-runs the state checks on a signature
	// already verified at admission.
	late := signed(2, op, buy(20), "late")
	for _, typ := range []abcitypes.CheckTxType{abcitypes.CheckTxType_New, abcitypes.CheckTxType_Recheck} {
		rc, err := x.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: late, Type: typ})
		require.NoError(t, err)
		require.Zero(t, rc.Code, rc.Log)
		require.Empty(t, x.App.Unverified([][]byte{late}))
	}
}
