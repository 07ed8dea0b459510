package apptest

import (
	"fmt"
	"testing"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/types"
)

func TestGovernance(t *testing.T) {
	p := app.DefaultParams()
	p.ProposalTtlBlocks = 10
	sellers := []string{"s-0", "s-1", "s-2", "s-3", "s-4"}
	c := New(t, sellers, p)
	op := Operator
	MustOK(t, c.Do(op("s-4"), &types.MsgRegisterTerminal{TerminalId: "t1", Pubkey: Pub("s-4/t1")}))

	// Suspend s-4: needs > 2/3 of 5, i.e. 4 yes.
	r := MustOK(t, c.Do(op("s-0"), &types.MsgPropose{Action: &types.MsgPropose_SuspendSeller{SuspendSeller: "s-4"}})).GetPropose()
	for _, s := range []string{"s-1", "s-2"} {
		if v := MustOK(t, c.Do(op(s), &types.MsgVote{ProposalId: r.ProposalId, Yes: true})).GetVote(); v.Executed {
			t.Fatalf("executed with %d yes of 5", v.Yes)
		}
	}
	if res := c.Do(op("s-1"), &types.MsgVote{ProposalId: r.ProposalId, Yes: true}); res.Code != types.CodeInvalidArgument {
		t.Fatalf("second vote by the same member: %d", res.Code)
	}
	v := MustOK(t, c.Do(op("s-3"), &types.MsgVote{ProposalId: r.ProposalId, Yes: true})).GetVote()
	if !v.Executed {
		t.Fatal("4 of 5 did not pass")
	}
	// Its terminals stop; its operator may not trade, only vote.
	if res := c.Do("s-4/t1", &types.MsgPurchase{CustomerId: "x", AmountPaise: 100, Flow: Flow()}); res.Code != types.CodeUnauthorized {
		t.Fatalf("suspended seller's terminal: %d", res.Code)
	}
	// Now 4 active: removing another would leave 3 (< min 4).
	if res := c.Do(op("s-0"), &types.MsgPropose{Action: &types.MsgPropose_RemoveSeller{RemoveSeller: "s-3"}}); res.Code != types.CodeInvalidArgument {
		t.Fatalf("proposal below the minimum: %d %s", res.Code, res.Log)
	}
	// Reinstating: 3 of 4 active yes passes (> 2/3 of 4 needs 3).
	r = MustOK(t, c.Do(op("s-0"), &types.MsgPropose{Action: &types.MsgPropose_ReinstateSeller{ReinstateSeller: "s-4"}})).GetPropose()
	MustOK(t, c.Do(op("s-1"), &types.MsgVote{ProposalId: r.ProposalId, Yes: true}))
	if !MustOK(t, c.Do(op("s-2"), &types.MsgVote{ProposalId: r.ProposalId, Yes: true})).GetVote().Executed {
		t.Fatal("reinstatement did not pass")
	}
	MustOK(t, c.Do("s-4/t1", &types.MsgPurchase{CustomerId: "x", AmountPaise: 100, Flow: Flow()}))

	// Two no votes of five make two thirds unreachable: rejected at once.
	r = MustOK(t, c.Do(op("s-0"), &types.MsgPropose{Action: &types.MsgPropose_RemoveSeller{RemoveSeller: "s-4"}})).GetPropose()
	MustOK(t, c.Do(op("s-1"), &types.MsgVote{ProposalId: r.ProposalId, Yes: false}))
	MustOK(t, c.Do(op("s-2"), &types.MsgVote{ProposalId: r.ProposalId, Yes: false}))
	if res := c.Do(op("s-3"), &types.MsgVote{ProposalId: r.ProposalId, Yes: true}); res.Code != types.CodeInvalidArgument {
		t.Fatalf("vote on a rejected proposal: %d", res.Code)
	}
	// A proposal lapses after the governed number of blocks.
	r = MustOK(t, c.Do(op("s-0"), &types.MsgPropose{Action: &types.MsgPropose_RemoveSeller{RemoveSeller: "s-4"}})).GetPropose()
	for i := 0; i < 10; i++ {
		c.Block(5)
	}
	if res := c.Do(op("s-1"), &types.MsgVote{ProposalId: r.ProposalId, Yes: true}); res.Code != types.CodeExpired {
		t.Fatalf("vote on a lapsed proposal: %d %s", res.Code, res.Log)
	}
	q := c.App.Query(fmt.Sprintf("/proposal/%d", r.ProposalId), false)
	var pr types.Proposal
	if q.Code != 0 || pr.Unmarshal(q.Value) != nil || pr.Status != types.ProposalStatus_PROPOSAL_STATUS_EXPIRED {
		t.Fatalf("proposal 5: %+v %s", pr.Status, q.Log)
	}
	// Removal: power 0 and every key of the seller unknown.
	r = MustOK(t, c.Do(op("s-0"), &types.MsgPropose{Action: &types.MsgPropose_RemoveSeller{RemoveSeller: "s-4"}})).GetPropose()
	for _, s := range []string{"s-1", "s-2", "s-3"} {
		MustOK(t, c.Do(op(s), &types.MsgVote{ProposalId: r.ProposalId, Yes: true}))
	}
	for _, k := range []string{"s-4/t1", op("s-4")} {
		if res := c.Do(k, &types.MsgPurchase{CustomerId: "x", AmountPaise: 100, Flow: Flow()}); res.Code != types.CodeUnknownSigner {
			t.Fatalf("removed seller's key %s: %d", k, res.Code)
		}
	}
	// Params change by vote, validated first.
	bad := *p
	bad.EpochSeconds = 0
	if res := c.Do(op("s-0"), &types.MsgPropose{Action: &types.MsgPropose_SetParams{SetParams: &bad}}); res.Code != types.CodeInvalidArgument {
		t.Fatalf("invalid params proposed: %d", res.Code)
	}
}
