package program_test

import (
	"strings"
	"testing"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/apptest"
	"github.com/bytepoints/bytepoints/types"
)

const day = 86400

var (
	opA = apptest.Operator("seller-a")
	opB = apptest.Operator("seller-b")
)

// chain has three sellers, a till at seller-a, and alice with 1,000 points
// of seller-b's (₹1,000 spent there) and none pending.
func chain(t *testing.T) *apptest.Chain {
	c := apptest.New(t, []string{"seller-a", "seller-b", "seller-c"}, nil)
	apptest.MustOK(t, c.Do(opA, &types.MsgRegisterTerminal{TerminalId: "till-1", Pubkey: apptest.Pub("seller-a/till-1")}))
	apptest.MustOK(t, c.Do(opA, &types.MsgRegisterTerminal{TerminalId: "till-2", Pubkey: apptest.Pub("seller-a/till-2")}))
	apptest.MustOK(t, c.Do(opB, &types.MsgPurchase{CustomerId: "alice", AmountPaise: 100_000, Flow: apptest.Flow()}))
	return c
}

func wantCode(t *testing.T, r app.TxResult, code types.Code, logHas ...string) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("code %d (%s), want %s: %s", r.Code, r.Code.Name(), code.Name(), r.Log)
	}
	for _, s := range logHas {
		if !strings.Contains(r.Log, s) {
			t.Fatalf("log %q does not say %q", r.Log, s)
		}
	}
}

func TestSetProgramConfigBounds(t *testing.T) {
	cases := []struct {
		name   string
		signer string
		m      *types.MsgSetProgramConfig
		code   types.Code
		says   []string
	}{
		{"all rules", opA, &types.MsgSetProgramConfig{MinRedeemPoints: 50, MaxRedeemShareBps: 5000, ReturnWindowSeconds: 7 * day}, types.CodeOK, nil},
		{"back to none", opA, &types.MsgSetProgramConfig{}, types.CodeOK, nil},
		{"minimum at the governed bound", opA, &types.MsgSetProgramConfig{MinRedeemPoints: 1000}, types.CodeOK, nil},
		{"minimum above the governed bound", opA, &types.MsgSetProgramConfig{MinRedeemPoints: 1001}, types.CodeInvalidAmount, []string{"1001 points (₹1001.00)", "1000 points (₹1000.00)"}},
		{"share above the whole bill", opA, &types.MsgSetProgramConfig{MaxRedeemShareBps: 10001}, types.CodeInvalidAmount, []string{"100.01%"}},
		{"share below the governed floor", opA, &types.MsgSetProgramConfig{MaxRedeemShareBps: 999}, types.CodeInvalidAmount, []string{"9.99%", "10%"}},
		{"window at 30 days", opA, &types.MsgSetProgramConfig{ReturnWindowSeconds: 30 * day}, types.CodeOK, nil},
		{"window above 30 days", opA, &types.MsgSetProgramConfig{ReturnWindowSeconds: 31 * day}, types.CodeInvalidAmount, []string{"31 days", "30 days"}},
		{"negative window", opA, &types.MsgSetProgramConfig{ReturnWindowSeconds: -1}, types.CodeInvalidAmount, nil},
		{"a terminal may not", "seller-a/till-1", &types.MsgSetProgramConfig{MinRedeemPoints: 5}, types.CodeUnauthorized, nil},
		{"another seller's program", opB, &types.MsgSetProgramConfig{SellerId: "seller-a", MinRedeemPoints: 5}, types.CodeUnauthorized, nil},
	}
	c := chain(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, c.Do(tc.signer, tc.m), tc.code, tc.says...) })
	}
}

func TestRedemptionRules(t *testing.T) {
	c := chain(t)
	apptest.MustOK(t, c.Do(opA, &types.MsgSetProgramConfig{MinRedeemPoints: 50, MaxRedeemShareBps: 2500}))
	cases := []struct {
		name         string
		seller       string
		points, bill uint64
		code         types.Code
		says         []string
	}{
		{"below the minimum", opA, 49, 100_000, types.CodeInvalidAmount, []string{"at least 50 points (₹50.00)", "49 points (₹49.00) asked"}},
		{"the minimum", opA, 50, 100_000, types.CodeOK, nil},
		{"above a quarter of the bill", opA, 51, 20_000, types.CodeInvalidAmount, []string{"25%", "₹200.00", "50 points (₹50.00)", "51 points (₹51.00) asked"}},
		{"exactly a quarter", opA, 50, 20_000, types.CodeOK, nil},
		{"a quarter rounds down to whole points", opA, 50, 19_999, types.CodeInvalidAmount, []string{"49 points (₹49.00)"}},
		{"other sellers keep their own rules", opB, 10, 1000, types.CodeOK, nil},
		{"the bill rule still applies", opB, 11, 1000, types.CodeInvalidAmount, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, c.Do(tc.seller, &types.MsgRedeem{CustomerId: "alice", Points: tc.points, BillPaise: tc.bill, Flow: apptest.Flow()}), tc.code, tc.says...)
		})
	}
	// Governance narrows the bounds below the seller's rules: the nearest
	// bound applies at once, and the query says so.
	p := app.DefaultParams()
	p.MaxMinRedeemPoints, p.MinRedeemShareBps = 20, 5000
	govern(t, c, p)
	var cr types.CampaignsResponse
	q := c.App.Query("/campaigns/seller-a", false)
	if err := cr.Unmarshal(q.Value); err != nil {
		t.Fatal(err)
	}
	if cr.EffectiveMinRedeemPoints != 20 || cr.EffectiveMaxRedeemShareBps != 5000 || cr.Program.MinRedeemPoints != 50 {
		t.Fatalf("effective rules %+v", cr)
	}
	wantCode(t, c.Do(opA, &types.MsgRedeem{CustomerId: "alice", Points: 20, BillPaise: 4000, Flow: apptest.Flow()}), types.CodeOK)
	wantCode(t, c.Do(opA, &types.MsgRedeem{CustomerId: "alice", Points: 21, BillPaise: 4000, Flow: apptest.Flow()}), types.CodeInvalidAmount, "50%")
}

// govern passes a set-params proposal with every seller's vote.
func govern(t *testing.T, c *apptest.Chain, p *types.Params) {
	t.Helper()
	id := apptest.MustOK(t, c.Do(opA, &types.MsgPropose{Action: &types.MsgPropose_SetParams{SetParams: p}})).GetPropose().ProposalId
	apptest.MustOK(t, c.Do(opB, &types.MsgVote{ProposalId: id, Yes: true}))
	if !apptest.MustOK(t, c.Do(apptest.Operator("seller-c"), &types.MsgVote{ProposalId: id, Yes: true})).GetVote().Executed {
		t.Fatal("proposal did not pass")
	}
}
