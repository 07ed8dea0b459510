package ledger

import (
	"crypto/ed25519"

	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/program"
	"github.com/bytepoints/bytepoints/app/risk"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
)

// MsgServer handles the till messages: purchase, redemption, refund, void
// and wallet binding. Each handler authorises the till (members), checks
// the message, asks the CRMS where it must (risk), then books (this
// package). Handlers never change the message they are given: what was
// signed is what the idempotency record identifies.
type MsgServer struct {
	Risk *risk.Keeper
}

// authorise is every till handler's preamble: the signer must be the
// seller's active terminal (or its operator) for the message
// (members.AuthorizeTill), which makes it the actor; then the message's
// own checks, given in order, the first refusal winning. The checks are
// pure functions of the message and the parameters, so evaluating them
// before the authorisation (as arguments) changes nothing: an
// unauthorised signer is refused as such whatever the message holds.
func authorise(c *state.Ctx, s *members.Signer, seller, terminal string, checks ...error) (members.Till, error) {
	till, err := members.AuthorizeTill(c.KV, s, seller, terminal)
	if err != nil {
		return members.Till{}, err
	}
	c.Actor = till.Actor()
	for _, err := range checks {
		if err != nil {
			return members.Till{}, err
		}
	}
	return till, nil
}

// Purchase issues points for a purchase and records its payment flow.
func (x MsgServer) Purchase(c *state.Ctx, s *members.Signer, m *types.MsgPurchase) (*types.TxResultData, error) {
	till, err := authorise(c, s, m.SellerId, m.TerminalId,
		types.ValidateCustomerID(m.CustomerId), risk.CheckFlow(m.Flow), risk.CheckContext(c.Params.Crms, m.ContextNano))
	if err != nil {
		return nil, err
	}
	payMs, err := PaymentTime(c, m.PaymentTimeMs)
	if err != nil {
		return nil, err
	}
	declined := m.Flow != nil && m.Flow.Auth == types.AuthResult_AUTH_RESULT_DECLINED
	if c.Admission {
		// Admission knows enough here: the block checks again and books.
		// (The CRMS re-check of a claimed skip never refuses a purchase;
		// only the ±2^62 position envelope, far beyond any real ledger, is
		// left to the block.)
		if declined {
			return nil, CheckPurchaseAmount(c.Params, m.AmountPaise)
		}
		_, err := CheckIssue(c, till.Seller, m.AmountPaise)
		return nil, err
	}
	if err := CheckPurchaseAmount(c.Params, m.AmountPaise); err != nil {
		return nil, err
	}
	pay := risk.Payment{Seller: till.Seller, CustomerID: m.CustomerId, AmountPaise: m.AmountPaise, Flow: m.Flow, TimeMs: payMs, ContextNano: m.ContextNano}
	var res *types.PurchaseResult
	if declined {
		// A declined payment earns nothing, but it is part of the card's
		// payment history (it rates 0) and a claimed CRMS skip is checked.
		res = &types.PurchaseResult{PurchaseId: c.TxHash}
	} else if res, err = Issue(c, Purchase{
		Seller: till.Seller, TerminalID: till.Terminal, CustomerID: m.CustomerId,
		AmountPaise: m.AmountPaise, Flow: m.Flow, PaymentTimeMs: payMs, ReferralCode: m.ReferralCode,
	}); err != nil {
		return nil, err
	}
	if err := x.Risk.RecordPayment(c, pay, res); err != nil {
		return nil, err
	}
	return &types.TxResultData{Result: &types.TxResultData_Purchase{Purchase: res}}, nil
}

// Redeem spends points once the redemption is vouched for (risk).
func (x MsgServer) Redeem(c *state.Ctx, s *members.Signer, m *types.MsgRedeem, tx *types.Tx, epoch uint64) (*types.TxResultData, error) {
	till, err := authorise(c, s, m.SellerId, m.TerminalId,
		types.ValidateCustomerID(m.CustomerId), CheckRedeemAmount(c.Params, m.Points, m.BillPaise))
	if err != nil {
		return nil, err
	}
	// The seller's redemption rules read its program record, so they come
	// after the authorisation, not among its pure checks (SPEC §5.10).
	if err := program.CheckRedeem(c.KV, c.Params, till.Seller.SellerId, m.Points, m.BillPaise); err != nil {
		return nil, err
	}
	by, err := x.Risk.AuthoriseRedeem(c, till.Seller, m, tx, WalletKey)
	if err != nil {
		return nil, err
	}
	res, err := Redeem(c, Redemption{
		SellerID: till.Seller.SellerId, TerminalID: till.Terminal, CustomerID: m.CustomerId,
		Points: m.Points, BillPaise: m.BillPaise,
	}, epoch)
	if err != nil {
		return nil, err
	}
	res.AuthorisedBy = by
	return &types.TxResultData{Result: &types.TxResultData_Redeem{Redeem: res}}, nil
}

// Refund reverses all or part of one of the seller's purchases.
func (MsgServer) Refund(c *state.Ctx, s *members.Signer, m *types.MsgRefund) (*types.TxResultData, error) {
	till, err := authorise(c, s, m.SellerId, m.TerminalId, types.ValidateTxID("purchase id", m.PurchaseId))
	if err != nil {
		return nil, err
	}
	r, err := Refund(c, till.Seller.SellerId, m.PurchaseId, m.AmountPaise)
	if err != nil {
		return nil, err
	}
	return &types.TxResultData{Result: &types.TxResultData_Refund{Refund: r}}, nil
}

// VoidRedemption undoes one of the seller's redemptions of the open epoch.
func (MsgServer) VoidRedemption(c *state.Ctx, s *members.Signer, m *types.MsgVoidRedemption, epoch uint64) (*types.TxResultData, error) {
	till, err := authorise(c, s, m.SellerId, m.TerminalId, types.ValidateTxID("redemption id", m.RedemptionId))
	if err != nil {
		return nil, err
	}
	r, err := Void(c, till.Seller.SellerId, m.RedemptionId, epoch)
	if err != nil {
		return nil, err
	}
	return &types.TxResultData{Result: &types.TxResultData_Void{Void: r}}, nil
}

// BindWallet lets a customer, present at a terminal and verified by PIN,
// bind a wallet key that can later sign redemptions for the card.
func (MsgServer) BindWallet(c *state.Ctx, s *members.Signer, m *types.MsgBindWallet) (*types.TxResultData, error) {
	till, err := authorise(c, s, m.SellerId, m.TerminalId,
		types.ValidateCustomerID(m.CustomerId), types.ValidatePubKey("wallet key", m.WalletPubkey), risk.CheckFlow(m.Flow))
	if err != nil {
		return nil, err
	}
	if !risk.PinVerified(m.Flow) {
		return nil, types.Errorf(types.CodeCVMRequired, "binding a wallet needs a PIN-verified, approved payment flow at the terminal")
	}
	cust, existed := Customer(c.KV, m.CustomerId)
	if !existed {
		t := state.Totals(c.KV)
		t.Customers++
		state.PutTotals(c.KV, t)
	}
	cust.WalletPubkey = append([]byte(nil), m.WalletPubkey[:ed25519.PublicKeySize]...)
	putCustomer(c.KV, cust)
	c.Emit(types.EventWalletBound, "customer", m.CustomerId, "seller", till.Seller.SellerId, "actor", c.Actor)
	return nil, nil
}

// PaymentTime places a terminal's payment time within the accepted window
// around block time (SPEC §6.5); 0 means "now" (block time).
func PaymentTime(c *state.Ctx, ms int64) (int64, error) {
	if ms == 0 {
		return c.TimeMs, nil
	}
	lo := c.TimeMs - c.Params.MaxPaymentLagSeconds*1000
	hi := c.TimeMs + c.Params.MaxPaymentLeadSeconds*1000
	if ms < lo || ms > hi {
		return 0, types.Errorf(types.CodeInvalidArgument,
			"payment time %s is outside the accepted window %s to %s (%s before to %s after block time %s)",
			types.TimeMsText(ms), types.TimeMsText(lo), types.TimeMsText(hi),
			types.SecondsText(c.Params.MaxPaymentLagSeconds), types.SecondsText(c.Params.MaxPaymentLeadSeconds), types.TimeMsText(c.TimeMs))
	}
	return ms, nil
}
