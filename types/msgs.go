package types

import (
	"fmt"
	"reflect"
)

// The message registry: every message a transaction body can carry, with
// its stable name (events, metrics, idempotency records, the back office).
// SetMsg, MsgName and Inner derive from it, and so does the app's router
// (app/router.go; TestEveryRegisteredMessageIsRouted fails for a row
// without a handler there).
// A new message is one row here and one handler row there.
var msgRows = []MsgType{
	row("purchase", func(m *MsgPurchase) *TxBody_Purchase { return &TxBody_Purchase{Purchase: m} }, (*TxBody_Purchase).inner),
	row("redeem", func(m *MsgRedeem) *TxBody_Redeem { return &TxBody_Redeem{Redeem: m} }, (*TxBody_Redeem).inner),
	row("refund", func(m *MsgRefund) *TxBody_Refund { return &TxBody_Refund{Refund: m} }, (*TxBody_Refund).inner),
	row("void_redemption", func(m *MsgVoidRedemption) *TxBody_VoidRedemption { return &TxBody_VoidRedemption{VoidRedemption: m} }, (*TxBody_VoidRedemption).inner),
	row("register_terminal", func(m *MsgRegisterTerminal) *TxBody_RegisterTerminal {
		return &TxBody_RegisterTerminal{RegisterTerminal: m}
	}, (*TxBody_RegisterTerminal).inner),
	row("revoke_terminal", func(m *MsgRevokeTerminal) *TxBody_RevokeTerminal { return &TxBody_RevokeTerminal{RevokeTerminal: m} }, (*TxBody_RevokeTerminal).inner),
	row("confirm_settlement", func(m *MsgConfirmSettlement) *TxBody_ConfirmSettlement {
		return &TxBody_ConfirmSettlement{ConfirmSettlement: m}
	}, (*TxBody_ConfirmSettlement).inner),
	row("set_seller_config", func(m *MsgSetSellerConfig) *TxBody_SetSellerConfig {
		return &TxBody_SetSellerConfig{SetSellerConfig: m}
	}, (*TxBody_SetSellerConfig).inner),
	row("bind_wallet", func(m *MsgBindWallet) *TxBody_BindWallet { return &TxBody_BindWallet{BindWallet: m} }, (*TxBody_BindWallet).inner),
	row("propose", func(m *MsgPropose) *TxBody_Propose { return &TxBody_Propose{Propose: m} }, (*TxBody_Propose).inner),
	row("vote", func(m *MsgVote) *TxBody_Vote { return &TxBody_Vote{Vote: m} }, (*TxBody_Vote).inner),
	// Programs (SPEC §5.7-5.10), app/program.
	row("set_program_config", func(m *MsgSetProgramConfig) *TxBody_SetProgramConfig {
		return &TxBody_SetProgramConfig{SetProgramConfig: m}
	}, (*TxBody_SetProgramConfig).inner),
	row("create_campaign", func(m *MsgCreateCampaign) *TxBody_CreateCampaign { return &TxBody_CreateCampaign{CreateCampaign: m} }, (*TxBody_CreateCampaign).inner),
	row("end_campaign", func(m *MsgEndCampaign) *TxBody_EndCampaign { return &TxBody_EndCampaign{EndCampaign: m} }, (*TxBody_EndCampaign).inner),
	row("set_referral_offer", func(m *MsgSetReferralOffer) *TxBody_SetReferralOffer {
		return &TxBody_SetReferralOffer{SetReferralOffer: m}
	}, (*TxBody_SetReferralOffer).inner),
	row("import_balances", func(m *MsgImportBalances) *TxBody_ImportBalances {
		return &TxBody_ImportBalances{ImportBalances: m}
	}, (*TxBody_ImportBalances).inner),
}

// The oneof wrappers' messages, for the registry's rows.
func (w *TxBody_Purchase) inner() *MsgPurchase                   { return w.Purchase }
func (w *TxBody_Redeem) inner() *MsgRedeem                       { return w.Redeem }
func (w *TxBody_Refund) inner() *MsgRefund                       { return w.Refund }
func (w *TxBody_VoidRedemption) inner() *MsgVoidRedemption       { return w.VoidRedemption }
func (w *TxBody_RegisterTerminal) inner() *MsgRegisterTerminal   { return w.RegisterTerminal }
func (w *TxBody_RevokeTerminal) inner() *MsgRevokeTerminal       { return w.RevokeTerminal }
func (w *TxBody_ConfirmSettlement) inner() *MsgConfirmSettlement { return w.ConfirmSettlement }
func (w *TxBody_SetSellerConfig) inner() *MsgSetSellerConfig     { return w.SetSellerConfig }
func (w *TxBody_BindWallet) inner() *MsgBindWallet               { return w.BindWallet }
func (w *TxBody_Propose) inner() *MsgPropose                     { return w.Propose }
func (w *TxBody_Vote) inner() *MsgVote                           { return w.Vote }
func (w *TxBody_SetProgramConfig) inner() *MsgSetProgramConfig   { return w.SetProgramConfig }
func (w *TxBody_CreateCampaign) inner() *MsgCreateCampaign       { return w.CreateCampaign }
func (w *TxBody_EndCampaign) inner() *MsgEndCampaign             { return w.EndCampaign }
func (w *TxBody_SetReferralOffer) inner() *MsgSetReferralOffer   { return w.SetReferralOffer }
func (w *TxBody_ImportBalances) inner() *MsgImportBalances       { return w.ImportBalances }

// MsgType is one row of the message registry.
type MsgType struct {
	Name    string       // stable name, e.g. "void_redemption"
	Msg     reflect.Type // the message's Go type, e.g. *MsgVoidRedemption
	wrapper reflect.Type // its oneof wrapper's, e.g. *TxBody_VoidRedemption
	newMsg  func() any
	wrap    func(any) isTxBody_Msg
	unwrap  func(isTxBody_Msg) any
}

// New returns an empty message of the row's type.
func (t MsgType) New() any { return t.newMsg() }

func row[M any, W isTxBody_Msg](name string, wrap func(*M) W, unwrap func(W) *M) MsgType {
	return MsgType{
		Name: name, Msg: reflect.TypeOf((*M)(nil)), wrapper: reflect.TypeOf((*new(W))),
		newMsg: func() any { return new(M) },
		wrap:   func(m any) isTxBody_Msg { return wrap(m.(*M)) },
		unwrap: func(w isTxBody_Msg) any { return unwrap(w.(W)) },
	}
}

var byMsg, byWrapper = func() (map[reflect.Type]int, map[reflect.Type]int) {
	m, w := map[reflect.Type]int{}, map[reflect.Type]int{}
	for i, r := range msgRows {
		if _, dup := m[r.Msg]; dup {
			panic("types: message " + r.Msg.String() + " registered twice")
		}
		m[r.Msg], w[r.wrapper] = i, i
	}
	return m, w
}()

// MsgTypes lists the registry, in its order.
func MsgTypes() []MsgType { return append([]MsgType(nil), msgRows...) }

// SetMsg puts msg (a *Msg... value) into the body's oneof.
func (b *TxBody) SetMsg(msg any) error {
	i, ok := byMsg[reflect.TypeOf(msg)]
	if !ok {
		return fmt.Errorf("unknown message type %T", msg)
	}
	b.Msg = msgRows[i].wrap(msg)
	return nil
}

// Inner returns the registry row of the body's message and the message;
// false for no message or one the registry does not know.
func (b *TxBody) Inner() (MsgType, any, bool) {
	if b.Msg == nil {
		return MsgType{}, nil, false
	}
	i, ok := byWrapper[reflect.TypeOf(b.Msg)]
	if !ok {
		return MsgType{}, nil, false
	}
	return msgRows[i], msgRows[i].unwrap(b.Msg), true
}

// MsgName is the body's message type's stable name: "none" for no
// message.
func MsgName(b *TxBody) string {
	if b.Msg == nil {
		return "none"
	}
	if i, ok := byWrapper[reflect.TypeOf(b.Msg)]; ok {
		return msgRows[i].Name
	}
	return fmt.Sprintf("%T", b.Msg)
}
