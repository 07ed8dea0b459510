package program

import (
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// Program is a seller's program record; a seller that never set one gets
// the zero record (no rules, no window, no campaigns).
func Program(r store.Reader, seller string) *types.SellerProgram {
	p := &types.SellerProgram{}
	if !state.Get(r, types.ProgramKey(seller), p) {
		p.SellerId = seller
	}
	return p
}

func PutProgram(kv store.KV, p *types.SellerProgram) { state.Put(kv, types.ProgramKey(p.SellerId), p) }

// Campaign reads one of a seller's campaigns.
func Campaign(r store.Reader, seller string, id uint64) (*types.Campaign, bool) {
	x := &types.Campaign{}
	return x, state.Get(r, types.CampaignKey(seller, id), x)
}

func putCampaign(kv store.KV, x *types.Campaign) {
	state.Put(kv, types.CampaignKey(x.SellerId, x.Id), x)
}

// markActive puts a campaign in its seller's active index.
func markActive(kv store.KV, x *types.Campaign) {
	state.Mark(kv, types.ActiveCampaignKey(x.SellerId, x.Id))
}

// Active lists a seller's active campaigns in id order, read by id from
// the active index (at most the governed number per seller).
func Active(r store.Reader, seller string) []*types.Campaign {
	var ids []uint64
	store.Each(r, types.ActiveCampaignPrefix(seller), func(k, _ []byte) bool {
		id, err := types.ParseActiveCampaignKey(k)
		if err != nil {
			panic(store.Fault{Err: err})
		}
		ids = append(ids, id)
		return true
	})
	out := make([]*types.Campaign, 0, len(ids))
	for _, id := range ids {
		x, ok := Campaign(r, seller, id)
		if !ok {
			panic(store.Fault{Err: types.Errorf(types.CodeInternal, "active campaign %s/%d has no record", seller, id)})
		}
		out = append(out, x)
	}
	return out
}

// end takes a campaign out of the active index (the record stays).
func end(c *state.Ctx, p *types.SellerProgram, x *types.Campaign, why string) {
	x.Status = types.CampaignStatus_CAMPAIGN_STATUS_ENDED
	x.EndedHeight = c.Height
	putCampaign(c.KV, x)
	c.KV.Delete(types.ActiveCampaignKey(x.SellerId, x.Id)) // the active index only
	p.ActiveCampaigns--
	c.Emit(types.EventCampaign, "seller", x.SellerId, "campaign_id", state.U(x.Id), "name", x.Name,
		"status", "ended", "reason", why, "spent_points", state.U(x.SpentPoints), "actor", c.Actor)
}

// Referral reads the link of a referred customer.
func Referral(r store.Reader, referee string) (*types.Referral, bool) {
	x := &types.Referral{}
	return x, state.Get(r, types.ReferralKey(referee), x)
}

func putReferral(kv store.KV, x *types.Referral) { state.Put(kv, types.ReferralKey(x.Referee), x) }

// codeOwner resolves a referral code to its customer (stored raw, not as
// a protobuf record).
func codeOwner(r store.Reader, code string) (string, bool) {
	bz := r.Get(types.ReferralCodeKey(code))
	return string(bz), bz != nil
}

func putCode(kv store.KV, code, customer string) {
	kv.Set(types.ReferralCodeKey(code), []byte(customer))
}
