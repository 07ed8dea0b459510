package apptest

import (
	"regexp"
	"testing"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/types"
	"github.com/stretchr/testify/require"
)

var rfc3339 = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z`)

// Refusals speak the user's units (issue 14 §6): rupees as ₹ with two
// decimals, points counted, UTC RFC 3339 times, enum names, plain decimals
// for ratios. The codes are unchanged.
func TestRefusalsSpeakTheUsersUnits(t *testing.T) {
	p := app.DefaultParams()
	p.MaxEpochIssuePoints = 1000
	c := New(t, []string{"seller-a"}, p)
	op := Operator("seller-a")
	buy := MustOK(t, c.Do(op, &types.MsgPurchase{CustomerId: "cust", AmountPaise: 10000, Flow: Flow()})).GetPurchase()
	regular(t, c, "card", 3) // a little reputation: a CRMS skip limit well below ₹100

	aborted := &types.PaymentFlow{ReadType: types.ReadType_READ_TYPE_CONTACT_EMV, Cvm: types.CVM_CVM_WRONG_PIN_ABORTED, Auth: types.AuthResult_AUTH_RESULT_APPROVED}
	for _, tc := range []struct {
		name    string
		msg     any
		code    types.Code
		want    []string // substrings of the log
		notWant []string
		date    bool // the log names a UTC RFC 3339 time
	}{
		{"redeem above the bill", &types.MsgRedeem{CustomerId: "cust", Points: 20, BillPaise: 1000, Flow: Flow()}, types.CodeInvalidAmount,
			[]string{"20 points", "₹20.00", "bill of ₹10.00"}, []string{"paise"}, false},
		{"redeem more than the balance", &types.MsgRedeem{CustomerId: "cust", Points: 500, BillPaise: 100000, Flow: Flow()}, types.CodeInsufficientPoints,
			[]string{"has 100 points", "cannot redeem 500 points"}, nil, false},
		{"bill above the maximum", &types.MsgRedeem{CustomerId: "cust", Points: 1, BillPaise: p.MaxPurchasePaise + 1, Flow: Flow()}, types.CodeInvalidAmount,
			[]string{"₹1000000.01", "₹1000000.00"}, nil, false},
		{"purchase above the maximum", &types.MsgPurchase{CustomerId: "cust", AmountPaise: p.MaxPurchasePaise + 1, Flow: Flow()}, types.CodeInvalidAmount,
			[]string{"₹1000000.01"}, nil, false},
		{"epoch issue cap", &types.MsgPurchase{CustomerId: "cust", AmountPaise: 200000, Flow: Flow()}, types.CodeInvalidAmount,
			[]string{"2000 points more", "cap of 1000 points"}, nil, false},
		{"payment time outside the window", &types.MsgPurchase{CustomerId: "cust", AmountPaise: 100, Flow: Flow(), PaymentTimeMs: (GenesisTime - 30*86400) * 1000},
			types.CodeInvalidArgument, []string{"2025-12-02T00:00:00Z", "7 days before", "5 minutes after"}, []string{" ms"}, true},
		{"refund above what is left", &types.MsgRefund{PurchaseId: buy.PurchaseId, AmountPaise: 20000}, types.CodeInvalidAmount,
			[]string{"₹200.00", "₹100.00"}, []string{"paise"}, false},
		{"contradictory flow", &types.MsgPurchase{CustomerId: "cust", AmountPaise: 100, Flow: aborted}, types.CodeInvalidArgument,
			[]string{"wrong-pin-aborted", "approved", "wrong-pin-then-ok"}, []string{"cvm 4", "auth 1"}, false},
		{"unknown cvm", &types.MsgPurchase{CustomerId: "cust", AmountPaise: 100, Flow: &types.PaymentFlow{ReadType: 6, Cvm: 99, Auth: 1}}, types.CodeInvalidArgument,
			[]string{"unknown cardholder verification 99", "pin-online"}, nil, false},
		{"context out of range", &types.MsgRedeem{CustomerId: "card", Points: 1, BillPaise: 100, ContextNano: 3_000_000_000}, types.CodeInvalidArgument,
			[]string{"context multiplier 3 ", "[0.5, 2]"}, nil, false},
		{"redeem needs verification", &types.MsgRedeem{CustomerId: "card", Points: 100, BillPaise: 10000}, types.CodeCVMRequired,
			[]string{"100 points (₹100.00)", "skip limit ₹"}, nil, false},
		{"earn rate out of bounds", &types.MsgSetSellerConfig{EarnRateBps: 60000}, types.CodeInvalidAmount,
			[]string{"60000 bps (600 points per ₹100)", "500 points per ₹100"}, nil, false},
		{"Risk_max out of bounds", &types.MsgSetSellerConfig{RiskMaxNano: 60_000_000}, types.CodeInvalidAmount,
			[]string{"Risk_max 0.06", "[0.001, 0.05]"}, []string{"nano"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tx := c.Tx(op, tc.msg)
			for _, r := range []app.TxResult{c.App.CheckTx(tx), c.Block(5, tx)[0]} {
				if r.Code == types.CodeOK {
					continue // admission leaves some checks to the block
				}
				require.Equal(t, tc.code, r.Code, r.Log)
				for _, w := range tc.want {
					require.Contains(t, r.Log, w)
				}
				for _, w := range tc.notWant {
					require.NotContains(t, r.Log, w)
				}
				if tc.date {
					require.Regexp(t, rfc3339, r.Log)
				}
			}
			require.NotEqual(t, types.CodeOK, c.Results[0].Code, "the block refuses it")
		})
	}
}

// Parameter validation speaks the same units.
func TestParamsValidationSpeaksTheUsersUnits(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(p *types.Params)
		want []string
	}{
		{"window below the lag", func(p *types.Params) { p.IdempotencyWindowSeconds = 3600 }, []string{"1 hour", "7 days"}},
		{"purchase bound", func(p *types.Params) { p.MaxPurchasePaise = 0 }, []string{"₹0.00", "₹0.01"}},
		{"epoch issue bound", func(p *types.Params) { p.MaxEpochIssuePoints = 0 }, []string{"0 points", "1 point"}},
		{"earn rate bounds", func(p *types.Params) { p.DefaultEarnRateBps = 60000 }, []string{"600 points per ₹100"}},
		{"Risk_max bounds", func(p *types.Params) { p.Crms.DefaultRiskMaxNano = 60_000_000 }, []string{"[0.001, 0.05]", "default 0.06"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := app.DefaultParams()
			tc.edit(p)
			err := app.ValidateParams(p)
			require.Equal(t, types.CodeInvalidArgument, types.CodeOf(err), "%v", err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}
