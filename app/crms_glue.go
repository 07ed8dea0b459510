package app

import (
	"crypto/ed25519"

	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// DefaultCrmsParams are the CRMS defaults (SPEC §6.3 calibration).
func DefaultCrmsParams() *types.CrmsParams {
	return &types.CrmsParams{
		PNano: 1000, ANano: 100_000_000_000, BNano: 1_000_000_000, N: 20,
		TauNano: 10_000_000_000, XdNano: 3_000_000_000, XmNano: 10_000_000_000,
		RminNano: 0, RmaxNano: 1_000_000_000, AvgTFloorMs: 86_400_000,
		HardCapPaise: 100_000, ContextMinNano: 500_000_000, ContextMaxNano: 2_000_000_000,
		EpochRiskBudgetNano: 10_000_000_000, DefaultRiskMaxNano: 5_000_000,
		MinRiskMaxNano: 1_000_000, MaxRiskMaxNano: 50_000_000,
	}
}

func validateCrms(c *types.CrmsParams) error { return nil }

// recordFlow appends the purchase's payment flow to the card's history.
func recordFlow(c *state.Ctx, seller *types.SellerRecord, m *types.MsgPurchase, payMs int64, res *types.PurchaseResult) error {
	h := state.Card(c.KV, m.CustomerId)
	h.Flows = append(h.Flows, &types.FlowRecord{TimeMs: payMs, Flow: m.Flow, SellerId: seller.SellerId})
	h.Payments++
	state.PutCard(c.KV, m.CustomerId, h)
	return nil
}

// authoriseRedeem decides who vouches for the customer at a redemption.
func authoriseRedeem(c *state.Ctx, seller *types.SellerRecord, m *types.MsgRedeem, tx *types.Tx) (string, error) {
	if f := m.Flow; f != nil {
		if err := checkFlow(f); err != nil {
			return "", err
		}
		if (f.Cvm == types.CVM_CVM_PIN_ONLINE_OK || f.Cvm == types.CVM_CVM_PIN_OFFLINE_OK) && f.Auth == types.AuthResult_AUTH_RESULT_APPROVED {
			return "cvm", nil
		}
	}
	if len(tx.WalletSignature) > 0 {
		cust, _ := state.Customer(c.KV, m.CustomerId)
		if len(cust.WalletPubkey) != ed25519.PublicKeySize {
			return "", types.Errorf(types.CodeCVMRequired, "customer %s has no wallet key bound", m.CustomerId)
		}
		if !ed25519.Verify(cust.WalletPubkey, types.SignBytes(tx.Body), tx.WalletSignature) {
			return "", types.Errorf(types.CodeBadSignature, "wallet signature does not verify for customer %s", m.CustomerId)
		}
		return "wallet", nil
	}
	return "", types.Errorf(types.CodeCVMRequired, "redemption needs a verified PIN or the customer's wallet signature")
}

func (a *App) queryCRMS(view *store.View, args []string) QueryResult {
	return QueryResult{Code: types.CodeNotFound, Log: "crms decision query is not available yet"}
}
