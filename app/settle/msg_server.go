package settle

import (
	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
)

// MsgServer handles ConfirmSettlement.
type MsgServer struct{}

// ConfirmSettlement marks the seller's line of a statement paid or received.
func (MsgServer) ConfirmSettlement(c *state.Ctx, s *members.Signer, m *types.MsgConfirmSettlement) (*types.TxResultData, error) {
	seller, err := members.AuthorizeSettlement(s, m.SellerId)
	if err != nil {
		return nil, err
	}
	return nil, Confirm(c, seller.SellerId, m.Epoch, m.BankReference)
}
