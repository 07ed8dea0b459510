package app

import (
	"reflect"

	"github.com/bytepoints/bytepoints/app/imports"
	"github.com/bytepoints/bytepoints/app/ledger"
	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/program"
	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
)

// router dispatches a message to its module's message server. It only
// dispatches: authorisation and effects live in the handlers.
type router struct {
	ledger  ledgerServer
	members membersServer
	settle  settleServer
	program programServer
	imports importsServer
}

// The message servers, as the router sees them: ledger.MsgServer,
// members.MsgServer, settle.MsgServer, program.MsgServer and imports.MsgServer.
type (
	ledgerServer interface {
		Purchase(*state.Ctx, *members.Signer, *types.MsgPurchase) (*types.TxResultData, error)
		Redeem(*state.Ctx, *members.Signer, *types.MsgRedeem, *types.Tx, uint64) (*types.TxResultData, error)
		Refund(*state.Ctx, *members.Signer, *types.MsgRefund) (*types.TxResultData, error)
		VoidRedemption(*state.Ctx, *members.Signer, *types.MsgVoidRedemption, uint64) (*types.TxResultData, error)
		BindWallet(*state.Ctx, *members.Signer, *types.MsgBindWallet) (*types.TxResultData, error)
	}
	membersServer interface {
		RegisterTerminal(*state.Ctx, *members.Signer, *types.MsgRegisterTerminal) (*types.TxResultData, error)
		RevokeTerminal(*state.Ctx, *members.Signer, *types.MsgRevokeTerminal) (*types.TxResultData, error)
		SetSellerConfig(*state.Ctx, *members.Signer, *types.MsgSetSellerConfig) (*types.TxResultData, error)
		Propose(*state.Ctx, *members.Signer, *types.MsgPropose) (*types.TxResultData, error)
		Vote(*state.Ctx, *members.Signer, *types.MsgVote) (*types.TxResultData, error)
	}
	settleServer interface {
		ConfirmSettlement(*state.Ctx, *members.Signer, *types.MsgConfirmSettlement) (*types.TxResultData, error)
	}
	programServer interface {
		SetProgramConfig(*state.Ctx, *members.Signer, *types.MsgSetProgramConfig) (*types.TxResultData, error)
		CreateCampaign(*state.Ctx, *members.Signer, *types.MsgCreateCampaign) (*types.TxResultData, error)
		EndCampaign(*state.Ctx, *members.Signer, *types.MsgEndCampaign) (*types.TxResultData, error)
		SetReferralOffer(*state.Ctx, *members.Signer, *types.MsgSetReferralOffer) (*types.TxResultData, error)
	}
	importsServer interface {
		ImportBalances(*state.Ctx, *members.Signer, *types.MsgImportBalances) (*types.TxResultData, error)
	}
)

var (
	_ ledgerServer  = ledger.MsgServer{}
	_ membersServer = members.MsgServer{}
	_ settleServer  = settle.MsgServer{}
	_ programServer = program.MsgServer{}
	_ importsServer = imports.MsgServer{}
)

// A route is a registry message's handler row. on builds one for message
// type M, so the row names M once and gets it typed.
type route struct {
	msg reflect.Type
	run func(r *router, c *state.Ctx, s *members.Signer, p *Parsed, m any) (*types.TxResultData, error)
}

func on[M any](run func(r *router, c *state.Ctx, s *members.Signer, p *Parsed, m *M) (*types.TxResultData, error)) route {
	return route{msg: reflect.TypeOf((*M)(nil)), run: func(r *router, c *state.Ctx, s *members.Signer, p *Parsed, m any) (*types.TxResultData, error) {
		return run(r, c, s, p, m.(*M))
	}}
}

// routes has one row per message of the registry (types.MsgTypes; a test
// checks that none is missing): the module's handler it goes to.
var routes = index(
	on(func(r *router, c *state.Ctx, s *members.Signer, _ *Parsed, m *types.MsgPurchase) (*types.TxResultData, error) {
		return r.ledger.Purchase(c, s, m)
	}),
	on(func(r *router, c *state.Ctx, s *members.Signer, p *Parsed, m *types.MsgRedeem) (*types.TxResultData, error) {
		return r.ledger.Redeem(c, s, m, &p.Tx, settle.Epoch(c.KV).Epoch)
	}),
	on(func(r *router, c *state.Ctx, s *members.Signer, _ *Parsed, m *types.MsgRefund) (*types.TxResultData, error) {
		return r.ledger.Refund(c, s, m)
	}),
	on(func(r *router, c *state.Ctx, s *members.Signer, _ *Parsed, m *types.MsgVoidRedemption) (*types.TxResultData, error) {
		return r.ledger.VoidRedemption(c, s, m, settle.Epoch(c.KV).Epoch)
	}),
	on(func(r *router, c *state.Ctx, s *members.Signer, _ *Parsed, m *types.MsgBindWallet) (*types.TxResultData, error) {
		return r.ledger.BindWallet(c, s, m)
	}),
	on(func(r *router, c *state.Ctx, s *members.Signer, _ *Parsed, m *types.MsgRegisterTerminal) (*types.TxResultData, error) {
		return r.members.RegisterTerminal(c, s, m)
	}),
	on(func(r *router, c *state.Ctx, s *members.Signer, _ *Parsed, m *types.MsgRevokeTerminal) (*types.TxResultData, error) {
		return r.members.RevokeTerminal(c, s, m)
	}),
	on(func(r *router, c *state.Ctx, s *members.Signer, _ *Parsed, m *types.MsgSetSellerConfig) (*types.TxResultData, error) {
		return r.members.SetSellerConfig(c, s, m)
	}),
	on(func(r *router, c *state.Ctx, s *members.Signer, _ *Parsed, m *types.MsgPropose) (*types.TxResultData, error) {
		return r.members.Propose(c, s, m)
	}),
	on(func(r *router, c *state.Ctx, s *members.Signer, _ *Parsed, m *types.MsgVote) (*types.TxResultData, error) {
		return r.members.Vote(c, s, m)
	}),
	on(func(r *router, c *state.Ctx, s *members.Signer, _ *Parsed, m *types.MsgConfirmSettlement) (*types.TxResultData, error) {
		return r.settle.ConfirmSettlement(c, s, m)
	}),
	on(func(r *router, c *state.Ctx, s *members.Signer, _ *Parsed, m *types.MsgSetProgramConfig) (*types.TxResultData, error) {
		return r.program.SetProgramConfig(c, s, m)
	}),
	on(func(r *router, c *state.Ctx, s *members.Signer, _ *Parsed, m *types.MsgCreateCampaign) (*types.TxResultData, error) {
		return r.program.CreateCampaign(c, s, m)
	}),
	on(func(r *router, c *state.Ctx, s *members.Signer, _ *Parsed, m *types.MsgEndCampaign) (*types.TxResultData, error) {
		return r.program.EndCampaign(c, s, m)
	}),
	on(func(r *router, c *state.Ctx, s *members.Signer, _ *Parsed, m *types.MsgSetReferralOffer) (*types.TxResultData, error) {
		return r.program.SetReferralOffer(c, s, m)
	}),
	on(func(r *router, c *state.Ctx, s *members.Signer, _ *Parsed, m *types.MsgImportBalances) (*types.TxResultData, error) {
		return r.imports.ImportBalances(c, s, m)
	}),
)

func index(rs ...route) map[reflect.Type]route {
	out := make(map[reflect.Type]route, len(rs))
	for _, r := range rs {
		if _, dup := out[r.msg]; dup {
			panic("app: two routes for " + r.msg.String())
		}
		out[r.msg] = r
	}
	return out
}

func (r *router) route(c *state.Ctx, s *members.Signer, p *Parsed) (*types.TxResultData, error) {
	t, m, ok := p.Body.Inner()
	if !ok {
		return nil, types.Errorf(types.CodeDecode, "unknown message type %T", p.Body.Msg)
	}
	h, ok := routes[t.Msg]
	if !ok {
		return nil, types.Errorf(types.CodeDecode, "no handler for message type %s", t.Name)
	}
	return h.run(r, c, s, p, m)
}

// MsgName is the message type's stable name (events, metrics, records),
// from the registry (types.MsgName).
func MsgName(b *types.TxBody) string { return types.MsgName(b) }
