package members

import (
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
)

// MsgServer handles the membership messages: terminals, a seller's own
// configuration, proposals and votes. Each handler authorises the signer,
// then applies the message.
type MsgServer struct {
	// ValidateParams checks proposed chain parameters (owned by package app).
	ValidateParams ParamsValidator
}

func (MsgServer) RegisterTerminal(c *state.Ctx, s *Signer, m *types.MsgRegisterTerminal) (*types.TxResultData, error) {
	seller, err := AuthorizeOperator(s, m.SellerId)
	if err != nil {
		return nil, err
	}
	return nil, RegisterTerminal(c, seller.SellerId, m.TerminalId, m.Pubkey)
}

func (MsgServer) RevokeTerminal(c *state.Ctx, s *Signer, m *types.MsgRevokeTerminal) (*types.TxResultData, error) {
	seller, err := AuthorizeOperator(s, m.SellerId)
	if err != nil {
		return nil, err
	}
	return nil, RevokeTerminal(c, seller.SellerId, m.TerminalId)
}

func (MsgServer) SetSellerConfig(c *state.Ctx, s *Signer, m *types.MsgSetSellerConfig) (*types.TxResultData, error) {
	seller, err := AuthorizeOperator(s, m.SellerId)
	if err != nil {
		return nil, err
	}
	return nil, SetSellerConfig(c, seller.SellerId, m.EarnRateBps, m.RiskMaxNano, m.RiskMaxDefault)
}

func (x MsgServer) Propose(c *state.Ctx, s *Signer, m *types.MsgPropose) (*types.TxResultData, error) {
	seller, err := AuthorizeOperator(s, m.SellerId)
	if err != nil {
		return nil, err
	}
	r, err := Propose(c, seller.SellerId, m, x.ValidateParams)
	if err != nil {
		return nil, err
	}
	return &types.TxResultData{Result: &types.TxResultData_Propose{Propose: r}}, nil
}

func (x MsgServer) Vote(c *state.Ctx, s *Signer, m *types.MsgVote) (*types.TxResultData, error) {
	seller, err := AuthorizeOperator(s, m.SellerId)
	if err != nil {
		return nil, err
	}
	r, err := Vote(c, seller.SellerId, m.ProposalId, m.Yes, x.ValidateParams)
	if err != nil {
		return nil, err
	}
	return &types.TxResultData{Result: &types.TxResultData_Vote{Vote: r}}, nil
}
