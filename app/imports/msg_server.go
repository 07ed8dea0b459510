package imports

import (
	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
)

// MsgServer handles MsgImportBalances.
type MsgServer struct{}

// ImportBalances books a batch of imported balances: only the seller's
// operator key may, for its own active seller.
func (MsgServer) ImportBalances(c *state.Ctx, s *members.Signer, m *types.MsgImportBalances) (*types.TxResultData, error) {
	seller, err := members.AuthorizeOperator(s, m.SellerId)
	if err != nil {
		return nil, err
	}
	c.Actor = seller.SellerId
	r, err := Book(c, seller, m)
	if err != nil || r == nil {
		return nil, err
	}
	return &types.TxResultData{Result: &types.TxResultData_ImportBalances{ImportBalances: r}}, nil
}
