package app

import (
	"fmt"

	"github.com/bytepoints/bytepoints/app/imports"
	"github.com/bytepoints/bytepoints/app/ledger"
	"github.com/bytepoints/bytepoints/app/members"
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
	imports importsServer
}

// The message servers, as the router sees them: ledger.MsgServer,
// members.MsgServer and settle.MsgServer.
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
	importsServer interface {
		ImportBalances(*state.Ctx, *members.Signer, *types.MsgImportBalances) (*types.TxResultData, error)
	}
)

var (
	_ ledgerServer  = ledger.MsgServer{}
	_ membersServer = members.MsgServer{}
	_ settleServer  = settle.MsgServer{}
	_ importsServer = imports.MsgServer{}
)

func (r *router) route(c *state.Ctx, s *members.Signer, p *Parsed) (*types.TxResultData, error) {
	switch m := p.Body.Msg.(type) {
	case *types.TxBody_Purchase:
		return r.ledger.Purchase(c, s, m.Purchase)
	case *types.TxBody_Redeem:
		return r.ledger.Redeem(c, s, m.Redeem, &p.Tx, state.Epoch(c.KV).Epoch)
	case *types.TxBody_Refund:
		return r.ledger.Refund(c, s, m.Refund)
	case *types.TxBody_VoidRedemption:
		return r.ledger.VoidRedemption(c, s, m.VoidRedemption, state.Epoch(c.KV).Epoch)
	case *types.TxBody_BindWallet:
		return r.ledger.BindWallet(c, s, m.BindWallet)
	case *types.TxBody_RegisterTerminal:
		return r.members.RegisterTerminal(c, s, m.RegisterTerminal)
	case *types.TxBody_RevokeTerminal:
		return r.members.RevokeTerminal(c, s, m.RevokeTerminal)
	case *types.TxBody_SetSellerConfig:
		return r.members.SetSellerConfig(c, s, m.SetSellerConfig)
	case *types.TxBody_Propose:
		return r.members.Propose(c, s, m.Propose)
	case *types.TxBody_Vote:
		return r.members.Vote(c, s, m.Vote)
	case *types.TxBody_ConfirmSettlement:
		return r.settle.ConfirmSettlement(c, s, m.ConfirmSettlement)
	case *types.TxBody_ImportBalances:
		return r.imports.ImportBalances(c, s, m.ImportBalances)
	default:
		return nil, types.Errorf(types.CodeDecode, "unknown message type %T", m)
	}
}

// MsgName is the message type's stable name (events, metrics, records).
func MsgName(b *types.TxBody) string {
	switch b.Msg.(type) {
	case *types.TxBody_Purchase:
		return "purchase"
	case *types.TxBody_Redeem:
		return "redeem"
	case *types.TxBody_Refund:
		return "refund"
	case *types.TxBody_VoidRedemption:
		return "void_redemption"
	case *types.TxBody_RegisterTerminal:
		return "register_terminal"
	case *types.TxBody_RevokeTerminal:
		return "revoke_terminal"
	case *types.TxBody_ConfirmSettlement:
		return "confirm_settlement"
	case *types.TxBody_SetSellerConfig:
		return "set_seller_config"
	case *types.TxBody_BindWallet:
		return "bind_wallet"
	case *types.TxBody_Propose:
		return "propose"
	case *types.TxBody_Vote:
		return "vote"
	case *types.TxBody_ImportBalances:
		return "import_balances"
	case nil:
		return "none"
	}
	return fmt.Sprintf("%T", b.Msg)
}
