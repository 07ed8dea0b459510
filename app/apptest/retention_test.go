package apptest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
	"github.com/stretchr/testify/require"
)

const day = 86400

// shortRetention are parameters whose record retention is the shortest the
// chain allows with an 8-day lot validity: the idempotency window and the
// lot validity bound it from below.
func shortRetention() *types.Params {
	p := app.DefaultParams()
	p.LotValiditySeconds = 8 * day
	p.RecordRetentionSeconds = 8 * day
	return p
}

// prunedRefundRefused books a purchase and a redemption on a chain with a
// short retention, lets both pass it, and checks that a refund and a void
// are refused with record_pruned, in CheckTx and in a block, with a log
// naming the retention. It reports whether they were.
func prunedRefundRefused(t *testing.T) bool {
	t.Helper()
	c := New(t, []string{"seller-a"}, shortRetention())
	op := Operator("seller-a")
	buy := MustOK(t, c.Do(op, &types.MsgPurchase{CustomerId: "cust", AmountPaise: 10000, Flow: Flow()})).GetPurchase()
	red := MustOK(t, c.Do(op, &types.MsgRedeem{CustomerId: "cust", Points: 10, BillPaise: 1000, Flow: Flow()})).GetRedeem()
	for i := 0; i < 9; i++ {
		c.Block(day)
	}
	txs := [][]byte{
		c.Tx(op, &types.MsgRefund{PurchaseId: buy.PurchaseId}),
		c.Tx(op, &types.MsgVoidRedemption{RedemptionId: red.RedemptionId}),
	}
	ok := true
	for _, tx := range txs {
		if r := c.App.CheckTx(tx); r.Code != types.CodeRecordPruned || !strings.Contains(r.Log, "8 days") {
			t.Errorf("CheckTx of a refund or void past the retention: %s %q", r.Code.Name(), r.Log)
			ok = false
		}
	}
	for _, r := range c.Block(5, txs...) {
		if r.Code != types.CodeRecordPruned || !strings.Contains(r.Log, "8 days") {
			t.Errorf("refund or void past the retention: %s %q", r.Code.Name(), r.Log)
			ok = false
		}
	}
	return ok
}

// Booked records leave state once past the retention (through the block-end
// hook, on a real store), the invariants hold throughout, the history query
// answers the entries kept (provably), and refunds and voids of the pruned
// records are refused with record_pruned.
func TestRecordsLeaveStatePastRetention(t *testing.T) {
	c := New(t, []string{"seller-a"}, shortRetention())
	op := Operator("seller-a")
	old := MustOK(t, c.Do(op, &types.MsgPurchase{CustomerId: "cust", AmountPaise: 10000, Flow: Flow()})).GetPurchase()
	c.Block(5 * day)
	recent := MustOK(t, c.Do(op, &types.MsgPurchase{CustomerId: "cust", AmountPaise: 10000, Flow: Flow()})).GetPurchase()
	has := func(k []byte) bool {
		v := c.DB.View()
		defer v.Discard()
		return store.Has(v, k)
	}
	require.True(t, has(types.PurchaseKey(old.PurchaseId)))
	c.Block(4 * day) // 9 days after the first purchase, 4 after the second
	require.False(t, has(types.PurchaseKey(old.PurchaseId)), "past the retention: pruned")
	require.False(t, has(types.HistoryKey("cust", 0)))
	require.True(t, has(types.PurchaseKey(recent.PurchaseId)), "inside the retention: kept")
	require.True(t, has(types.HistoryKey("cust", 1)))

	q := c.App.Query("/history/cust", true)
	require.Equal(t, types.CodeOK, q.Code, q.Log)
	var h types.HistoryResponse
	require.NoError(t, h.Unmarshal(q.Value))
	// earn (pruned), earn, and the first lot's expiry at day 8
	require.Equal(t, uint64(3), h.Total, "the count stays: the history is in the blocks")
	require.Len(t, h.Entries, 2, "only the entries inside the retention are in state")
	_, hash := c.App.Info()
	require.NoError(t, app.VerifyQuery("/history/cust", q.Value, q.Proofs, hash), "a history page with pruned entries is provable")

	r := c.Do(op, &types.MsgRefund{PurchaseId: old.PurchaseId})
	require.Equal(t, types.CodeRecordPruned, r.Code, r.Log)
	MustOK(t, c.Do(op, &types.MsgRefund{PurchaseId: recent.PurchaseId, AmountPaise: 100}))
	require.True(t, prunedRefundRefused(t))
}

// The retention is bounded below by the lot validity, the epoch and the
// idempotency window, and above by ten years; the per-block bound by
// [1, 100000]. A proposal outside is refused.
func TestRetentionParamsBounded(t *testing.T) {
	cases := []struct {
		name string
		edit func(p *types.Params)
		ok   bool
	}{
		{"default", func(p *types.Params) {}, true},
		{"equal to the lot validity", func(p *types.Params) { p.RecordRetentionSeconds = p.LotValiditySeconds }, true},
		{"shorter than the lot validity", func(p *types.Params) { p.RecordRetentionSeconds = p.LotValiditySeconds - 1 }, false},
		{"shorter than the idempotency window", func(p *types.Params) {
			p.LotValiditySeconds = day
			p.RecordRetentionSeconds = p.IdempotencyWindowSeconds - 1
		}, false},
		{"shorter than the epoch", func(p *types.Params) {
			p.EpochSeconds = 500 * day
			p.RecordRetentionSeconds = 499 * day
		}, false},
		{"zero", func(p *types.Params) { p.RecordRetentionSeconds = 0 }, false},
		{"ten years", func(p *types.Params) { p.RecordRetentionSeconds = 3650 * day }, true},
		{"above ten years", func(p *types.Params) { p.RecordRetentionSeconds = 3650*day + 1 }, false},
		{"no pruning per block", func(p *types.Params) { p.MaxRecordPrunesPerBlock = 0 }, false},
		{"too much pruning per block", func(p *types.Params) { p.MaxRecordPrunesPerBlock = 100_001 }, false},
	}
	for _, tc := range cases {
		p := app.DefaultParams()
		tc.edit(p)
		err := app.ValidateParams(p)
		require.Equal(t, tc.ok, err == nil, "%s: %v", tc.name, err)
	}
	c := New(t, []string{"s-0", "s-1", "s-2", "s-3"}, nil)
	bad := app.DefaultParams()
	bad.RecordRetentionSeconds = 30 * day
	r := c.Do(Operator("s-0"), &types.MsgPropose{Action: &types.MsgPropose_SetParams{SetParams: bad}})
	require.Equal(t, types.CodeInvalidArgument, r.Code, r.Log)
	require.Contains(t, r.Log, "record retention 30 days")
}

// stateCount is what the committed store holds: keys and key+value bytes,
// in all and for the per-booking records with their index.
type stateCount struct {
	keys, bytes               int
	bookingKeys, bookingBytes int
	statements                int
}

func countState(c *Chain) stateCount {
	v := c.DB.View()
	defer v.Discard()
	var s stateCount
	it := v.Iterator(nil, nil)
	defer it.Close()
	for ; it.Valid(); it.Next() {
		k, n := it.Key(), len(it.Key())+len(it.Value())
		switch k[0] {
		case types.PrefixStatement, types.PrefixStmtIndex:
			// One statement per settlement epoch, not per booking: they
			// grow with time (docs/state.md) and are left out of "flat".
			s.statements++
			continue
		case types.PrefixHistory, types.PrefixPurchase, types.PrefixRedemption, types.PrefixRetention:
			s.bookingKeys++
			s.bookingBytes += n
		}
		s.keys++
		s.bytes += n
	}
	return s
}

// Issue 20's target: at a constant booking rate, state stops growing once
// the chain is older than the retention (plus the lot validity, for the
// history entries that expiring lots leave). Three simulated years at the
// default 400-day retention, one block a day with the same bookings (four
// purchases, a redemption and a refund over eight customers): the key
// count of the store is the same at every sampled day past the retention,
// and the bytes stay within 1 % (varint widths of heights and balances).
func TestStateFlatPastRetention(t *testing.T) {
	if testing.Short() {
		t.Skip("three simulated years")
	}
	c := New(t, []string{"seller-a", "seller-b"}, nil)
	c.Check = false // checked at the sampled days below: a full scan per block is slow
	a, b := Operator("seller-a"), Operator("seller-b")
	customers := []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"}
	var lastBuy []byte
	samples := map[int]stateCount{}
	const days = 3 * 365
	for d := 1; d <= days; d++ {
		txs := [][]byte{}
		for i := 0; i < 4; i++ {
			op := a
			if i%2 == 1 {
				op = b
			}
			txs = append(txs, c.Tx(op, &types.MsgPurchase{CustomerId: customers[(4*d+i)%8], AmountPaise: 20000, Flow: Flow()}))
		}
		txs = append(txs, c.Tx(b, &types.MsgRedeem{CustomerId: customers[(4*d)%8], Points: 10, BillPaise: 5000, Flow: Flow()}))
		if lastBuy != nil {
			txs = append(txs, c.Tx(a, &types.MsgRefund{PurchaseId: lastBuy, AmountPaise: 5000}))
		}
		res := c.Block(day, txs...)
		for i, r := range res {
			require.Equal(t, types.CodeOK, r.Code, "day %d tx %d: %s", d, i, r.Log)
		}
		lastBuy = MustOK(t, res[0]).GetPurchase().PurchaseId
		switch d {
		case 200, 420, 800, 900, 1000, days:
			v := c.DB.View()
			require.NoError(t, app.CheckInvariants(v), "day %d", d)
			v.Discard()
			samples[d] = countState(c)
		}
	}
	t.Logf("state by day: %+v", samples)
	// Before the retention the per-booking records grow with the bookings...
	require.Greater(t, samples[420].bookingKeys, samples[200].bookingKeys*2-samples[200].bookingKeys/10)
	// ...and until lot validity + retention (765 days) the expiry entries
	// that lots leave in the history from day 366 on still accumulate...
	require.Greater(t, samples[800].bookingKeys, samples[420].bookingKeys)
	// ...after that nothing grows: the same keys, the same bytes within 1 %.
	ref := samples[800]
	for _, d := range []int{900, 1000, days} {
		s := samples[d]
		require.Equal(t, ref.bookingKeys, s.bookingKeys, "day %d: per-booking keys", d)
		require.Equal(t, ref.keys, s.keys, "day %d: all keys but statements", d)
		require.InDelta(t, ref.bytes, s.bytes, float64(ref.bytes)/100, "day %d: bytes", d)
	}
	// A day books 15 records (4 purchases, a redemption, 10 history entries:
	// 4 earns, the redemption, the refund, 4 lots expiring), each with its
	// index entry; state holds the 401 days from now-400 days to now.
	require.Equal(t, 2*15*401, ref.bookingKeys)
	require.Equal(t, samples[1000].keys, samples[days].keys)
}

// prefixBytes is the committed store's keys and key+value bytes under each
// one-byte prefix.
func prefixBytes(c *Chain) map[byte][2]int {
	v := c.DB.View()
	defer v.Discard()
	out := map[byte][2]int{}
	it := v.Iterator(nil, nil)
	defer it.Close()
	for ; it.Valid(); it.Next() {
		e := out[it.Key()[0]]
		out[it.Key()[0]] = [2]int{e[0] + 1, e[1] + len(it.Key()) + len(it.Value())}
	}
	return out
}

// TestBytesPerBooking measures what a booking adds to state (docs/state.md,
// Retention): a block of purchases and one of redemptions for customers who
// already exist, measured as the committed store's keys and bytes by prefix
// before and after, and as the store's own commit counters
// (DB.LastCommitStats). Past the retention the purchases and redemptions
// are gone, and of the history only the entries the lots' expiry left.
func TestBytesPerBooking(t *testing.T) {
	const n = 200
	c := New(t, []string{"seller-a"}, nil)
	op := Operator("seller-a")
	cust := func(i int) string { return "customer-" + string(rune('a'+i%26)) + string(rune('a'+i/26)) }
	var txs [][]byte
	for i := 0; i < n; i++ {
		txs = append(txs, c.Tx(op, &types.MsgPurchase{CustomerId: cust(i), AmountPaise: 50000, Flow: Flow()}))
	}
	c.Block(5, txs...)
	measure := func(what string, msg func(i int) any) {
		before := prefixBytes(c)
		txs = txs[:0]
		for i := 0; i < n; i++ {
			txs = append(txs, c.Tx(op, msg(i)))
		}
		for _, r := range c.Block(5, txs...) {
			MustOK(t, r)
		}
		st := c.DB.LastCommitStats()
		after := prefixBytes(c)
		var perKind []string
		var keys, bytes int
		for _, p := range []byte{types.PrefixPurchase, types.PrefixRedemption, types.PrefixHistory, types.PrefixRetention, types.PrefixIdem, types.PrefixIdemExpiry} {
			dk, db := after[p][0]-before[p][0], after[p][1]-before[p][1]
			if dk == 0 {
				continue
			}
			perKind = append(perKind, fmt.Sprintf("0x%02x: %.2f keys %.0f B", p, float64(dk)/n, float64(db)/n))
			keys += dk
			bytes += db
		}
		require.Positive(t, keys)
		t.Logf("%s: state grows by %.2f keys, %.0f B of keys and values per booking (%s); the commit wrote %.1f state keys, %.0f B per booking (LastCommitStats: %d keys, %d B, %d buckets %d B, %d top entries %d B)",
			what, float64(keys)/n, float64(bytes)/n, strings.Join(perKind, "; "), float64(st.StateKeys)/n, float64(st.StateBytes)/n,
			st.StateKeys, st.StateBytes, st.Buckets, st.BucketBytes, st.TopEntries, st.TopBytes)
	}
	measure("purchase", func(i int) any {
		return &types.MsgPurchase{CustomerId: cust(i), AmountPaise: 50000, Flow: Flow()}
	})
	measure("redemption", func(i int) any {
		return &types.MsgRedeem{CustomerId: cust(i), Points: 100, BillPaise: 10000, Flow: Flow()}
	})
	grown := prefixBytes(c)
	c.Block(401 * day) // the lots expire here (and leave an expiry entry each)
	expiredAt := c.Time
	c.Block(5)
	gone := prefixBytes(c)
	// (Idempotency records are held until their envelopes' validity height
	// passes as well: not this test's business.)
	for _, p := range []byte{types.PrefixPurchase, types.PrefixRedemption} {
		require.Positive(t, grown[p][0], "prefix 0x%02x was written", p)
		require.Zero(t, gone[p][0], "prefix 0x%02x past the retention", p)
	}
	// What history is left is the expiry entries of the last days.
	v := c.DB.View()
	defer v.Discard()
	store.Each(v, []byte{types.PrefixRetention}, func(k, _ []byte) bool {
		at, _, err := types.ParseRetentionKey(k)
		require.NoError(t, err)
		require.Equal(t, expiredAt, at, "only the expiry entries remain")
		return true
	})
	require.Equal(t, gone[types.PrefixHistory][0], gone[types.PrefixRetention][0])
}

// Through the block-end hook a backlog drains at most
// max_record_prunes_per_block records a block, oldest first, and a refund
// of a record still waiting in it is refused by time already, naming its
// booking date.
func TestPruningBacklogIsBoundedPerBlock(t *testing.T) {
	p := shortRetention()
	p.MaxRecordPrunesPerBlock = 3
	c := New(t, []string{"seller-a"}, p)
	op := Operator("seller-a")
	var txs [][]byte
	for i := 0; i < 5; i++ {
		txs = append(txs, c.Tx(op, &types.MsgPurchase{CustomerId: "cust", AmountPaise: 10000, Flow: Flow()}))
	}
	var last []byte
	for _, r := range c.Block(5, txs...) {
		last = MustOK(t, r).GetPurchase().PurchaseId
	}
	booked := c.Time
	indexed := func() int { return prefixBytes(c)[types.PrefixRetention][0] }
	require.Equal(t, 10, indexed(), "5 purchases and 5 history entries")
	c.Block(8*day - 5) // still inside the retention and the lots' validity
	require.Equal(t, 10, indexed())
	// The first block past the retention expires the 5 lots (5 expiry
	// entries, not due for pruning) and prunes 3 of the 10 records due.
	r := c.Block(10, c.Tx(op, &types.MsgRefund{PurchaseId: last}))[0]
	require.Equal(t, 12, indexed())
	require.Equal(t, types.CodeRecordPruned, r.Code, r.Log)
	require.Contains(t, r.Log, "booked on "+types.TimeText(booked), "still in state: its date is named")
	for _, want := range []int{9, 6, 5, 5} {
		c.Block(1)
		require.Equal(t, want, indexed())
	}
}
