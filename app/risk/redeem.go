package risk

import (
	"crypto/ed25519"

	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// Who vouched for the customer at a redemption (RedeemResult.authorised_by).
const (
	ByCVM    = "cvm"    // a verified PIN at the till
	ByCRMS   = "crms"   // the CRMS allowed skipping verification
	ByWallet = "wallet" // the customer's bound wallet signed the transaction
)

// CheckContext validates a terminal's CRMS context multiplier (nano; 0 =
// none, 1.0) against the governed bounds. Redemptions and the decision
// query refuse the same values.
func CheckContext(cp *types.CrmsParams, contextNano int64) error {
	if contextNano != 0 && (contextNano < cp.ContextMinNano || contextNano > cp.ContextMaxNano) {
		return types.Errorf(types.CodeInvalidArgument, "context multiplier %s (context_nano %d) is outside the governed [%s, %s]",
			types.DecimalText(contextNano), contextNano, types.DecimalText(cp.ContextMinNano), types.DecimalText(cp.ContextMaxNano))
	}
	return nil
}

// AuthoriseRedeem decides who vouches for the customer at a redemption: a
// verified PIN at the till; else the CRMS, when it would skip verification
// for the redemption's value at this seller now (the skip's risk is charged
// to the seller's budget); else the customer's bound wallet signing the same
// transaction. Otherwise cvm_required. A redemption without a flow verified
// nothing. walletKey reads the customer's bound wallet key (the ledger's
// record), asked only when the wallet is the one vouching.
func (k *Keeper) AuthoriseRedeem(c *state.Ctx, seller *types.SellerRecord, m *types.MsgRedeem, tx *types.Tx, walletKey func(store.Reader, string) []byte) (string, error) {
	if err := CheckFlow(m.Flow); err != nil {
		return "", err
	}
	if PinVerified(m.Flow) {
		return ByCVM, nil
	}
	cp := c.Params.Crms
	if err := CheckContext(cp, m.ContextNano); err != nil {
		return "", err
	}
	eng, _, err := k.Engine(cp)
	if err != nil {
		return "", err
	}
	value, err := types.MulU64("redemption value", m.Points, 100)
	if err != nil {
		return "", err
	}
	used := settle.SellerEpoch(c.KV, seller.SellerId).RiskUsedNano
	riskMax, _, _ := RiskMaxOf(cp, seller)
	_, w := Window(c.KV, m.CustomerId)
	d := eng.Evaluate(w, c.TimeMs, value, riskMax, m.ContextNano, used)
	if !d.CVMRequired {
		if err := charge(c, seller.SellerId, d.Risk, true, false); err != nil {
			return "", err
		}
		return ByCRMS, nil
	}
	if len(tx.WalletSignature) > 0 {
		wallet := walletKey(c.KV, m.CustomerId)
		if len(wallet) != ed25519.PublicKeySize {
			return "", types.Errorf(types.CodeCVMRequired, "customer %s has no wallet key bound; verify by PIN", m.CustomerId)
		}
		if !types.VerifySignature(wallet, types.SignBytes(tx.Body), tx.WalletSignature) {
			return "", types.Errorf(types.CodeBadSignature, "wallet signature does not verify for customer %s", m.CustomerId)
		}
		return ByWallet, nil
	}
	return "", types.Errorf(types.CodeCVMRequired,
		"redeeming %s (%s) needs cardholder verification (CRMS: %s, reputation %s, skip limit %s): verify by PIN or have the customer's wallet sign",
		types.PointsText(m.Points), types.RupeesText(value), d.Reason, types.DecimalText(d.R), types.RupeesText(d.SkipLimitPaise))
}
