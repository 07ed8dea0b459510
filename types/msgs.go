package types

import "fmt"

// SetMsg puts msg (a *Msg... value) into the body's oneof.
func (b *TxBody) SetMsg(msg any) error {
	switch m := msg.(type) {
	case *MsgPurchase:
		b.Msg = &TxBody_Purchase{Purchase: m}
	case *MsgRedeem:
		b.Msg = &TxBody_Redeem{Redeem: m}
	case *MsgRefund:
		b.Msg = &TxBody_Refund{Refund: m}
	case *MsgVoidRedemption:
		b.Msg = &TxBody_VoidRedemption{VoidRedemption: m}
	case *MsgRegisterTerminal:
		b.Msg = &TxBody_RegisterTerminal{RegisterTerminal: m}
	case *MsgRevokeTerminal:
		b.Msg = &TxBody_RevokeTerminal{RevokeTerminal: m}
	case *MsgConfirmSettlement:
		b.Msg = &TxBody_ConfirmSettlement{ConfirmSettlement: m}
	case *MsgSetSellerConfig:
		b.Msg = &TxBody_SetSellerConfig{SetSellerConfig: m}
	case *MsgBindWallet:
		b.Msg = &TxBody_BindWallet{BindWallet: m}
	case *MsgPropose:
		b.Msg = &TxBody_Propose{Propose: m}
	case *MsgVote:
		b.Msg = &TxBody_Vote{Vote: m}
	case *MsgImportBalances:
		b.Msg = &TxBody_ImportBalances{ImportBalances: m}
	default:
		return fmt.Errorf("unknown message type %T", msg)
	}
	return nil
}
