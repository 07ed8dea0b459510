package program

import (
	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
)

// MsgServer handles a seller's program messages; each is signed by the
// seller's operator key.
type MsgServer struct{}

func (MsgServer) SetProgramConfig(c *state.Ctx, s *members.Signer, m *types.MsgSetProgramConfig) (*types.TxResultData, error) {
	seller, err := members.AuthorizeOperator(s, m.SellerId)
	if err != nil {
		return nil, err
	}
	return nil, SetConfig(c, seller.SellerId, m)
}

func (MsgServer) CreateCampaign(c *state.Ctx, s *members.Signer, m *types.MsgCreateCampaign) (*types.TxResultData, error) {
	seller, err := members.AuthorizeOperator(s, m.SellerId)
	if err != nil {
		return nil, err
	}
	x, err := Create(c, seller.SellerId, m)
	if err != nil {
		return nil, err
	}
	return result(x), nil
}

func (MsgServer) EndCampaign(c *state.Ctx, s *members.Signer, m *types.MsgEndCampaign) (*types.TxResultData, error) {
	seller, err := members.AuthorizeOperator(s, m.SellerId)
	if err != nil {
		return nil, err
	}
	x, err := End(c, seller.SellerId, m.CampaignId)
	if err != nil {
		return nil, err
	}
	return result(x), nil
}

func result(x *types.Campaign) *types.TxResultData {
	return &types.TxResultData{Result: &types.TxResultData_Campaign{Campaign: &types.CampaignResult{
		SellerId: x.SellerId, CampaignId: x.Id, Name: x.Name, Status: x.Status,
		SpentPoints: x.SpentPoints, BudgetPoints: x.BudgetPoints,
	}}}
}

func (MsgServer) SetReferralOffer(c *state.Ctx, s *members.Signer, m *types.MsgSetReferralOffer) (*types.TxResultData, error) {
	seller, err := members.AuthorizeOperator(s, m.SellerId)
	if err != nil {
		return nil, err
	}
	return nil, SetOffer(c, seller.SellerId, m)
}
