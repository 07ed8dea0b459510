package ledger

import (
	"testing"

	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// env is an in-memory ledger with two sellers and a block clock.
type env struct {
	t   *testing.T
	kv  *store.MemKV
	c   *state.Ctx
	seq byte
}

const day = 86400

func newEnv(t *testing.T) *env {
	kv := store.NewMemKV()
	p := &types.Params{DefaultEarnRateBps: 10000, LotValiditySeconds: 365 * day, EpochSeconds: day,
		MaxPurchasePaise: 1e8, MaxEpochIssuePoints: 1e9}
	e := &env{t: t, kv: kv, c: &state.Ctx{KV: kv, Height: 1, Time: 1_767_225_600, Params: p, Actor: "test"}}
	for _, s := range []string{"seller-a", "seller-b"} {
		members.PutSeller(kv, &types.SellerRecord{SellerId: s, Status: types.SellerStatus_SELLER_STATUS_ACTIVE})
	}
	state.PutTotals(kv, &types.Totals{})
	settle.Open(e.c)
	return e
}

// tx gives the next operation a fresh id, as a transaction hash would.
func (e *env) tx() []byte {
	e.seq++
	id := make([]byte, 32)
	id[31] = e.seq
	e.c.TxHash = id
	return id
}

func (e *env) seller(id string) *types.SellerRecord {
	s, _ := members.Seller(e.kv, id)
	return s
}

func (e *env) issue(seller, cust string, paise uint64) *types.PurchaseResult {
	e.t.Helper()
	e.tx()
	r, err := Issue(e.c, Purchase{Seller: e.seller(seller), CustomerID: cust, AmountPaise: paise})
	if err != nil {
		e.t.Fatalf("issue: %v", err)
	}
	return r
}

func (e *env) position(s string) int64 { return e.seller(s).PositionPaise }

func (e *env) balance(c string) uint64 {
	cu, _ := Customer(e.kv, c)
	return cu.Points
}

func wantCode(t *testing.T, err error, code types.Code) {
	t.Helper()
	if types.CodeOf(err) != code {
		t.Fatalf("got %v, want code %s", err, code.Name())
	}
}

func TestIssue(t *testing.T) {
	cases := []struct {
		name    string
		paise   uint64
		rate    uint32
		points  uint64
		code    types.Code
		payment uint64
	}{
		{"100 rupees at the default rate", 10000, 0, 100, types.CodeOK, 10000},
		{"fractions of a rupee round down", 10099, 0, 100, types.CodeOK, 10000},
		{"below one rupee earns nothing", 99, 0, 0, types.CodeOK, 0},
		{"double rate", 10000, 20000, 200, types.CodeOK, 20000},
		{"zero amount", 0, 0, 0, types.CodeInvalidAmount, 0},
		{"the per-purchase maximum", 1e8, 0, 1e6, types.CodeOK, 1e8},
		{"above the per-purchase maximum", 1e8 + 1, 0, 0, types.CodeInvalidAmount, 0},
		{"far above it (would overflow a position)", 1 << 63, 20000, 0, types.CodeInvalidAmount, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			s := e.seller("seller-a")
			s.EarnRateBps = tc.rate
			e.tx()
			r, err := Issue(e.c, Purchase{Seller: s, CustomerID: "cust", AmountPaise: tc.paise})
			wantCode(t, err, tc.code)
			if err != nil {
				return
			}
			if r.PointsIssued != tc.points || r.SellerPaymentPaise != tc.payment {
				t.Fatalf("got %d points / %d paise, want %d / %d", r.PointsIssued, r.SellerPaymentPaise, tc.points, tc.payment)
			}
			if e.position("seller-a") != -int64(tc.payment) || e.balance("cust") != tc.points {
				t.Fatalf("position %d balance %d", e.position("seller-a"), e.balance("cust"))
			}
			if r.ExpiresAt != 0 && r.ExpiresAt != e.c.Time+365*day {
				t.Fatalf("expires at %d", r.ExpiresAt)
			}
		})
	}
}

func TestRedeemSplitsSameAndCross(t *testing.T) {
	e := newEnv(t)
	e.issue("seller-a", "c", 10000) // 100 A points, expires first
	e.c.Time += day
	e.issue("seller-b", "c", 5000) // 50 B points
	e.tx()
	r, err := Redeem(e.c, Redemption{SellerID: "seller-b", CustomerID: "c", Points: 120, BillPaise: 12000}, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Earliest expiry first: all 100 of A's lot (cross at B), then 20 of B's.
	if r.CrossSellerPoints != 100 || r.SameSellerPoints != 20 || r.SystemPaymentPaise != 12000 || r.Balance != 30 {
		t.Fatalf("%+v", r)
	}
	if e.position("seller-b") != -5000+12000 || e.position("seller-a") != -10000 {
		t.Fatalf("positions a=%d b=%d", e.position("seller-a"), e.position("seller-b"))
	}
	lots := Lots(e.kv, "c")
	if len(lots) != 1 || lots[0].Issuer != "seller-b" || lots[0].Points != 30 {
		t.Fatalf("lots left: %+v", lots)
	}
}

func TestRedeemErrors(t *testing.T) {
	cases := []struct {
		name   string
		points uint64
		bill   uint64
		cust   string
		code   types.Code
	}{
		{"more than the balance", 101, 1000000, "c", types.CodeInsufficientPoints},
		{"above the bill", 60, 5999, "c", types.CodeInvalidAmount},
		{"zero points", 0, 100, "c", types.CodeInvalidAmount},
		{"overflowing value", 1 << 62, 1e8, "c", types.CodeOverflow},
		{"bill above the per-purchase maximum", 1, 1e8 + 1, "c", types.CodeInvalidAmount},
		{"unknown customer", 1, 100, "nobody", types.CodeNotFound},
		{"exactly the bill", 60, 6000, "c", types.CodeOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.issue("seller-a", "c", 10000)
			e.tx()
			_, err := Redeem(e.c, Redemption{SellerID: "seller-a", CustomerID: tc.cust, Points: tc.points, BillPaise: tc.bill}, 0)
			wantCode(t, err, tc.code)
		})
	}
}

func TestRefundClawsBackAndReportsShortfall(t *testing.T) {
	e := newEnv(t)
	p := e.issue("seller-a", "c", 10000) // 100 points
	e.tx()
	if _, err := Redeem(e.c, Redemption{SellerID: "seller-b", CustomerID: "c", Points: 70, BillPaise: 7000}, 0); err != nil {
		t.Fatal(err)
	}
	// Refund Rs 50 of the Rs 100: 50 points to reverse, only 30 left unspent.
	e.tx()
	r, err := Refund(e.c, "seller-a", p.PurchaseId, 5000)
	if err != nil {
		t.Fatal(err)
	}
	if r.PointsClawedBack != 30 || r.PointsShortfall != 20 || r.SellerCreditPaise != 3000 || r.Balance != 0 {
		t.Fatalf("%+v", r)
	}
	// A paid 10000, got 3000 back: the 20 spent points stay its cost.
	if e.position("seller-a") != -7000 {
		t.Fatalf("position %d", e.position("seller-a"))
	}
	// The rest of the purchase: 50 more points to reverse, none left.
	e.tx()
	r, err = Refund(e.c, "seller-a", p.PurchaseId, 0)
	if err != nil || r.RefundedPaise != 5000 || r.PointsClawedBack != 0 || r.PointsShortfall != 50 {
		t.Fatalf("%+v %v", r, err)
	}
	e.tx()
	_, err = Refund(e.c, "seller-a", p.PurchaseId, 1)
	wantCode(t, err, types.CodeInvalidAmount)
}

func TestRefundErrors(t *testing.T) {
	e := newEnv(t)
	p := e.issue("seller-a", "c", 10000)
	e.tx()
	_, err := Refund(e.c, "seller-b", p.PurchaseId, 100)
	wantCode(t, err, types.CodeUnauthorized)
	_, err = Refund(e.c, "seller-a", make([]byte, 32), 100)
	wantCode(t, err, types.CodeNotFound)
	_, err = Refund(e.c, "seller-a", p.PurchaseId, 10001)
	wantCode(t, err, types.CodeInvalidAmount)
}

func TestPartialRefundsReverseNoMoreThanOne(t *testing.T) {
	e := newEnv(t)
	p := e.issue("seller-a", "c", 999) // 9 points
	var total uint64
	for i := 0; i < 9; i++ {
		e.tx()
		r, err := Refund(e.c, "seller-a", p.PurchaseId, 111)
		if err != nil {
			t.Fatal(err)
		}
		total += r.PointsClawedBack
	}
	if total != 9 || e.balance("c") != 0 {
		t.Fatalf("clawed %d, balance %d", total, e.balance("c"))
	}
}

func TestVoidRestoresLotsExactly(t *testing.T) {
	e := newEnv(t)
	e.issue("seller-a", "c", 10000)
	e.issue("seller-b", "c", 5000)
	before := Lots(e.kv, "c")
	id := e.tx()
	if _, err := Redeem(e.c, Redemption{SellerID: "seller-b", CustomerID: "c", Points: 120, BillPaise: 20000}, 0); err != nil {
		t.Fatal(err)
	}
	e.tx()
	v, err := Void(e.c, "seller-b", id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if v.PointsRestored != 120 || v.SellerDebitPaise != 12000 || v.Balance != 150 {
		t.Fatalf("%+v", v)
	}
	after := Lots(e.kv, "c")
	if len(after) != len(before) {
		t.Fatalf("lots %v vs %v", after, before)
	}
	for i := range before {
		if before[i].String() != after[i].String() {
			t.Fatalf("lot %d: %v vs %v", i, after[i], before[i])
		}
	}
	if e.position("seller-b") != -5000 {
		t.Fatalf("position of b %d", e.position("seller-b"))
	}
	_, err = Void(e.c, "seller-b", id, 0)
	wantCode(t, err, types.CodeInvalidArgument)
}

func TestVoidRules(t *testing.T) {
	e := newEnv(t)
	e.issue("seller-a", "c", 10000)
	id := e.tx()
	if _, err := Redeem(e.c, Redemption{SellerID: "seller-a", CustomerID: "c", Points: 10, BillPaise: 1000}, 5); err != nil {
		t.Fatal(err)
	}
	_, err := Void(e.c, "seller-b", id, 5)
	wantCode(t, err, types.CodeUnauthorized)
	_, err = Void(e.c, "seller-a", id, 6) // the epoch has closed
	wantCode(t, err, types.CodeInvalidArgument)
	_, err = Void(e.c, "seller-a", make([]byte, 32), 5)
	wantCode(t, err, types.CodeNotFound)
}

func TestVoidOfExpiredLotIsBreakage(t *testing.T) {
	e := newEnv(t)
	e.issue("seller-a", "c", 10000)
	id := e.tx()
	if _, err := Redeem(e.c, Redemption{SellerID: "seller-b", CustomerID: "c", Points: 40, BillPaise: 4000}, 0); err != nil {
		t.Fatal(err)
	}
	e.c.Time += 366 * day
	if _, n, err := ExpireBefore(e.c, e.c.Time, 1000); err != nil || n != 60 {
		t.Fatalf("expired %d %v", n, err)
	}
	e.tx()
	v, err := Void(e.c, "seller-b", id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if v.PointsRestored != 0 || v.PointsExpired != 40 || e.balance("c") != 0 {
		t.Fatalf("%+v", v)
	}
	// A got all 100 back as breakage; B's reimbursement was reversed.
	if e.position("seller-a") != 0 || e.position("seller-b") != 0 {
		t.Fatalf("a=%d b=%d", e.position("seller-a"), e.position("seller-b"))
	}
}

func TestExpiryCreditsIssuer(t *testing.T) {
	e := newEnv(t)
	e.issue("seller-a", "c", 10000)
	e.c.Time += 10
	e.issue("seller-b", "c", 5000)
	exp := e.c.Time - 10 + 365*day
	// Not before "the first block after expires_at".
	if _, n, _ := ExpireBefore(e.c, exp, 1000); n != 0 {
		t.Fatalf("expired %d at expires_at itself", n)
	}
	if _, n, _ := ExpireBefore(e.c, exp+1, 1000); n != 100 {
		t.Fatalf("expired %d", n)
	}
	if e.balance("c") != 50 || e.position("seller-a") != 0 || e.position("seller-b") != -5000 {
		t.Fatalf("balance %d a %d b %d", e.balance("c"), e.position("seller-a"), e.position("seller-b"))
	}
	if ep := settle.SellerEpoch(e.kv, "seller-a"); ep.ExpiredPoints != 100 {
		t.Fatalf("epoch breakage %d", ep.ExpiredPoints)
	}
}

func TestEpochIssuanceCap(t *testing.T) {
	e := newEnv(t)
	e.c.Params.MaxEpochIssuePoints = 250
	e.issue("seller-a", "c", 10000) // 100 points
	e.issue("seller-a", "c", 15000) // 250: exactly the cap
	e.tx()
	_, err := Issue(e.c, Purchase{Seller: e.seller("seller-a"), CustomerID: "c", AmountPaise: 100})
	wantCode(t, err, types.CodeInvalidAmount)
	// The cap is per seller: another seller still issues.
	e.issue("seller-b", "c", 10000)
	// And per epoch: the next epoch starts from zero.
	e.c.Time += day
	settle.Close(e.c)
	e.issue("seller-a", "c", 10000)
	if e.balance("c") != 450 {
		t.Fatalf("balance %d, want 450", e.balance("c"))
	}
}

// Expiry takes at most limit lots per call, earliest first, and the rest
// on the next calls: a backlog drains without any block growing unbounded.
func TestExpiryIsBoundedPerBlock(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 7; i++ {
		e.issue("seller-a", "c", 1000)
		e.c.Time++
	}
	e.c.Time += 366 * day
	var lots []int
	for {
		n, _, err := ExpireBefore(e.c, e.c.Time, 3)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		lots = append(lots, n)
	}
	if len(lots) != 3 || lots[0] != 3 || lots[1] != 3 || lots[2] != 1 || e.balance("c") != 0 || e.position("seller-a") != 0 {
		t.Fatalf("expired per call %v, balance %d, position %d", lots, e.balance("c"), e.position("seller-a"))
	}
}

// A transaction may not take a position beyond ±settle.MaxTxPaise; block
// credits (breakage) may, so they never fail.
func TestPositionEnvelope(t *testing.T) {
	e := newEnv(t)
	e.issue("seller-a", "c", 10000) // escrow 10000, position -10000
	s := e.seller("seller-a")
	s.PositionPaise = settle.MaxTxPaise - 5000
	members.PutSeller(e.kv, s)
	e.tx()
	branch := *e.c // as the app runs every transaction: in a branch dropped on failure
	branch.KV = store.NewCache(e.kv)
	_, err := Redeem(&branch, Redemption{SellerID: "seller-a", CustomerID: "c", Points: 60, BillPaise: 6000}, 0)
	wantCode(t, err, types.CodeOverflow)
	e.c.Time += 366 * day
	if _, pts, err := ExpireBefore(e.c, e.c.Time, 1000); err != nil || pts != 100 {
		t.Fatalf("breakage beyond the envelope: %d points, %v", pts, err)
	}
	if got := e.position("seller-a"); got != settle.MaxTxPaise+5000 {
		t.Fatalf("position %d", got)
	}
}
