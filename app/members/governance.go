package members

import (
	"encoding/binary"
	"sort"

	"github.com/bytepoints/bytepoints/app/imports/approval"
	"github.com/bytepoints/bytepoints/app/program/tiers"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/app/upgrade"
	"github.com/bytepoints/bytepoints/types"
)

// Governance (SPEC §7): any active member proposes, members vote with equal
// weight, and a proposal passes with more than two thirds of the active
// members voting yes. It executes in the block that passes it, and lapses
// after the governed number of blocks.

// ParamsValidator checks proposed parameters (owned by package app).
type ParamsValidator func(*types.Params) error

// Passes reports whether yes votes are more than ⅔ of active members.
func Passes(yes, active int) bool { return 3*yes > 2*active }

// Propose records a proposal, counts the proposer's yes vote and executes it
// at once if that already passes (a coalition of one).
func Propose(c *state.Ctx, proposer string, m *types.MsgPropose, validate ParamsValidator) (*types.ProposeResult, error) {
	if err := types.ValidateText("description", m.Description, types.MaxDescLen); err != nil {
		return nil, err
	}
	if err := checkAction(c, m, validate); err != nil {
		return nil, err
	}
	action, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	t := state.Totals(c.KV)
	if t.NextProposalId == 0 {
		t.NextProposalId = 1
	}
	p := &types.Proposal{
		Id: t.NextProposalId, Proposer: proposer, Description: m.Description, Action: action,
		Status: types.ProposalStatus_PROPOSAL_STATUS_OPEN, SubmittedHeight: c.Height,
		ExpiresHeight: c.Height + int64(c.Params.ProposalTtlBlocks), Yes: []string{proposer},
	}
	t.NextProposalId++
	state.PutTotals(c.KV, t)
	c.KV.Set(types.PropExpiryKey(p.ExpiresHeight, p.Id), []byte{1})
	c.Emit(types.EventProposal, "proposal_id", state.U(p.Id), "action", types.ProposalKindName(m), "status", types.ProposalStatuses.Name(types.ProposalStatus_PROPOSAL_STATUS_OPEN), "actor", c.Actor)
	executed, err := tally(c, p, m, validate)
	if err != nil {
		return nil, err
	}
	return &types.ProposeResult{ProposalId: p.Id, Executed: executed}, nil
}

// Vote records a member's vote and executes the proposal if it now passes.
func Vote(c *state.Ctx, voter string, id uint64, yes bool, validate ParamsValidator) (*types.VoteResult, error) {
	p, ok := Proposal(c.KV, id)
	if !ok {
		return nil, types.Errorf(types.CodeNotFound, "proposal %d does not exist", id)
	}
	if p.Status != types.ProposalStatus_PROPOSAL_STATUS_OPEN {
		return nil, types.Errorf(types.CodeInvalidArgument, "proposal %d is %s, not open for votes", id, types.ProposalStatuses.Name(p.Status))
	}
	if c.Height > p.ExpiresHeight {
		return nil, types.Errorf(types.CodeExpired, "proposal %d expired at height %d", id, p.ExpiresHeight)
	}
	if contains(p.Yes, voter) || contains(p.No, voter) {
		return nil, types.Errorf(types.CodeInvalidArgument, "%s has already voted on proposal %d", voter, id)
	}
	if yes {
		p.Yes = insertSorted(p.Yes, voter)
	} else {
		p.No = insertSorted(p.No, voter)
	}
	var m types.MsgPropose
	if err := m.Unmarshal(p.Action); err != nil {
		panic(store.Fault{Err: err})
	}
	executed, err := tally(c, p, &m, validate)
	if err != nil {
		return nil, err
	}
	c.Emit(types.EventProposal, "proposal_id", state.U(id), "vote", yesNo(yes), "voter", voter, "actor", c.Actor)
	return &types.VoteResult{ProposalId: id, Yes: uint32(len(p.Yes)), No: uint32(len(p.No)), Executed: executed}, nil
}

// tally counts the votes of currently active members, executes or rejects
// the proposal when decided, and saves it.
func tally(c *state.Ctx, p *types.Proposal, m *types.MsgPropose, validate ParamsValidator) (bool, error) {
	active := Active(c.KV)
	isActive := map[string]bool{}
	for _, s := range active {
		isActive[s.SellerId] = true
	}
	yes, no := 0, 0
	for _, v := range p.Yes {
		if isActive[v] {
			yes++
		}
	}
	for _, v := range p.No {
		if isActive[v] {
			no++
		}
	}
	executed := false
	switch {
	case Passes(yes, len(active)):
		p.DecidedHeight = c.Height
		if err := checkAction(c, m, validate); err != nil {
			// The world changed since the proposal (e.g. another removal):
			// it passed but cannot run. Record that; do not fail the vote.
			p.Status = types.ProposalStatus_PROPOSAL_STATUS_FAILED
			p.Result = err.Error()
		} else {
			execute(c, m, p.Id)
			p.Status = types.ProposalStatus_PROPOSAL_STATUS_PASSED
			p.Result = "executed"
			executed = true
		}
		c.KV.Delete(types.PropExpiryKey(p.ExpiresHeight, p.Id))
		c.Emit(types.EventProposal, "proposal_id", state.U(p.Id), "status", types.ProposalStatuses.Name(p.Status), "result", p.Result, "actor", c.Actor)
	case !Passes(len(active)-no, len(active)):
		p.Status = types.ProposalStatus_PROPOSAL_STATUS_REJECTED
		p.DecidedHeight = c.Height
		p.Result = "cannot reach two thirds"
		c.KV.Delete(types.PropExpiryKey(p.ExpiresHeight, p.Id))
		c.Emit(types.EventProposal, "proposal_id", state.U(p.Id), "status", types.ProposalStatuses.Name(p.Status), "actor", c.Actor)
	}
	putProposal(c.KV, p)
	return executed, nil
}

// checkAction validates a proposal's action against current state.
func checkAction(c *state.Ctx, m *types.MsgPropose, validate ParamsValidator) error {
	switch a := m.Action.(type) {
	case *types.MsgPropose_AddSeller:
		s := a.AddSeller
		if s == nil {
			return types.Errorf(types.CodeInvalidArgument, "add-seller proposal without a seller")
		}
		if err := ValidateSeller(s); err != nil {
			return err
		}
		if _, ok := Seller(c.KV, s.SellerId); ok {
			return types.Errorf(types.CodeInvalidArgument, "seller %s already exists", s.SellerId)
		}
		if _, ok := SignerRef(c.KV, s.OperatorPubkey); ok {
			return types.Errorf(types.CodeInvalidArgument, "operator key of %s is already registered", s.SellerId)
		}
		for _, o := range Sellers(c.KV) {
			if string(o.ValidatorPubkey) == string(s.ValidatorPubkey) {
				return types.Errorf(types.CodeInvalidArgument, "validator key of %s is already used by %s", s.SellerId, o.SellerId)
			}
		}
		if s.EarnRateBps != 0 && (s.EarnRateBps < c.Params.MinEarnRateBps || s.EarnRateBps > c.Params.MaxEarnRateBps) {
			return types.Errorf(types.CodeInvalidAmount, "earn rate %s is outside the governed bounds [%s, %s]",
				types.EarnRateText(s.EarnRateBps), types.EarnRateText(c.Params.MinEarnRateBps), types.EarnRateText(c.Params.MaxEarnRateBps))
		}
		return nil
	case *types.MsgPropose_RemoveSeller:
		return checkDeactivate(c, a.RemoveSeller, true)
	case *types.MsgPropose_SuspendSeller:
		return checkDeactivate(c, a.SuspendSeller, false)
	case *types.MsgPropose_ReinstateSeller:
		s, ok := Seller(c.KV, a.ReinstateSeller)
		if !ok {
			return types.Errorf(types.CodeNotFound, "seller %s does not exist", a.ReinstateSeller)
		}
		if s.Status != types.SellerStatus_SELLER_STATUS_SUSPENDED {
			return types.Errorf(types.CodeInvalidArgument, "seller %s is not suspended", s.SellerId)
		}
		return nil
	case *types.MsgPropose_SetParams:
		if a.SetParams == nil {
			return types.Errorf(types.CodeInvalidArgument, "set-params proposal without parameters")
		}
		return validate(a.SetParams)
	case *types.MsgPropose_SoftwareUpgrade:
		return upgrade.CheckSchedule(c, a.SoftwareUpgrade)
	case *types.MsgPropose_CancelUpgrade:
		return upgrade.CheckCancel(c, a.CancelUpgrade)
	case *types.MsgPropose_SetTiers:
		return tiers.Validate(a.SetTiers, c.Params.MaxTiers)
	case *types.MsgPropose_ApproveImport:
		return approval.Check(c, a.ApproveImport, Seller)
	default:
		return types.Errorf(types.CodeInvalidArgument, "proposal has no action")
	}
}

// checkDeactivate refuses to take a member out when that would leave fewer
// active validators than the governed minimum (a BFT network of fewer than
// four tolerates no fault).
func checkDeactivate(c *state.Ctx, id string, removal bool) error {
	if err := types.ValidateSellerID(id); err != nil {
		return err
	}
	s, ok := Seller(c.KV, id)
	if !ok {
		return types.Errorf(types.CodeNotFound, "seller %s does not exist", id)
	}
	if s.Status == types.SellerStatus_SELLER_STATUS_REMOVED {
		return types.Errorf(types.CodeInvalidArgument, "seller %s is already removed", id)
	}
	if !removal && s.Status != types.SellerStatus_SELLER_STATUS_ACTIVE {
		return types.Errorf(types.CodeInvalidArgument, "seller %s is not active", id)
	}
	active := len(Active(c.KV))
	if s.Status == types.SellerStatus_SELLER_STATUS_ACTIVE && active-1 < int(c.Params.MinActiveValidators) {
		return types.Errorf(types.CodeInvalidArgument, "taking %s out would leave %d active validators; the minimum is %d",
			id, active-1, c.Params.MinActiveValidators)
	}
	return nil
}

// execute applies a passed proposal.
func execute(c *state.Ctx, m *types.MsgPropose, id uint64) {
	switch a := m.Action.(type) {
	case *types.MsgPropose_AddSeller:
		s := *a.AddSeller
		s.Status = types.SellerStatus_SELLER_STATUS_ACTIVE
		s.PositionPaise = 0
		s.TerminalCount = 0 // whatever the proposal said: it has none yet
		s.JoinedHeight = c.Height
		s.ValidatorPower = 10
		if err := AddSeller(c.KV, &s); err != nil {
			panic(err) // checkAction ran just before
		}
		setPower(c, &s, s.ValidatorPower, "added")
	case *types.MsgPropose_RemoveSeller:
		s, _ := Seller(c.KV, a.RemoveSeller)
		s.Status = types.SellerStatus_SELLER_STATUS_REMOVED
		setPower(c, s, 0, "removed")
	case *types.MsgPropose_SuspendSeller:
		s, _ := Seller(c.KV, a.SuspendSeller)
		s.Status = types.SellerStatus_SELLER_STATUS_SUSPENDED
		setPower(c, s, 0, "suspended")
	case *types.MsgPropose_ReinstateSeller:
		s, _ := Seller(c.KV, a.ReinstateSeller)
		s.Status = types.SellerStatus_SELLER_STATUS_ACTIVE
		setPower(c, s, 10, "reinstated")
	case *types.MsgPropose_SetParams:
		state.PutParams(c.KV, a.SetParams)
		c.Emit(types.EventMembership, "action", "params_changed", "actor", c.Actor)
	case *types.MsgPropose_SoftwareUpgrade:
		upgrade.Schedule(c, a.SoftwareUpgrade, id)
	case *types.MsgPropose_CancelUpgrade:
		upgrade.Cancel(c)
	case *types.MsgPropose_SetTiers:
		tiers.Install(c, a.SetTiers)
	case *types.MsgPropose_ApproveImport:
		approval.Approve(c, a.ApproveImport)
	}
}

// setPower saves the seller with its new power and queues the validator
// update that FinalizeBlock returns at the end of the block.
func setPower(c *state.Ctx, s *types.SellerRecord, power int64, what string) {
	s.ValidatorPower = power
	PutSeller(c.KV, s)
	c.KV.Set(types.ValUpdateKey(s.ValidatorPubkey), binary.BigEndian.AppendUint64(nil, uint64(power)))
	c.Emit(types.EventMembership, "seller", s.SellerId, "action", what, "power", state.I(power), "actor", c.Actor)
}

// ValidatorUpdate is a pending change of a validator's power.
type ValidatorUpdate struct {
	PubKey []byte
	Power  int64
}

// EndBlock expires lapsed proposals and drains the queued validator
// updates, in pubkey order.
func EndBlock(c *state.Ctx) []ValidatorUpdate {
	var lapsed []uint64
	it := c.KV.Iterator([]byte{types.PrefixPropExpiry}, types.PropExpiryBound(c.Height))
	for ; it.Valid(); it.Next() {
		id, err := types.ParsePropExpiryKey(it.Key())
		if err != nil {
			it.Close()
			panic(store.Fault{Err: err})
		}
		lapsed = append(lapsed, id)
	}
	it.Close()
	for _, id := range lapsed {
		p, _ := Proposal(c.KV, id)
		c.KV.Delete(types.PropExpiryKey(p.ExpiresHeight, id))
		p.Status = types.ProposalStatus_PROPOSAL_STATUS_EXPIRED
		p.DecidedHeight = c.Height
		putProposal(c.KV, p)
		c.Emit(types.EventProposal, "proposal_id", state.U(id), "status", types.ProposalStatuses.Name(p.Status), "actor", types.ActorChain)
	}
	var ups []ValidatorUpdate
	var keys [][]byte
	store.Each(c.KV, types.ValUpdatePrefix(), func(k, v []byte) bool {
		ups = append(ups, ValidatorUpdate{PubKey: append([]byte(nil), k[1:]...), Power: int64(binary.BigEndian.Uint64(v))})
		keys = append(keys, append([]byte(nil), k...))
		return true
	})
	for _, k := range keys {
		c.KV.Delete(k)
	}
	return ups
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func contains(xs []string, x string) bool {
	i := sort.SearchStrings(xs, x)
	return i < len(xs) && xs[i] == x
}

func insertSorted(xs []string, x string) []string {
	i := sort.SearchStrings(xs, x)
	xs = append(xs, "")
	copy(xs[i+1:], xs[i:])
	xs[i] = x
	return xs
}
