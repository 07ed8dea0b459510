package app

import (
	"crypto/ed25519"

	"github.com/bytepoints/bytepoints/app/ledger"
	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
)

func (a *App) purchase(c *state.Ctx, s *members.Signer, m *types.MsgPurchase) (*types.TxResultData, error) {
	if err := members.Authorize(s, &m.SellerId, &m.TerminalId, false, false); err != nil {
		return nil, err
	}
	if err := types.ValidateCustomerID(m.CustomerId); err != nil {
		return nil, err
	}
	if err := checkFlow(m.Flow); err != nil {
		return nil, err
	}
	payMs, err := paymentTime(c, m.PaymentTimeMs)
	if err != nil {
		return nil, err
	}
	if m.AmountPaise == 0 {
		return nil, types.Errorf(types.CodeInvalidAmount, "purchase amount must be positive")
	}
	if m.Flow.Auth == types.AuthResult_AUTH_RESULT_DECLINED {
		// A declined payment earns nothing, but it is part of the card's
		// payment history (it rates 0) and a claimed CRMS skip is checked.
		res := &types.PurchaseResult{PurchaseId: c.TxHash}
		if err := a.recordFlow(c, s.Seller, m, payMs, res); err != nil {
			return nil, err
		}
		return &types.TxResultData{Result: &types.TxResultData_Purchase{Purchase: res}}, nil
	}
	res, err := ledger.Issue(c, ledger.Purchase{
		Seller: s.Seller, TerminalID: m.TerminalId, CustomerID: m.CustomerId,
		AmountPaise: m.AmountPaise, Flow: m.Flow, PaymentTimeMs: payMs,
	})
	if err != nil {
		return nil, err
	}
	if err := a.recordFlow(c, s.Seller, m, payMs, res); err != nil {
		return nil, err
	}
	return &types.TxResultData{Result: &types.TxResultData_Purchase{Purchase: res}}, nil
}

func (a *App) redeem(c *state.Ctx, s *members.Signer, m *types.MsgRedeem, tx *types.Tx, epoch uint64) (*types.TxResultData, error) {
	if err := members.Authorize(s, &m.SellerId, &m.TerminalId, false, false); err != nil {
		return nil, err
	}
	if err := types.ValidateCustomerID(m.CustomerId); err != nil {
		return nil, err
	}
	if err := ledger.CheckRedeemAmount(m.Points, m.BillPaise); err != nil {
		return nil, err
	}
	by, err := a.authoriseRedeem(c, s.Seller, m, tx)
	if err != nil {
		return nil, err
	}
	res, err := ledger.Redeem(c, ledger.Redemption{
		SellerID: m.SellerId, TerminalID: m.TerminalId, CustomerID: m.CustomerId,
		Points: m.Points, BillPaise: m.BillPaise,
	}, epoch)
	if err != nil {
		return nil, err
	}
	res.AuthorisedBy = by
	return &types.TxResultData{Result: &types.TxResultData_Redeem{Redeem: res}}, nil
}

// bindWallet lets a customer, present at a terminal and verified by PIN,
// bind a wallet key that can later sign redemptions for the card.
func (a *App) bindWallet(c *state.Ctx, s *members.Signer, m *types.MsgBindWallet) error {
	if err := members.Authorize(s, &m.SellerId, &m.TerminalId, false, false); err != nil {
		return err
	}
	if err := types.ValidateCustomerID(m.CustomerId); err != nil {
		return err
	}
	if err := types.ValidatePubKey("wallet key", m.WalletPubkey); err != nil {
		return err
	}
	if err := checkFlow(m.Flow); err != nil {
		return err
	}
	pin := m.Flow.Cvm == types.CVM_CVM_PIN_ONLINE_OK || m.Flow.Cvm == types.CVM_CVM_PIN_OFFLINE_OK
	if !pin || m.Flow.Auth != types.AuthResult_AUTH_RESULT_APPROVED {
		return types.Errorf(types.CodeCVMRequired, "binding a wallet needs a PIN-verified, approved payment flow at the terminal")
	}
	cust, existed := state.Customer(c.KV, m.CustomerId)
	if !existed {
		t := state.Totals(c.KV)
		t.Customers++
		state.PutTotals(c.KV, t)
	}
	cust.WalletPubkey = append([]byte(nil), m.WalletPubkey[:ed25519.PublicKeySize]...)
	state.PutCustomer(c.KV, cust)
	c.Emit(types.EventWalletBound, "customer", m.CustomerId, "seller", m.SellerId, "actor", c.Actor)
	return nil
}
