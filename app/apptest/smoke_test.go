package apptest

import (
	"testing"

	"github.com/bytepoints/bytepoints/types"
)

func TestWorkedExample(t *testing.T) {
	c := New(t, []string{"seller-a", "seller-b"}, nil)
	a, b := Operator("seller-a"), Operator("seller-b")
	d := MustOK(t, c.Do(a, &types.MsgPurchase{CustomerId: "cust1", AmountPaise: 10000, Flow: Flow()}))
	if d.GetPurchase().PointsIssued != 100 || d.GetPurchase().SellerPaymentPaise != 10000 {
		t.Fatalf("purchase: %+v", d.GetPurchase())
	}
	d = MustOK(t, c.Do(a, &types.MsgRedeem{CustomerId: "cust1", Points: 60, BillPaise: 25000, Flow: Flow()}))
	if r := d.GetRedeem(); r.SameSellerPoints != 60 || r.CrossSellerPoints != 0 {
		t.Fatalf("redeem at A: %+v", r)
	}
	d = MustOK(t, c.Do(b, &types.MsgRedeem{CustomerId: "cust1", Points: 40, BillPaise: 4000, Flow: Flow()}))
	if r := d.GetRedeem(); r.SameSellerPoints != 0 || r.CrossSellerPoints != 40 || r.SystemPaymentPaise != 4000 {
		t.Fatalf("redeem at B: %+v", r)
	}
}
