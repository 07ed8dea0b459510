package ledger_test

import (
	"strings"
	"testing"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/apptest"
	"github.com/bytepoints/bytepoints/types"
)

const week = 7 * 86400

func balance(t *testing.T, c *apptest.Chain, cust string) *types.BalanceResponse {
	t.Helper()
	var b types.BalanceResponse
	q := c.App.Query("/balance/"+cust, false)
	if err := b.Unmarshal(q.Value); err != nil {
		t.Fatal(err)
	}
	return &b
}

func position(t *testing.T, c *apptest.Chain, seller string) int64 {
	t.Helper()
	var s types.SellerResponse
	if err := s.Unmarshal(c.App.Query("/seller/"+seller, false).Value); err != nil {
		t.Fatal(err)
	}
	return s.Seller.PositionPaise
}

// TestPendingPoints: seller-a's 7-day return window keeps its points
// pending; they count in the balance but cannot be redeemed, a refund
// inside the window takes them back first, and the first block after the
// window releases them.
func TestPendingPoints(t *testing.T) {
	a, b := apptest.Operator("seller-a"), apptest.Operator("seller-b")
	c := apptest.New(t, []string{"seller-a", "seller-b"}, nil)
	// 100 available points of seller-a's from before its window.
	apptest.MustOK(t, c.Do(a, &types.MsgPurchase{CustomerId: "alice", AmountPaise: 10_000, Flow: apptest.Flow()}))
	apptest.MustOK(t, c.Do(a, &types.MsgSetProgramConfig{ReturnWindowSeconds: week}))
	buy := apptest.MustOK(t, c.Do(a, &types.MsgPurchase{CustomerId: "alice", AmountPaise: 30_000, Flow: apptest.Flow()})).GetPurchase()
	if buy.PointsIssued != 300 || buy.PendingUntil != c.Time+week {
		t.Fatalf("purchase %+v", buy)
	}
	bal := balance(t, c, "alice")
	if bal.Points != 400 || bal.PendingPoints != 300 || bal.AvailablePoints != 100 {
		t.Fatalf("balance %d pending %d available %d", bal.Points, bal.PendingPoints, bal.AvailablePoints)
	}
	if l := bal.Lots[len(bal.Lots)-1]; l.PendingUntil != buy.PendingUntil || l.Points != 300 {
		t.Fatalf("pending lot %+v", l)
	}
	// Pending points cannot be spent, at any seller.
	r := c.Do(b, &types.MsgRedeem{CustomerId: "alice", Points: 101, BillPaise: 1e6, Flow: apptest.Flow()})
	if r.Code != types.CodeInsufficientPoints || !strings.Contains(r.Log, "300 points are pending") {
		t.Fatalf("code %d: %s", r.Code, r.Log)
	}
	// The 100 available ones can: they leave the pending lot alone.
	x := apptest.MustOK(t, c.Do(b, &types.MsgRedeem{CustomerId: "alice", Points: 100, BillPaise: 1e6, Flow: apptest.Flow()})).GetRedeem()
	if x.CrossSellerPoints != 100 || x.Balance != 300 {
		t.Fatalf("redeem %+v", x)
	}
	// A refund of ₹200 inside the window: 200 points back, all from the
	// pending lot, no shortfall although the older points were spent.
	rf := apptest.MustOK(t, c.Do(a, &types.MsgRefund{PurchaseId: buy.PurchaseId, AmountPaise: 20_000})).GetRefund()
	if rf.PointsClawedBack != 200 || rf.PointsShortfall != 0 || rf.SellerCreditPaise != 20_000 {
		t.Fatalf("refund %+v", rf)
	}
	if bal := balance(t, c, "alice"); bal.PendingPoints != 100 || bal.AvailablePoints != 0 {
		t.Fatalf("after refund: pending %d available %d", bal.PendingPoints, bal.AvailablePoints)
	}
	// seller-a paid ₹400 for 400 points and got ₹200 back; seller-b was paid ₹100.
	if pa, pb := position(t, c, "seller-a"), position(t, c, "seller-b"); pa != -20_000 || pb != 10_000 {
		t.Fatalf("positions a=%d b=%d", pa, pb)
	}
	// Exactly at pending_until the lot is still pending; the block after releases it.
	c.Block(buy.PendingUntil - c.Time)
	if bal := balance(t, c, "alice"); bal.PendingPoints != 100 {
		t.Fatalf("released at pending_until: %d pending", bal.PendingPoints)
	}
	c.Block(1)
	released := false
	for _, ev := range c.Events {
		released = released || ev.Type == types.EventPointsReleased
	}
	if bal := balance(t, c, "alice"); bal.PendingPoints != 0 || bal.AvailablePoints != 100 || !released {
		t.Fatalf("after the window: pending %d available %d released event %v", bal.PendingPoints, bal.AvailablePoints, released)
	}
	apptest.MustOK(t, c.Do(b, &types.MsgRedeem{CustomerId: "alice", Points: 100, BillPaise: 1e6, Flow: apptest.Flow()}))
	// Window back to 0: new points are available at once.
	apptest.MustOK(t, c.Do(a, &types.MsgSetProgramConfig{}))
	if p := apptest.MustOK(t, c.Do(a, &types.MsgPurchase{CustomerId: "alice", AmountPaise: 100, Flow: apptest.Flow()})).GetPurchase(); p.PendingUntil != 0 {
		t.Fatalf("pending with no window: %+v", p)
	}
}

// TestReleaseIsBoundedPerBlock: more pending lots due than
// max_releases_per_block drain over the following blocks, oldest first.
func TestReleaseIsBoundedPerBlock(t *testing.T) {
	a := apptest.Operator("seller-a")
	p := apptestParams()
	p.MaxReleasesPerBlock = 2
	c := apptest.New(t, []string{"seller-a"}, p)
	apptest.MustOK(t, c.Do(a, &types.MsgSetProgramConfig{ReturnWindowSeconds: 3600}))
	var txs [][]byte
	for _, cust := range []string{"c1", "c2", "c3", "c4", "c5"} {
		txs = append(txs, c.Tx(a, &types.MsgPurchase{CustomerId: cust, AmountPaise: 1000, Flow: apptest.Flow()}))
	}
	for _, r := range c.Block(5, txs...) {
		apptest.MustOK(t, r)
	}
	pending := func() (n int) {
		for _, cust := range []string{"c1", "c2", "c3", "c4", "c5"} {
			if balance(t, c, cust).PendingPoints > 0 {
				n++
			}
		}
		return n
	}
	want := []int{3, 1, 0}
	c.Block(3601)
	for i, w := range want {
		if i > 0 {
			c.Block(5)
		}
		if got := pending(); got != w {
			t.Fatalf("block %d after the window: %d customers pending, want %d", i, got, w)
		}
	}
}

// TestPendingLotExpires: a window longer than the lot validity (allowed;
// the lot expires while pending) keeps every count right.
func TestPendingLotExpires(t *testing.T) {
	a := apptest.Operator("seller-a")
	p := apptestParams()
	p.LotValiditySeconds = 86400
	c := apptest.New(t, []string{"seller-a"}, p)
	apptest.MustOK(t, c.Do(a, &types.MsgSetProgramConfig{ReturnWindowSeconds: 2 * 86400}))
	apptest.MustOK(t, c.Do(a, &types.MsgPurchase{CustomerId: "c1", AmountPaise: 1000, Flow: apptest.Flow()}))
	c.Block(86401) // expires (invariants checked after every block)
	if b := balance(t, c, "c1"); b.Points != 0 || b.PendingPoints != 0 {
		t.Fatalf("%+v", b)
	}
	c.Block(2 * 86400)
}

func apptestParams() *types.Params { return app.DefaultParams() }
