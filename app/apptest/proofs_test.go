package apptest

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/risk"
	"github.com/bytepoints/bytepoints/types"
)

// proofCase is one query; found=false means the answer is "not found",
// proven with VerifyAbsence.
type proofCase struct {
	path  string
	found bool
}

// proofChain builds real state: terminals, lots from two sellers, a
// redemption, history, two proposals, and two statements with epochs
// between them that had no block (so no statement).
func proofChain(t *testing.T) (*Chain, []proofCase) {
	sellers := []string{"seller-a", "seller-b", "seller-c", "seller-d", "seller-e"}
	c := New(t, sellers, nil)
	a, b := Operator("seller-a"), Operator("seller-b")
	c.Block(5)
	empty := []proofCase{
		{"/proposals", true}, {"/statements", true}, {"/balance/nobody", true}, {"/history/nobody", true},
		{"/seller/seller-c", true}, {"/sellers", true}, {"/crms/nobody/100", true},
		{"/proposal/1", false}, {"/statement/0", false}, {"/upgrade", true},
	}
	runProofCases(t, c, empty)

	MustOK(t, c.Do(a, &types.MsgRegisterTerminal{TerminalId: "till-1", Pubkey: Pub("seller-a/till-1")}))
	MustOK(t, c.Do(a, &types.MsgRegisterTerminal{TerminalId: "till-2", Pubkey: Pub("seller-a/till-2")}))
	MustOK(t, c.Do(a, &types.MsgRevokeTerminal{TerminalId: "till-2"}))
	MustOK(t, c.Do(a, &types.MsgCreateCampaign{Name: "double", MultiplierBps: 20000, MinAmountPaise: 1e7, BudgetPoints: 500}))
	MustOK(t, c.Do(Operator("seller-c"), &types.MsgSetProgramConfig{MinRedeemPoints: 10, ReturnWindowSeconds: 86400}))
	r := c.Block(5,
		c.Tx("seller-a/till-1", &types.MsgPurchase{CustomerId: "alice", AmountPaise: 10000, Flow: Flow()}),
		c.Tx(b, &types.MsgPurchase{CustomerId: "alice", AmountPaise: 5050, Flow: Flow()}),
		c.Tx(b, &types.MsgPurchase{CustomerId: "bob", AmountPaise: 9999, Flow: Flow()}),
	)
	buy := MustOK(t, r[0]).GetPurchase().PurchaseId
	red := MustOK(t, c.Do(b, &types.MsgRedeem{CustomerId: "alice", Points: 30, BillPaise: 8000, Flow: Flow()})).GetRedeem().RedemptionId
	MustOK(t, c.Do(a, &types.MsgPropose{Action: &types.MsgPropose_SuspendSeller{SuspendSeller: "seller-d"}}))
	MustOK(t, c.Do(b, &types.MsgPropose{Description: "second", Action: &types.MsgPropose_SuspendSeller{SuspendSeller: "seller-c"}}))
	c.Block(86400)     // closes epoch 0
	c.Block(3 * 86400) // closes epoch 1; epochs 2 and 3 see no block
	c.Block(5, c.Tx(b, &types.MsgPurchase{CustomerId: "carol", AmountPaise: 2000, Flow: Flow()}))

	var sts types.StatementsResponse
	require.NoError(t, sts.Unmarshal(c.App.Query("/statements", false).Value))
	require.Len(t, sts.Statements, 2)
	newer, older := sts.Statements[0].Epoch, sts.Statements[1].Epoch
	require.Equal(t, older+1, newer)
	require.Equal(t, newer+3, sts.Open.Epoch, "two epochs without blocks")
	st := func(e uint64) string { return fmt.Sprintf("/statement/%d", e) }
	unknown := strings.Repeat("ab", 32)
	return c, []proofCase{
		{"/balance/alice", true},
		{"/upgrade", true},
		{"/balance/nobody", true},
		{"/history/alice", true},
		{"/history/alice/1/1", true},
		{"/history/nobody", true},
		{"/seller/seller-a", true},
		{"/seller/seller-x", false},
		{"/sellers", true},
		{st(older), true},
		{st(newer), true},
		{st(newer + 1), false},          // an epoch without blocks has no statement
		{st(sts.Open.Epoch), false},     // not closed yet
		{st(sts.Open.Epoch + 9), false}, // not begun
		{"/statement/0", false},         // before the chain
		{"/statements", true},
		{"/statements/1", true}, // the page before the newest
		{"/statements/0", true}, // an empty page, still proven
		{"/totals", true},
		{"/params", true},
		{"/purchase/" + hex.EncodeToString(buy), true},
		{"/purchase/" + unknown, false},
		{"/redemption/" + hex.EncodeToString(red), true},
		{"/redemption/" + unknown, false},
		{"/proposal/1", true},
		{"/proposal/3", false},
		{"/proposals", true},
		{"/crms/alice/1000", true},
		{"/crms/alice/1000/seller-a", true},
		{"/crms/alice/250000/seller-b/1500000000", true},
		{"/crms/nobody/1000/seller-a/0", true}, // a card never seen
		{"/crms/alice/1000/seller-x", false},   // no such seller
		{"/campaigns/seller-a", true},
		{"/campaigns/seller-b", true}, // no program record
		{"/campaigns/seller-x", false},
		{"/imports", true}, // no approval yet (app/imports proves one with)
		{"/imports/seller-a", false},
	}
}

func TestEveryQueryPathProvable(t *testing.T) {
	c, cases := proofChain(t)
	// Every supported path is in the table.
	for _, p := range app.QueryPaths() {
		name := strings.Split(strings.Split(strings.Trim(p, "/"), "/")[0], "[")[0]
		var n int
		for _, tc := range cases {
			if strings.HasPrefix(tc.path, "/"+name+"/") || tc.path == "/"+name {
				n++
			}
		}
		require.NotZero(t, n, "no case for %s", p)
	}
	runProofCases(t, c, cases)
}

func runProofCases(t *testing.T, c *Chain, cases []proofCase) {
	t.Helper()
	_, hash := c.App.Info()
	other := bytes.Clone(hash)
	other[0] ^= 1
	for _, tc := range cases {
		t.Run(fmt.Sprintf("h%d%s", c.Height, tc.path), func(t *testing.T) {
			q := c.App.Query(tc.path, true)
			require.NotEmpty(t, q.Proofs, "every answer reads state and is proven")
			if !tc.found {
				require.Equal(t, types.CodeNotFound, q.Code, q.Log)
				require.NoError(t, app.VerifyAbsence(tc.path, q.Proofs, hash))
				require.Error(t, app.VerifyAbsence(tc.path, q.Proofs, other), "another app hash")
				require.Error(t, app.VerifyQuery(tc.path, nil, q.Proofs, hash), "not found is no answer")
				for i := range q.Proofs {
					require.Error(t, app.VerifyAbsence(tc.path, drop(q.Proofs, i), hash), "proof %d dropped", i)
					require.Error(t, app.VerifyAbsence(tc.path, flipProof(q.Proofs, i), hash), "proof %d flipped", i)
				}
				return
			}
			require.Equal(t, types.CodeOK, q.Code, q.Log)
			require.NoError(t, app.VerifyQuery(tc.path, q.Value, q.Proofs, hash))
			require.Error(t, app.VerifyAbsence(tc.path, q.Proofs, hash), "a present answer is not an absence")
			require.Error(t, app.VerifyQuery(tc.path, q.Value, q.Proofs, other), "another app hash")
			require.Error(t, app.VerifyQuery(tc.path, q.Value, nil, hash), "no proofs")
			for i := range q.Value {
				v := bytes.Clone(q.Value)
				v[i] ^= 0x01
				require.Error(t, app.VerifyQuery(tc.path, v, q.Proofs, hash), "value byte %d flipped", i)
			}
			for i := range q.Proofs {
				require.Error(t, app.VerifyQuery(tc.path, q.Value, drop(q.Proofs, i), hash), "proof %d (%x) dropped", i, q.Proofs[i].Key)
				require.Error(t, app.VerifyQuery(tc.path, q.Value, flipProof(q.Proofs, i), hash), "proof %d flipped", i)
				if q.Proofs[i].Exists {
					require.Error(t, app.VerifyQuery(tc.path, q.Value, flipValue(q.Proofs, i), hash), "proven value %d flipped", i)
				}
			}
			// Without proofs the node answers the same bytes.
			require.Equal(t, q.Value, c.App.Query(tc.path, false).Value)
		})
	}
}

func drop(ps []*types.ProvenEntry, i int) []*types.ProvenEntry {
	out := append([]*types.ProvenEntry(nil), ps[:i]...)
	return append(out, ps[i+1:]...)
}

func flipProof(ps []*types.ProvenEntry, i int) []*types.ProvenEntry {
	out := append([]*types.ProvenEntry(nil), ps...)
	e := *ps[i]
	e.Proof = bytes.Clone(e.Proof)
	e.Proof[len(e.Proof)/2] ^= 0x01
	out[i] = &e
	return out
}

func flipValue(ps []*types.ProvenEntry, i int) []*types.ProvenEntry {
	out := append([]*types.ProvenEntry(nil), ps...)
	e := *ps[i]
	e.Value = bytes.Clone(e.Value)
	e.Value[len(e.Value)-1] ^= 0x01
	out[i] = &e
	return out
}

// A node that leaves an entry out of a list, with its proof, is caught:
// lists are read by proven counts, never by trusting a range scan.
func TestProvenListsAreComplete(t *testing.T) {
	c, _ := proofChain(t)
	_, hash := c.App.Info()
	omit := func(path string, key []byte, edit func(value []byte) []byte) {
		t.Helper()
		q := c.App.Query(path, true)
		require.Equal(t, types.CodeOK, q.Code, q.Log)
		require.NoError(t, app.VerifyQuery(path, q.Value, q.Proofs, hash))
		var kept []*types.ProvenEntry
		for _, e := range q.Proofs {
			if !bytes.Equal(e.Key, key) {
				kept = append(kept, e)
			}
		}
		require.Equal(t, len(q.Proofs)-1, len(kept), "%s reads %x", path, key)
		err := app.VerifyQuery(path, edit(q.Value), kept, hash)
		require.Error(t, err, "%s without %x", path, key)
	}
	marshal := func(m interface{ Marshal() ([]byte, error) }) []byte {
		bz, err := m.Marshal()
		require.NoError(t, err)
		return bz
	}

	var bal types.BalanceResponse
	require.NoError(t, bal.Unmarshal(c.App.Query("/balance/alice", false).Value))
	require.Len(t, bal.Lots, 2)
	l := bal.Lots[0]
	omit("/balance/alice", types.LotKey("alice", l.ExpiresAt, l.Seq), func(v []byte) []byte {
		var m types.BalanceResponse
		require.NoError(t, m.Unmarshal(v))
		m.Lots = m.Lots[1:]
		return marshal(&m)
	})

	var sts types.StatementsResponse
	require.NoError(t, sts.Unmarshal(c.App.Query("/statements", false).Value))
	omit("/statements", types.StatementKey(sts.Statements[1].Epoch), func(v []byte) []byte {
		var m types.StatementsResponse
		require.NoError(t, m.Unmarshal(v))
		require.Len(t, m.Statements, 2)
		require.Less(t, m.Statements[1].Epoch, m.Statements[0].Epoch, "newest first")
		m.Statements = m.Statements[:1]
		return marshal(&m)
	})

	omit("/proposals", types.ProposalKey(1), func(v []byte) []byte {
		var m types.ProposalsResponse
		require.NoError(t, m.Unmarshal(v))
		require.Len(t, m.Proposals, 2)
		m.Proposals = m.Proposals[:1]
		return marshal(&m)
	})

	omit("/sellers", types.SellerKey("seller-b"), func(v []byte) []byte {
		var m types.SellersResponse
		require.NoError(t, m.Unmarshal(v))
		require.Len(t, m.Sellers, 5)
		m.Sellers = append(m.Sellers[:1], m.Sellers[2:]...)
		return marshal(&m)
	})

	omit("/seller/seller-a", types.TerminalKey("seller-a", "till-2"), func(v []byte) []byte {
		var m types.SellerResponse
		require.NoError(t, m.Unmarshal(v))
		require.Len(t, m.Terminals, 2)
		m.Terminals = m.Terminals[:1]
		return marshal(&m)
	})

	// An absent record claimed for a present one: the seller's record is
	// proven present, so dropping it to claim "not found" cannot verify.
	q := c.App.Query("/seller/seller-a", true)
	require.Error(t, app.VerifyAbsence("/seller/seller-a", q.Proofs[1:], hash))
	require.Error(t, app.VerifyAbsence("/seller/seller-a", nil, hash))
}

// The decision answer is the same bytes whichever way it is computed: the
// assembler a verifier re-runs (state only: params, clock record, card,
// seller), the node's cached fast path without proofs, and App.Decide.
func TestDecisionFastPathMatchesAssembler(t *testing.T) {
	c, _ := proofChain(t)
	for _, q := range []risk.Question{
		{CustomerID: "alice", AmountPaise: 1000},
		{CustomerID: "alice", AmountPaise: 1000, SellerID: "seller-a"},
		{CustomerID: "alice", AmountPaise: 250000, SellerID: "seller-b", ContextNano: 1500000000},
		{CustomerID: "bob", AmountPaise: 99, SellerID: "seller-c", ContextNano: 500000000},
		{CustomerID: "nobody", AmountPaise: 5000, SellerID: "seller-a"},
	} {
		path := fmt.Sprintf("/crms/%s/%d/%s/%d", q.CustomerID, q.AmountPaise, q.SellerID, q.ContextNano)
		if q.SellerID == "" {
			path = fmt.Sprintf("/crms/%s/%d", q.CustomerID, q.AmountPaise)
		}
		proven := c.App.Query(path, true)
		require.Equal(t, types.CodeOK, proven.Code, proven.Log)
		fast := c.App.Query(path, false)
		require.Equal(t, types.CodeOK, fast.Code, fast.Log)
		d, h, err := c.App.Decide(q)
		require.NoError(t, err)
		bz, err := d.Marshal()
		require.NoError(t, err)
		require.Equal(t, proven.Value, fast.Value, path)
		require.Equal(t, proven.Value, bz, path)
		require.Equal(t, proven.Height, h)
	}
	// Refusals agree too.
	for _, path := range []string{"/crms/alice/1000/seller-x", "/crms/alice/x", "/crms/alice/1000/seller-a/-5", "/crms/bad%2Fid/5"} {
		p, f := c.App.Query(path, true), c.App.Query(path, false)
		require.Equal(t, f.Code, p.Code, path)
		require.Equal(t, f.Log, p.Log, path)
	}
}
