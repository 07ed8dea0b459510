package abci_test

import (
	"testing"

	"github.com/bytepoints/bytepoints/abci"
	"github.com/bytepoints/bytepoints/types"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	"github.com/stretchr/testify/require"
)

// TestProofOperator: the app's proof, as a CometBFT proof operator in a
// merkle.ProofRuntime, verifies a query's entries (values and absences)
// against the app hash, and refuses a changed value, a changed proof, a
// value claimed absent, a swapped key and another app hash.
func TestProofOperator(t *testing.T) {
	x, db := open(t, t.TempDir())
	defer db.Close()
	initChain(t, x)
	block(t, x, 1, signed(1, "seller-a/operator", &types.MsgPurchase{CustomerId: "alice", AmountPaise: 12_300, Flow: pin}, "k1"))
	block(t, x, 2)
	_, appHash := x.App.Info()
	prt := abci.ProofRuntime()

	for _, path := range []string{"/balance/alice", "/balance/nobody", "/totals", "/sellers"} {
		q, err := x.Query(ctx, &abcitypes.RequestQuery{Path: path, Prove: true})
		require.NoError(t, err)
		require.NotEmpty(t, q.ProofOps.GetOps(), path)
		entries, err := abci.VerifyProofOps(prt, q.ProofOps, appHash)
		require.NoError(t, err, path)
		require.Len(t, entries, len(q.ProofOps.Ops))

		for i, op := range q.ProofOps.Ops {
			one := func(edit func(*types.ProvenEntry)) *cmtcrypto.ProofOps {
				var e types.ProvenEntry
				require.NoError(t, e.Unmarshal(op.Data))
				edit(&e)
				return &cmtcrypto.ProofOps{Ops: []cmtcrypto.ProofOp{abci.SMTOp{Entry: &e}.ProofOp()}}
			}
			e := entries[i]
			kp := abci.KeyPath(e.Key)
			if e.Exists {
				require.NoError(t, prt.VerifyValue(one(func(*types.ProvenEntry) {}), appHash, kp, e.Value))
				changed := append([]byte(nil), e.Value...)
				changed[0] ^= 1
				require.Error(t, prt.VerifyValue(one(func(*types.ProvenEntry) {}), appHash, kp, changed), "a changed value")
				require.Error(t, prt.VerifyAbsence(one(func(*types.ProvenEntry) {}), appHash, kp), "a present key claimed absent")
			} else {
				require.NoError(t, prt.VerifyAbsence(one(func(*types.ProvenEntry) {}), appHash, kp))
				require.Error(t, prt.VerifyValue(one(func(*types.ProvenEntry) {}), appHash, kp, []byte("x")), "an absent key given a value")
			}
			flip := one(func(p *types.ProvenEntry) { p.Proof[len(p.Proof)/2] ^= 1 })
			if e.Exists {
				require.Error(t, prt.VerifyValue(flip, appHash, kp, e.Value), "a changed proof")
			} else {
				require.Error(t, prt.VerifyAbsence(flip, appHash, kp), "a changed proof")
			}
			require.Error(t, prt.VerifyValue(one(func(*types.ProvenEntry) {}), appHash, abci.KeyPath([]byte("another key")), e.Value), "another key")
			other := append([]byte(nil), appHash...)
			other[0] ^= 1
			_, err := abci.VerifyProofOps(prt, &cmtcrypto.ProofOps{Ops: []cmtcrypto.ProofOp{op}}, other)
			require.Error(t, err, "another app hash")
		}
	}
}
