package app

import (
	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
)

func (a *App) propose(c *state.Ctx, s *members.Signer, m *types.MsgPropose) (*types.TxResultData, error) {
	if err := members.Authorize(s, &m.SellerId, nil, true, false); err != nil {
		return nil, err
	}
	r, err := members.Propose(c, m.SellerId, m, ValidateParams)
	if err != nil {
		return nil, err
	}
	return &types.TxResultData{Result: &types.TxResultData_Propose{Propose: r}}, nil
}

func (a *App) vote(c *state.Ctx, s *members.Signer, m *types.MsgVote) (*types.TxResultData, error) {
	if err := members.Authorize(s, &m.SellerId, nil, true, false); err != nil {
		return nil, err
	}
	r, err := members.Vote(c, m.SellerId, m.ProposalId, m.Yes, ValidateParams)
	if err != nil {
		return nil, err
	}
	return &types.TxResultData{Result: &types.TxResultData_Vote{Vote: r}}, nil
}

func endBlockGovernance(c *state.Ctx) ([]Validator, error) {
	var out []Validator
	for _, u := range members.EndBlock(c) {
		out = append(out, Validator{PubKey: u.PubKey, Power: u.Power})
	}
	return out, nil
}
