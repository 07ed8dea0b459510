package app

import (
	"testing"

	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
	"github.com/stretchr/testify/require"
)

// handlerSpy is a message server that notes which handler got which message.
type handlerSpy struct {
	called string
	msg    any
	epoch  uint64
}

func (r *handlerSpy) note(name string, m any) (*types.TxResultData, error) {
	r.called, r.msg = name, m
	return nil, nil
}

func (r *handlerSpy) Purchase(_ *state.Ctx, _ *members.Signer, m *types.MsgPurchase) (*types.TxResultData, error) {
	return r.note("Purchase", m)
}
func (r *handlerSpy) Redeem(_ *state.Ctx, _ *members.Signer, m *types.MsgRedeem, _ *types.Tx, e uint64) (*types.TxResultData, error) {
	r.epoch = e
	return r.note("Redeem", m)
}
func (r *handlerSpy) Refund(_ *state.Ctx, _ *members.Signer, m *types.MsgRefund) (*types.TxResultData, error) {
	return r.note("Refund", m)
}
func (r *handlerSpy) VoidRedemption(_ *state.Ctx, _ *members.Signer, m *types.MsgVoidRedemption, e uint64) (*types.TxResultData, error) {
	r.epoch = e
	return r.note("VoidRedemption", m)
}
func (r *handlerSpy) BindWallet(_ *state.Ctx, _ *members.Signer, m *types.MsgBindWallet) (*types.TxResultData, error) {
	return r.note("BindWallet", m)
}
func (r *handlerSpy) RegisterTerminal(_ *state.Ctx, _ *members.Signer, m *types.MsgRegisterTerminal) (*types.TxResultData, error) {
	return r.note("RegisterTerminal", m)
}
func (r *handlerSpy) RevokeTerminal(_ *state.Ctx, _ *members.Signer, m *types.MsgRevokeTerminal) (*types.TxResultData, error) {
	return r.note("RevokeTerminal", m)
}
func (r *handlerSpy) SetSellerConfig(_ *state.Ctx, _ *members.Signer, m *types.MsgSetSellerConfig) (*types.TxResultData, error) {
	return r.note("SetSellerConfig", m)
}
func (r *handlerSpy) Propose(_ *state.Ctx, _ *members.Signer, m *types.MsgPropose) (*types.TxResultData, error) {
	return r.note("Propose", m)
}
func (r *handlerSpy) Vote(_ *state.Ctx, _ *members.Signer, m *types.MsgVote) (*types.TxResultData, error) {
	return r.note("Vote", m)
}
func (r *handlerSpy) ConfirmSettlement(_ *state.Ctx, _ *members.Signer, m *types.MsgConfirmSettlement) (*types.TxResultData, error) {
	return r.note("ConfirmSettlement", m)
}
func (r *handlerSpy) ImportBalances(_ *state.Ctx, _ *members.Signer, m *types.MsgImportBalances) (*types.TxResultData, error) {
	return r.note("ImportBalances", m)
}

func (r *handlerSpy) SetProgramConfig(_ *state.Ctx, _ *members.Signer, m *types.MsgSetProgramConfig) (*types.TxResultData, error) {
	return r.note("SetProgramConfig", m)
}
func (r *handlerSpy) CreateCampaign(_ *state.Ctx, _ *members.Signer, m *types.MsgCreateCampaign) (*types.TxResultData, error) {
	return r.note("CreateCampaign", m)
}
func (r *handlerSpy) EndCampaign(_ *state.Ctx, _ *members.Signer, m *types.MsgEndCampaign) (*types.TxResultData, error) {
	return r.note("EndCampaign", m)
}
func (r *handlerSpy) SetReferralOffer(_ *state.Ctx, _ *members.Signer, m *types.MsgSetReferralOffer) (*types.TxResultData, error) {
	return r.note("SetReferralOffer", m)
}

// Every message type reaches exactly its handler, unchanged; redemptions
// and voids get the open settlement epoch.
func TestRouterDispatchesEachMessageToItsHandler(t *testing.T) {
	cases := []struct {
		msg     any
		handler string
		name    string
	}{
		{&types.MsgPurchase{CustomerId: "c"}, "Purchase", "purchase"},
		{&types.MsgRedeem{CustomerId: "c"}, "Redeem", "redeem"},
		{&types.MsgRefund{AmountPaise: 1}, "Refund", "refund"},
		{&types.MsgVoidRedemption{TerminalId: "t"}, "VoidRedemption", "void_redemption"},
		{&types.MsgBindWallet{CustomerId: "c"}, "BindWallet", "bind_wallet"},
		{&types.MsgRegisterTerminal{TerminalId: "t"}, "RegisterTerminal", "register_terminal"},
		{&types.MsgRevokeTerminal{TerminalId: "t"}, "RevokeTerminal", "revoke_terminal"},
		{&types.MsgSetSellerConfig{EarnRateBps: 1}, "SetSellerConfig", "set_seller_config"},
		{&types.MsgPropose{Description: "d"}, "Propose", "propose"},
		{&types.MsgVote{ProposalId: 1}, "Vote", "vote"},
		{&types.MsgConfirmSettlement{Epoch: 1}, "ConfirmSettlement", "confirm_settlement"},
		{&types.MsgSetProgramConfig{MinRedeemPoints: 1}, "SetProgramConfig", "set_program_config"},
		{&types.MsgCreateCampaign{Name: "n"}, "CreateCampaign", "create_campaign"},
		{&types.MsgEndCampaign{CampaignId: 1}, "EndCampaign", "end_campaign"},
		{&types.MsgSetReferralOffer{RefereePoints: 1}, "SetReferralOffer", "set_referral_offer"},
		{&types.MsgImportBalances{FirstRow: 1}, "ImportBalances", "import_balances"},
	}
	kv := store.NewMemKV()
	state.Put(kv, types.EpochStateKey(), &types.EpochState{Epoch: 20415})
	for _, tc := range cases {
		t.Run(tc.handler, func(t *testing.T) {
			rec := &handlerSpy{}
			r := router{ledger: rec, members: rec, settle: rec, program: rec, imports: rec}
			p := &Parsed{}
			require.NoError(t, p.Body.SetMsg(tc.msg))
			_, err := r.route(&state.Ctx{KV: kv}, &members.Signer{}, p)
			require.NoError(t, err)
			require.Equal(t, tc.handler, rec.called)
			require.Same(t, tc.msg, rec.msg, "the handler gets the message as decoded")
			require.Equal(t, tc.name, MsgName(&p.Body))
			if tc.handler == "Redeem" || tc.handler == "VoidRedemption" {
				require.Equal(t, uint64(20415), rec.epoch)
			}
		})
	}
	t.Run("no message", func(t *testing.T) {
		rec := &handlerSpy{}
		r := router{ledger: rec, members: rec, settle: rec, program: rec, imports: rec}
		_, err := r.route(&state.Ctx{KV: kv}, &members.Signer{}, &Parsed{})
		require.Equal(t, types.CodeDecode, types.CodeOf(err))
		require.Empty(t, rec.called)
	})
}

// The registry (types.MsgTypes) and the routes agree: every registered
// message has a handler row and reaches a handler, its name is the
// registry's, and no route serves a message the registry lacks.
func TestEveryRegisteredMessageIsRouted(t *testing.T) {
	kv := store.NewMemKV()
	reg := types.MsgTypes()
	require.Len(t, routes, len(reg), "routes and the message registry differ in size")
	for _, mt := range reg {
		t.Run(mt.Name, func(t *testing.T) {
			_, ok := routes[mt.Msg]
			require.True(t, ok, "no route for %s", mt.Msg)
			rec := &handlerSpy{}
			r := router{ledger: rec, members: rec, settle: rec, program: rec, imports: rec}
			p := &Parsed{}
			msg := mt.New()
			require.NoError(t, p.Body.SetMsg(msg))
			got, inner, ok := p.Body.Inner()
			require.True(t, ok)
			require.Equal(t, mt.Name, got.Name)
			require.Same(t, msg, inner)
			require.Equal(t, mt.Name, MsgName(&p.Body))
			_, err := r.route(&state.Ctx{KV: kv}, &members.Signer{}, p)
			require.NoError(t, err)
			require.Same(t, msg, rec.msg, "the handler got another message")
		})
	}
	var none types.TxBody
	require.Equal(t, "none", MsgName(&none))
	_, err := (&router{}).route(&state.Ctx{KV: kv}, &members.Signer{}, &Parsed{})
	require.Equal(t, types.CodeDecode, types.CodeOf(err))
}
