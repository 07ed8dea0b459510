package types

import (
	"fmt"
	"strings"
)

// The one vocabulary. Every enum value and every derived word that people
// and integrators type or read has exactly one spelling, defined here and
// nowhere else: the CLI's flags and text, the gateway's JSON and OpenAPI
// enums, the audit report's columns, the simulator's output, metrics labels
// and docs/vocabulary tables all come from these tables. Enum values are
// lower-case words joined by hyphens ("pin-online", "nothing-due"); result
// codes (codes.go) and CRMS decision reasons keep their snake_case
// identifiers, which the protocol fixed when they were released.
// Add names, never rename.

// Vocab is the table of names of one enum.
type Vocab[T comparable] struct {
	// What says what the values are, for error messages ("card read type").
	What    string
	entries []vocabEntry[T]
}

type vocabEntry[T comparable] struct {
	name string
	v    T
	doc  string
}

// Names lists the names in display order.
func (t *Vocab[T]) Names() []string {
	out := make([]string, len(t.entries))
	for i, e := range t.entries {
		out[i] = e.name
	}
	return out
}

// Name is v's name; a value outside the table is "unknown-N".
func (t *Vocab[T]) Name(v T) string {
	for _, e := range t.entries {
		if e.v == v {
			return e.name
		}
	}
	return fmt.Sprintf("unknown-%v", v)
}

// Parse reads a name; an unknown one is invalid_argument listing the
// accepted names.
func (t *Vocab[T]) Parse(s string) (T, error) {
	for _, e := range t.entries {
		if e.name == s {
			return e.v, nil
		}
	}
	var zero T
	return zero, Errorf(CodeInvalidArgument, "%s %q: want one of %s", t.What, clip(s), strings.Join(t.Names(), ", "))
}

// Doc is the one-line meaning of the value named name ("" if unknown).
func (t *Vocab[T]) Doc(name string) string {
	for _, e := range t.entries {
		if e.name == name {
			return e.doc
		}
	}
	return ""
}

// Term is one name of one enum, for the vocabulary table in the docs.
type Term struct {
	Enum, Name, Doc string
}

// Terms lists the table's names with their meanings.
func (t *Vocab[T]) Terms() []Term {
	out := make([]Term, len(t.entries))
	for i, e := range t.entries {
		out[i] = Term{Enum: t.What, Name: e.name, Doc: e.doc}
	}
	return out
}

func vocab[T comparable](what string, es ...vocabEntry[T]) *Vocab[T] {
	return &Vocab[T]{What: what, entries: es}
}

func term[T comparable](name string, v T, doc string) vocabEntry[T] {
	return vocabEntry[T]{name: name, v: v, doc: doc}
}

// The enums of the protocol.
var (
	ReadTypes = vocab("card read type",
		term("contact-emv", ReadType_READ_TYPE_CONTACT_EMV, "chip inserted (contact EMV)"),
		term("contactless-emv", ReadType_READ_TYPE_CONTACTLESS_EMV, "chip tapped (contactless EMV)"),
		term("magstripe", ReadType_READ_TYPE_MAGSTRIPE, "magnetic stripe swiped"),
		term("contactless-magstripe", ReadType_READ_TYPE_CONTACTLESS_MAGSTRIPE, "contactless magstripe mode"),
	)
	CVMs = vocab("cardholder verification",
		term("pin-online", CVM_CVM_PIN_ONLINE_OK, "PIN verified online by the issuer"),
		term("pin-offline", CVM_CVM_PIN_OFFLINE_OK, "PIN verified offline by the card"),
		term("wrong-pin-then-ok", CVM_CVM_WRONG_PIN_THEN_OK, "a wrong PIN, then the right one"),
		term("wrong-pin-aborted", CVM_CVM_WRONG_PIN_ABORTED, "wrong PIN and the payment aborted"),
		term("signature", CVM_CVM_SIGNATURE, "cardholder signed"),
		term("no-cvm-under-limit", CVM_CVM_NO_CVM_UNDER_LIMIT, "no verification: under the static no-CVM limit"),
		term("no-cvm-crms", CVM_CVM_NO_CVM_CRMS, "no verification: granted by the CRMS decision"),
	)
	AuthResults = vocab("authorisation result",
		term("approved", AuthResult_AUTH_RESULT_APPROVED, "the issuer approved the payment"),
		term("declined", AuthResult_AUTH_RESULT_DECLINED, "the issuer declined the payment"),
	)
	SellerStatuses = vocab("seller status",
		term("active", SellerStatus_SELLER_STATUS_ACTIVE, "a member: validates, books, votes"),
		term("suspended", SellerStatus_SELLER_STATUS_SUSPENDED, "voted suspended: no validator power, terminals stopped"),
		term("removed", SellerStatus_SELLER_STATUS_REMOVED, "voted out"),
	)
	TerminalStatuses = vocab("terminal status",
		term("active", TerminalStatus_TERMINAL_STATUS_ACTIVE, "may book for its seller"),
		term("revoked", TerminalStatus_TERMINAL_STATUS_REVOKED, "revoked by its seller's operator"),
	)
	SignerKinds = vocab("signer kind",
		term("operator", SignerKind_SIGNER_KIND_OPERATOR, "a seller's operator key"),
		term("terminal", SignerKind_SIGNER_KIND_TERMINAL, "a till's key"),
	)
	HistoryKinds = vocab("history entry kind",
		term("earn", HistoryKind_HISTORY_KIND_EARN, "points issued for a purchase"),
		term("redeem", HistoryKind_HISTORY_KIND_REDEEM, "points spent"),
		term("refund", HistoryKind_HISTORY_KIND_REFUND, "points clawed back by a refund"),
		term("void", HistoryKind_HISTORY_KIND_VOID, "a redemption undone"),
		term("expire", HistoryKind_HISTORY_KIND_EXPIRE, "points expired (breakage)"),
		term("import", HistoryKind_HISTORY_KIND_IMPORT, "a balance imported from the seller's existing program"),
	)
	LineStatuses = vocab("statement line status",
		term("nothing-due", LineStatus_LINE_STATUS_NOTHING_DUE, "the seller's net for the epoch is zero"),
		term("outstanding", LineStatus_LINE_STATUS_OUTSTANDING, "awaiting the seller's confirmation"),
		term("confirmed", LineStatus_LINE_STATUS_CONFIRMED, "the seller confirmed it paid or received"),
	)
	ProposalStatuses = vocab("proposal status",
		term("open", ProposalStatus_PROPOSAL_STATUS_OPEN, "collecting votes"),
		term("passed", ProposalStatus_PROPOSAL_STATUS_PASSED, "more than two thirds voted yes; executed"),
		term("rejected", ProposalStatus_PROPOSAL_STATUS_REJECTED, "it can no longer pass"),
		term("expired", ProposalStatus_PROPOSAL_STATUS_EXPIRED, "its voting period ended without a decision"),
		term("failed", ProposalStatus_PROPOSAL_STATUS_FAILED, "passed but could not be executed"),
	)
	CampaignStatuses = vocab("campaign status",
		term("active", CampaignStatus_CAMPAIGN_STATUS_ACTIVE, "gives its bonus to qualifying purchases inside its window, within its budget"),
		term("ended", CampaignStatus_CAMPAIGN_STATUS_ENDED, "ended by its seller, or its window closed"),
	)
	Directions = vocab("settlement direction",
		term("payable", DirectionPayable, "the seller pays the escrow (net below zero)"),
		term("receivable", DirectionReceivable, "the escrow pays the seller (net above zero)"),
		term("none", DirectionNone, "nothing changes hands (net zero)"),
	)
	ProposalKinds = vocab("proposal kind",
		term("add-seller", ProposalAddSeller, "admit a new member seller (it becomes a validator)"),
		term("remove-seller", ProposalRemoveSeller, "remove a member"),
		term("suspend-seller", ProposalSuspendSeller, "suspend a member"),
		term("reinstate-seller", ProposalReinstateSeller, "reinstate a suspended member"),
		term("set-params", ProposalSetParams, "change chain parameters"),
		term("software-upgrade", ProposalSoftwareUpgrade, "schedule a software upgrade at a height (app/upgrade)"),
		term("cancel-upgrade", ProposalCancelUpgrade, "cancel the scheduled software upgrade before its height"),
		term("set-tiers", ProposalSetTiers, "replace the coalition tier table"),
		term("approve-import", ProposalApproveImport, "let a seller import its existing program's balances, up to a number of points"),
	)
)

// Direction is which way a seller's net amount moves at settlement. It is
// derived, never stored: from the sign of a net or a position.
type Direction int

const (
	DirectionNone Direction = iota
	DirectionPayable
	DirectionReceivable
)

// DirectionOf is the direction of a net amount (or position) in paise:
// below zero the seller owes the escrow.
func DirectionOf(netPaise int64) Direction {
	switch {
	case netPaise < 0:
		return DirectionPayable
	case netPaise > 0:
		return DirectionReceivable
	}
	return DirectionNone
}

// DirectionName is the name of the direction of netPaise.
func DirectionName(netPaise int64) string { return Directions.Name(DirectionOf(netPaise)) }

// The words every surface uses for a direction in a sentence, defined here
// once beside its name: what the seller does at settlement, and what a
// confirmed line says it did. "" for DirectionNone.

// Does is what the seller does at settlement: "pays the escrow" (payable)
// or "receives from the escrow" (receivable).
func (d Direction) Does() string {
	switch d {
	case DirectionPayable:
		return "pays the escrow"
	case DirectionReceivable:
		return "receives from the escrow"
	}
	return ""
}

// Settled is a confirmed line's word: "paid" (payable) or "received"
// (receivable).
func (d Direction) Settled() string {
	switch d {
	case DirectionPayable:
		return "paid"
	case DirectionReceivable:
		return "received"
	}
	return ""
}

// ProposalKind is what a proposal would do, derived from its action.
type ProposalKind int

const (
	ProposalNone ProposalKind = iota
	ProposalAddSeller
	ProposalRemoveSeller
	ProposalSuspendSeller
	ProposalReinstateSeller
	ProposalSetParams
	ProposalSoftwareUpgrade
	ProposalCancelUpgrade
	ProposalSetTiers
	ProposalApproveImport
)

// KindOf is the kind of a proposal's action (ProposalNone if it has none).
func KindOf(m *MsgPropose) ProposalKind {
	if m == nil {
		return ProposalNone
	}
	switch m.Action.(type) {
	case *MsgPropose_AddSeller:
		return ProposalAddSeller
	case *MsgPropose_RemoveSeller:
		return ProposalRemoveSeller
	case *MsgPropose_SuspendSeller:
		return ProposalSuspendSeller
	case *MsgPropose_ReinstateSeller:
		return ProposalReinstateSeller
	case *MsgPropose_SetParams:
		return ProposalSetParams
	case *MsgPropose_SoftwareUpgrade:
		return ProposalSoftwareUpgrade
	case *MsgPropose_CancelUpgrade:
		return ProposalCancelUpgrade
	case *MsgPropose_SetTiers:
		return ProposalSetTiers
	case *MsgPropose_ApproveImport:
		return ProposalApproveImport
	}
	return ProposalNone
}

// ProposalKindName is the name of m's kind ("none" for a proposal without
// an action, which validation refuses).
func ProposalKindName(m *MsgPropose) string {
	if k := KindOf(m); k != ProposalNone {
		return ProposalKinds.Name(k)
	}
	return "none"
}

// Vocabulary lists every enum's names with their meanings, in the order the
// docs print them: docs/vocabulary.md is checked against it by a test.
func Vocabulary() []Term {
	var out []Term
	for _, ts := range [][]Term{ReadTypes.Terms(), CVMs.Terms(), AuthResults.Terms(), SellerStatuses.Terms(),
		TerminalStatuses.Terms(), SignerKinds.Terms(), HistoryKinds.Terms(), LineStatuses.Terms(),
		ProposalStatuses.Terms(), ProposalKinds.Terms(), Directions.Terms(), CampaignStatuses.Terms()} {
		out = append(out, ts...)
	}
	return out
}

// ReadTypeNames, CVMNames and AuthNames list the names in display order.
func ReadTypeNames() []string { return ReadTypes.Names() }
func CVMNames() []string      { return CVMs.Names() }
func AuthNames() []string     { return AuthResults.Names() }

// ParseReadType, ParseCVM and ParseAuth read a name; an unknown one is
// invalid_argument listing the accepted names.
func ParseReadType(s string) (ReadType, error) { return ReadTypes.Parse(s) }
func ParseCVM(s string) (CVM, error)           { return CVMs.Parse(s) }
func ParseAuth(s string) (AuthResult, error)   { return AuthResults.Parse(s) }

// CampaignStatusName is a campaign status's name.
func CampaignStatusName(v CampaignStatus) string { return CampaignStatuses.Name(v) }

// ReadTypeName, CVMName and AuthName give a value's name.
func ReadTypeName(v ReadType) string { return ReadTypes.Name(v) }
func CVMName(v CVM) string           { return CVMs.Name(v) }
func AuthName(v AuthResult) string   { return AuthResults.Name(v) }

// StatusName is the name of a status enum value from the tables above
// (seller, terminal, line, proposal, history kind, signer kind). The prefix
// argument is ignored and kept so older callers compile; new code calls the
// table's Name directly.
func StatusName(v fmt.Stringer, _ string) string {
	switch x := v.(type) {
	case SellerStatus:
		return SellerStatuses.Name(x)
	case TerminalStatus:
		return TerminalStatuses.Name(x)
	case LineStatus:
		return LineStatuses.Name(x)
	case ProposalStatus:
		return ProposalStatuses.Name(x)
	case HistoryKind:
		return HistoryKinds.Name(x)
	case SignerKind:
		return SignerKinds.Name(x)
	case ReadType:
		return ReadTypes.Name(x)
	case CVM:
		return CVMs.Name(x)
	case AuthResult:
		return AuthResults.Name(x)
	}
	return strings.ToLower(v.String())
}
