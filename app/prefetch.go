package app

import (
	"github.com/bytepoints/bytepoints/app/program"
	"github.com/bytepoints/bytepoints/types"
)

// PrefetchKeys lists the state keys a block's transactions will read (and
// the keys they will write whose names the transaction alone gives), and
// the key prefixes they will scan, so that the node can read them from
// the last commit before, or while, the block executes (store.DB.Warm).
// It is a pure function of the transactions' bytes: it reads no state,
// starts nothing, and is only a hint: a key it misses is read when the
// transaction needs it, a key it lists needlessly costs a read. Keys a
// handler derives from state (a lot's expiry, a history entry's sequence)
// are not listed; their trie buckets are loaded in parallel when the
// block stages its writes.
//
// Per transaction: the signer's key record, its idempotency record and
// the record the transaction will book under its hash; per purchase or
// redemption the customer, the card's CRMS window, the seller and its
// open epoch, program record and active campaigns (and the named
// terminal); per purchase the customer's spend buckets and referral code;
// per redemption the customer's lots;
// per refund or void the original record. Once per block: the chain-wide
// records every block reads.
func (a *App) PrefetchKeys(txs [][]byte) (keys, prefixes [][]byte) {
	keys = append(keys, types.ParamsKey(), types.TotalsKey(), types.EpochStateKey(), types.ClockKey(), types.UpgradePlanKey(), types.TiersKey())
	sellers := map[string]bool{}
	seller := func(id string) {
		if id != "" && !sellers[id] {
			sellers[id] = true // dedup only; the order of keys is the input's
			keys = append(keys, types.SellerKey(id), types.SellerEpochKey(id), types.ProgramKey(id))
			prefixes = append(prefixes, types.ActiveCampaignPrefix(id))
		}
	}
	for _, tx := range txs {
		p, err := decodeTx(a.cfg.ChainID, tx)
		if err != nil {
			continue
		}
		b := &p.Body
		keys = append(keys, types.SignerKey(b.Signer), types.IdemKey(b.Signer, b.IdempotencyKey))
		switch m := b.Msg.(type) {
		case *types.TxBody_Purchase:
			in := m.Purchase
			seller(in.SellerId)
			keys = append(keys, types.CustomerKey(in.CustomerId), types.CardKey(in.CustomerId), types.PurchaseKey(p.Hash), types.SpendKey(in.CustomerId),
				types.ReferralCodeKey(program.Code(in.CustomerId)))
			if in.TerminalId != "" {
				keys = append(keys, types.TerminalKey(in.SellerId, in.TerminalId))
			}
		case *types.TxBody_Redeem:
			in := m.Redeem
			seller(in.SellerId)
			keys = append(keys, types.CustomerKey(in.CustomerId), types.CardKey(in.CustomerId), types.RedemptionKey(p.Hash))
			if in.TerminalId != "" {
				keys = append(keys, types.TerminalKey(in.SellerId, in.TerminalId))
			}
			prefixes = append(prefixes, types.LotPrefix(in.CustomerId))
		case *types.TxBody_Refund:
			seller(m.Refund.SellerId)
			keys = append(keys, types.PurchaseKey(m.Refund.PurchaseId))
		case *types.TxBody_VoidRedemption:
			seller(m.VoidRedemption.SellerId)
			keys = append(keys, types.RedemptionKey(m.VoidRedemption.RedemptionId))
		case *types.TxBody_BindWallet:
			keys = append(keys, types.CustomerKey(m.BindWallet.CustomerId))
		}
	}
	return keys, prefixes
}
