package program

import (
	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/query"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// QueryCampaigns answers /campaigns/{seller}: the seller's program
// settings, the rules as they apply now, and its active campaigns. The
// list is complete by the program record's proven count.
func QueryCampaigns(r store.Reader, args []string) (state.Msg, error) {
	if err := query.ArgN(args, 1, "/campaigns/{seller}"); err != nil {
		return nil, err
	}
	if err := types.ValidateSellerID(args[0]); err != nil {
		return nil, err
	}
	if _, ok := members.Seller(r, args[0]); !ok {
		return nil, types.Errorf(types.CodeNotFound, "seller %s does not exist", args[0])
	}
	p, err := query.Params(r)
	if err != nil {
		return nil, err
	}
	sp := Program(r, args[0])
	out := &types.CampaignsResponse{
		SellerId: args[0], Program: sp, Campaigns: Active(r, args[0]),
		EffectiveMinRedeemPoints:     MinRedeemPoints(p, sp),
		EffectiveMaxRedeemShareBps:   MaxRedeemShareBps(p, sp),
		EffectiveReturnWindowSeconds: ReturnWindow(p, sp),
	}
	if uint32(len(out.Campaigns)) != sp.ActiveCampaigns {
		return nil, types.Errorf(types.CodeInternal, "%d active campaigns of %s listed, its program record counts %d",
			len(out.Campaigns), args[0], sp.ActiveCampaigns)
	}
	return out, nil
}
