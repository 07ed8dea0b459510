package apptest

import (
	"encoding/hex"
	"testing"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/types"
	"github.com/stretchr/testify/require"
)

// balance reads a customer's points from committed state.
func balance(t *testing.T, c *Chain, cust string) uint64 {
	t.Helper()
	q := c.App.Query("/balance/"+cust, false)
	require.Equal(t, types.CodeOK, q.Code, q.Log)
	var b types.BalanceResponse
	require.NoError(t, b.Unmarshal(q.Value))
	return b.Points
}

// replayOf decodes a duplicate's data: the original result with ReplayOf.
func replayOf(t *testing.T, r app.TxResult) *types.TxResultData {
	t.Helper()
	require.Equal(t, types.CodeDuplicate, r.Code, r.Log)
	var d types.TxResultData
	require.NoError(t, d.Unmarshal(r.Data))
	require.NotNil(t, d.ReplayOf, "a replay names the transaction it replays")
	require.Equal(t, hex.EncodeToString(d.ReplayOf.TxHash), r.Info)
	return &d
}

// SPEC §4: the pair is remembered for the offline window of block time,
// independent of valid_until_height. A retry long after the first
// envelope's validity ended, re-signed with a new validity, is a replay:
// the original result, nothing booked again.
func TestRetryAfterTheValidityWindowIsReplayed(t *testing.T) {
	c := New(t, []string{"seller-a"}, nil)
	op := Operator("seller-a")
	body := c.Body(op, &types.MsgPurchase{CustomerId: "cust", AmountPaise: 10000, Flow: Flow()})
	body.ValidUntilHeight = uint64(c.Height + 3)
	first := MustOK(t, c.Block(5, Sign(body, op))[0])
	origHeight := c.Height
	for i := 0; i < 150; i++ { // far beyond the 3-block validity
		c.Block(5)
	}
	body.ValidUntilHeight = uint64(c.Height + 3)
	r := c.Block(5, Sign(body, op))[0]
	d := replayOf(t, r)
	require.Equal(t, origHeight, d.ReplayOf.Height)
	require.Equal(t, first.GetPurchase().PointsIssued, d.GetPurchase().PointsIssued)
	require.Equal(t, first.GetPurchase().PurchaseId, d.GetPurchase().PurchaseId)
	require.Equal(t, uint64(100), balance(t, c, "cust"), "booked once")

	// CheckTx answers the same, before any block.
	body.ValidUntilHeight++
	ct := c.App.CheckTx(Sign(body, op))
	replayOf(t, ct)
}

// After the offline window the pair is forgotten (pruned by block time):
// the key books again, as a new operation.
func TestIdempotencyRecordsArePrunedAfterTheWindow(t *testing.T) {
	p := app.DefaultParams()
	p.IdempotencyWindowSeconds = p.MaxPaymentLagSeconds // the shortest the chain allows
	c := New(t, []string{"seller-a"}, p)
	op := Operator("seller-a")
	body := c.Body(op, &types.MsgPurchase{CustomerId: "cust", AmountPaise: 10000, Flow: Flow()})
	body.ValidUntilHeight = uint64(c.Height + 2) // the envelope's validity ends well inside the window
	MustOK(t, c.Block(5, Sign(body, op))[0])
	c.Block(p.IdempotencyWindowSeconds - 10)
	body.ValidUntilHeight = uint64(c.Height + 10)
	require.Equal(t, types.CodeDuplicate, c.Block(5, Sign(body, op))[0].Code, "still inside the window")
	c.Block(10) // the window has now passed
	body.ValidUntilHeight = uint64(c.Height + 10)
	MustOK(t, c.Block(5, Sign(body, op))[0])
	require.Equal(t, uint64(200), balance(t, c, "cust"))
}

// SPEC §10: a record outlives both its time window and the height bound of
// the envelope it remembers, so the same signed bytes never book twice —
// neither after the coalition stood still longer than the window, nor under
// a governed window shorter than the height bound in block time (which
// ValidateParams allows: the record's hold makes it safe). Once the height
// bound has passed too, the record is forgotten: the bytes are expired.
func TestReplayAfterTheWindowWithinTheHeightBoundIsRefused(t *testing.T) {
	halted := app.DefaultParams()
	halted.IdempotencyWindowSeconds = halted.MaxPaymentLagSeconds
	short := app.DefaultParams()
	short.MaxPaymentLagSeconds = 0
	short.IdempotencyWindowSeconds = 1
	short.MaxValidAheadBlocks = 1_000_000
	for _, tc := range []struct {
		name   string
		params *types.Params
		gap    int64 // block time between the booking and the replay
	}{
		{"chain halted longer than the window", halted, halted.IdempotencyWindowSeconds + 3600},
		{"window shorter than the height bound", short, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, app.ValidateParams(tc.params), "governance accepts these parameters")
			c := New(t, []string{"seller-a"}, tc.params)
			op := Operator("seller-a")
			body := c.Body(op, &types.MsgPurchase{CustomerId: "cust", AmountPaise: 10000, Flow: Flow()})
			body.ValidUntilHeight = uint64(c.Height + 10)
			signed := Sign(body, op)
			MustOK(t, c.Block(5, signed)[0])
			c.Block(tc.gap) // the window has passed; the envelope is still valid
			c.Block(5)
			r := c.Block(5, signed)[0]
			require.Equal(t, types.CodeDuplicate, r.Code, r.Log)
			require.Equal(t, uint64(100), balance(t, c, "cust"), "booked once")
			require.Equal(t, types.CodeDuplicate, c.App.CheckTx(signed).Code)
			require.Equal(t, 1, countPrefix(c, types.PrefixIdem), "held by the height bound")

			for uint64(c.Height) <= body.ValidUntilHeight {
				c.Block(5)
			}
			require.Equal(t, 0, countPrefix(c, types.PrefixIdem), "forgotten once the height bound passed too")
			require.Equal(t, 0, countPrefix(c, types.PrefixIdemHold))
			require.Equal(t, types.CodeExpired, c.Block(5, signed)[0].Code)
			require.Equal(t, uint64(100), balance(t, c, "cust"))
		})
	}
}

// Pruning is bounded per block: a backlog drains over several blocks.
func TestIdempotencyPruningIsBounded(t *testing.T) {
	p := app.DefaultParams()
	p.IdempotencyWindowSeconds = p.MaxPaymentLagSeconds
	p.MaxIdempotencyPrunesPerBlock = 4
	c := New(t, []string{"seller-a"}, p)
	op := Operator("seller-a")
	var txs [][]byte
	for i := 0; i < 10; i++ {
		b := c.Body(op, &types.MsgPurchase{CustomerId: "cust", AmountPaise: 100, Flow: Flow()})
		b.ValidUntilHeight = uint64(c.Height + 1) // only the window keeps the records
		txs = append(txs, Sign(b, op))
	}
	for _, r := range c.Block(5, txs...) {
		MustOK(t, r)
	}
	c.Block(p.IdempotencyWindowSeconds + 10)
	left := []int{}
	for i := 0; i < 3; i++ {
		left = append(left, countPrefix(c, types.PrefixIdem))
		c.Block(1)
	}
	left = append(left, countPrefix(c, types.PrefixIdem))
	require.Equal(t, []int{6, 2, 0, 0}, left, "records left after each block")
}

func countPrefix(c *Chain, prefix byte) int {
	v := c.DB.View()
	defer v.Discard()
	n := 0
	it := v.Iterator([]byte{prefix}, []byte{prefix + 1})
	defer it.Close()
	for ; it.Valid(); it.Next() {
		n++
	}
	return n
}

// A refused transaction booked nothing and is not remembered: the same key
// may be retried once the reason is gone.
func TestRefusedTransactionsAreNotRemembered(t *testing.T) {
	c := New(t, []string{"seller-a"}, nil)
	op := Operator("seller-a")
	MustOK(t, c.Do(op, &types.MsgPurchase{CustomerId: "cust", AmountPaise: 5000, Flow: Flow()}))
	body := c.Body(op, &types.MsgRedeem{CustomerId: "cust", Points: 80, BillPaise: 8000, Flow: Flow()})
	require.Equal(t, types.CodeInsufficientPoints, c.Block(5, Sign(body, op))[0].Code)
	MustOK(t, c.Do(op, &types.MsgPurchase{CustomerId: "cust", AmountPaise: 5000, Flow: Flow()}))
	body.ValidUntilHeight = uint64(c.Height + 10)
	MustOK(t, c.Block(5, Sign(body, op))[0])
	require.Equal(t, uint64(20), balance(t, c, "cust"))
}

// The same key with a different message is idempotency_conflict (code 15)
// naming the original tx, never the other operation's result — for every
// message type, on CheckTx and in a block alike.
func TestKeyReuseWithAnotherMessageIsAConflict(t *testing.T) {
	c := New(t, []string{"seller-a", "seller-b", "seller-c", "seller-d", "seller-e"}, nil)
	op := Operator("seller-a")
	MustOK(t, c.Do(op, &types.MsgRegisterTerminal{TerminalId: "till-1", Pubkey: Pub("a/till-1")}))
	buy := MustOK(t, c.Do(op, &types.MsgPurchase{CustomerId: "cust", AmountPaise: 10000, Flow: Flow()})).GetPurchase()
	spend := MustOK(t, c.Do(op, &types.MsgRedeem{CustomerId: "cust", Points: 10, BillPaise: 1000, Flow: Flow()})).GetRedeem()

	cases := []struct {
		name         string
		first, other any
	}{
		{"purchase", &types.MsgPurchase{CustomerId: "cust", AmountPaise: 1000, Flow: Flow()},
			&types.MsgPurchase{CustomerId: "cust", AmountPaise: 9900, Flow: Flow()}},
		{"purchase then redeem", &types.MsgPurchase{CustomerId: "cust", AmountPaise: 1000, Flow: Flow()},
			&types.MsgRedeem{CustomerId: "cust", Points: 5, BillPaise: 1000, Flow: Flow()}},
		{"redeem", &types.MsgRedeem{CustomerId: "cust", Points: 1, BillPaise: 1000, Flow: Flow()},
			&types.MsgRedeem{CustomerId: "cust", Points: 2, BillPaise: 1000, Flow: Flow()}},
		{"refund", &types.MsgRefund{PurchaseId: buy.PurchaseId, AmountPaise: 100},
			&types.MsgRefund{PurchaseId: buy.PurchaseId, AmountPaise: 200}},
		{"void", &types.MsgVoidRedemption{RedemptionId: spend.RedemptionId},
			&types.MsgVoidRedemption{RedemptionId: make([]byte, 32)}},
		{"register terminal", &types.MsgRegisterTerminal{TerminalId: "till-2", Pubkey: Pub("a/till-2")},
			&types.MsgRegisterTerminal{TerminalId: "till-3", Pubkey: Pub("a/till-3")}},
		{"set config", &types.MsgSetSellerConfig{EarnRateBps: 20000}, &types.MsgSetSellerConfig{EarnRateBps: 30000}},
		{"propose", &types.MsgPropose{Description: "one", Action: &types.MsgPropose_SuspendSeller{SuspendSeller: "seller-d"}},
			&types.MsgPropose{Description: "two", Action: &types.MsgPropose_SuspendSeller{SuspendSeller: "seller-c"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b1 := c.Body(op, tc.first)
			orig := c.Block(5, Sign(b1, op))[0]
			MustOK(t, orig)
			b2 := c.Body(op, tc.other)
			b2.IdempotencyKey = b1.IdempotencyKey
			tx := Sign(b2, op)
			for _, r := range []app.TxResult{c.App.CheckTx(tx), c.Block(5, tx)[0]} {
				require.Equal(t, types.CodeIdempotencyConflict, r.Code, r.Log)
				require.Equal(t, hex.EncodeToString(types.TxHash(Sign(b1, op))), r.Info, "names the original tx")
				var d types.TxResultData
				require.NoError(t, d.Unmarshal(r.Data))
				require.Nil(t, d.Result, "never the other operation's result")
				require.Equal(t, types.TxHash(Sign(b1, op)), d.ConflictWith.TxHash)
			}
			// The first message again is still a replay of the original.
			b1.ValidUntilHeight++
			replayOf(t, c.Block(5, Sign(b1, op))[0])
		})
	}
	// 100 earned - 10 spent, then only the first of each pair: +10 (purchase),
	// +10 (purchase), -1 (redeem), -1 (refund of Rs 1), +10 (void).
	require.Equal(t, uint64(118), balance(t, c, "cust"), "only the first of each pair was booked")
}

// A recheck after a block re-runs what the block can change for a waiting
// transaction: its idempotency pair, its expiry, its signer's standing.
func TestRecheckSeesWhatTheBlockChanged(t *testing.T) {
	c := New(t, []string{"seller-a"}, nil)
	op := Operator("seller-a")
	MustOK(t, c.Do(op, &types.MsgRegisterTerminal{TerminalId: "till-1", Pubkey: Pub("a/till-1")}))
	buy := func() *types.MsgPurchase {
		return &types.MsgPurchase{CustomerId: "cust", AmountPaise: 100, Flow: Flow()}
	}
	booked := c.Body(op, buy())
	waiting := c.Body(op, buy())
	waiting.IdempotencyKey = booked.IdempotencyKey
	waiting.ValidUntilHeight++ // the same operation re-signed: waits in a mempool
	short := c.Body(op, buy())
	short.ValidUntilHeight = uint64(c.Height + 2)
	till := c.Tx("a/till-1", buy())
	for _, tx := range [][]byte{Sign(waiting, op), Sign(short, op), till} {
		require.Equal(t, types.CodeOK, c.App.RecheckTx(tx).Code)
	}
	MustOK(t, c.Block(5, Sign(booked, op))[0])
	MustOK(t, c.Do(op, &types.MsgRevokeTerminal{TerminalId: "till-1"}))
	require.Equal(t, types.CodeDuplicate, c.App.RecheckTx(Sign(waiting, op)).Code)
	require.Equal(t, types.CodeExpired, c.App.RecheckTx(Sign(short, op)).Code)
	require.Equal(t, types.CodeUnknownSigner, c.App.RecheckTx(till).Code)
}
