package gateway

import (
	"github.com/bytepoints/bytepoints/app/risk"
	"github.com/bytepoints/bytepoints/types"
	"github.com/danielgtaylor/huma/v2"
)

// The request and response types. huma reads them to decode and validate
// requests and to write the OpenAPI document, so the document is what the
// code accepts. Field names are a contract with integrators: add, never
// rename. Money is a decimal rupee string ("100.00"), enums are names.

// Rupees is an amount of money in rupees with at most two decimals.
type Rupees string

// Schema documents the form ParseRupees reads.
func (Rupees) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Pattern: `^[0-9]{1,16}(\.[0-9]{1,2})?$`, Examples: []any{"100.00"},
		Description: "Rupees as a decimal string with at most two decimals (paise), e.g. \"100.00\"; never a JSON number."}
}

func enumSchema(doc string, names []string) *huma.Schema {
	enum := make([]any, len(names))
	for i, n := range names {
		enum[i] = n
	}
	return &huma.Schema{Type: huma.TypeString, Enum: enum, Description: doc}
}

// The enums of the answers and requests. Each is a named string whose
// schema lists the names of its table in types/names.go (or, for the few
// words no table holds, the constants that produce them), so the document
// cannot drift from what the gateway writes.
type (
	ReadTypeName string
	CVMName      string
	AuthName     string
	HistoryKind  string
	LineStatus   string
	Direction    string
	AuthorisedBy string
	TxState      string
	HealthState  string
)

func (HistoryKind) Schema(huma.Registry) *huma.Schema {
	return enumSchema("What the history entry did.", types.HistoryKinds.Names())
}

func (LineStatus) Schema(huma.Registry) *huma.Schema {
	return enumSchema("Where the statement line is in settlement.", types.LineStatuses.Names())
}

func (Direction) Schema(huma.Registry) *huma.Schema {
	return enumSchema("Which way the net moves: payable (the seller pays the escrow), receivable (the escrow pays the seller), none.", types.Directions.Names())
}

func (AuthorisedBy) Schema(huma.Registry) *huma.Schema {
	return enumSchema("Who vouched for the customer.", []string{risk.ByCVM, risk.ByCRMS, risk.ByWallet})
}

// What became of a submission (GET /v1/tx/{hash}).
const (
	TxCommitted TxState = "committed"
	TxPending   TxState = "pending"
	TxUnknown   TxState = "unknown"
)

func (TxState) Schema(huma.Registry) *huma.Schema {
	return enumSchema("committed: in a block (see code); pending: in this node's mempool; unknown: neither (never received, refused before the mempool, or dropped: resubmit with the same Idempotency-Key).",
		[]string{string(TxCommitted), string(TxPending), string(TxUnknown)})
}

const healthOK HealthState = "ok"

func (HealthState) Schema(huma.Registry) *huma.Schema {
	return enumSchema("Always ok when the node answers.", []string{string(healthOK)})
}

// Time is an RFC 3339 UTC time ("2026-12-03T13:27:44Z"), formatted by
// types.FormatUnix (the one time format of every surface).
type Time string

func (Time) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Format: "date-time", Examples: []any{"2026-12-03T13:27:44Z"},
		Description: "RFC 3339 in UTC."}
}

func unixTime(sec int64) Time { return Time(types.FormatUnix(sec)) }

func (ReadTypeName) Schema(huma.Registry) *huma.Schema {
	return enumSchema("How the card was read.", types.ReadTypeNames())
}

func (CVMName) Schema(huma.Registry) *huma.Schema {
	return enumSchema("Cardholder verification and its outcome.", types.CVMNames())
}

func (AuthName) Schema(huma.Registry) *huma.Schema {
	return enumSchema("Authorisation result.", types.AuthNames())
}

// Flow is what the terminal observed while taking a payment (SPEC §6.1).
type Flow struct {
	ReadType       ReadTypeName `json:"read_type"`
	CVM            CVMName      `json:"cvm"`
	Auth           AuthName     `json:"auth"`
	VerificationMs uint32       `json:"verification_ms,omitempty" maximum:"600000" doc:"Measured cardholder-verification time in ms (0: not measured)."`
}

// IdempotencyHeader is every booking's Idempotency-Key.
type IdempotencyHeader struct {
	IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"64" doc:"Required. 1-64 printable ASCII characters, unique per operation of this terminal. A retry with the same key and the same body is answered with the original result (replayed: true) and books nothing; the same key with another body is 409. Remembered by the chain for the offline window (7 days by default), across node restarts."`
}

// IssueRequest books a purchase: the customer earns points.
type IssueRequest struct {
	IdempotencyHeader
	Body struct {
		CustomerID  string `json:"customer_id" maxLength:"64" doc:"The customer's pseudonym, by convention the 64-hex card token: 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit."`
		Amount      Rupees `json:"amount"`
		TerminalID  string `json:"terminal_id,omitempty" maxLength:"32" doc:"Optional; when given it must be the token's terminal."`
		Flow        *Flow  `json:"flow,omitempty" doc:"The payment's flow. Absent: nothing was verified; the card's history records an unrated payment."`
		PaymentAt   string `json:"payment_time,omitempty" format:"date-time" doc:"Terminal time of the payment (RFC 3339); default: block time. Accepted within 7 days before to 5 minutes after block time."`
		ContextNano int64  `json:"context_nano,omitempty" doc:"The CRMS context multiplier the till's decision was asked with (a no-cvm-crms flow is re-checked with it); 1e-9 units, 1000000000 = x1, 0 = x1. Checked against the chain's context bounds whatever the flow: outside them, 400."`
	}
}

// RedeemRequest spends points against a bill.
type RedeemRequest struct {
	IdempotencyHeader
	Body struct {
		CustomerID  string `json:"customer_id" maxLength:"64"`
		Points      uint64 `json:"points" doc:"Points to redeem (1 point = Rs 1; at most the bill)."`
		BillAmount  Rupees `json:"bill_amount"`
		TerminalID  string `json:"terminal_id,omitempty" maxLength:"32" doc:"Optional; when given it must be the token's terminal."`
		Flow        *Flow  `json:"flow,omitempty" doc:"The verification done at the till for this redemption. A verified PIN (pin-online, pin-offline, approved) authorises it; absent or anything else: the CRMS must allow skipping verification for its value, else 422 cvm_required."`
		ContextNano int64  `json:"context_nano,omitempty" doc:"CRMS context multiplier in 1e-9 units (queue length, basket; 1000000000 = x1); 0 = x1. Checked against the chain's context bounds whatever the flow: outside them, 400."`
	}
}

// RefundRequest refunds all or part of a purchase.
type RefundRequest struct {
	IdempotencyHeader
	Body struct {
		PurchaseID string `json:"purchase_id" doc:"The purchase's tx hash (64 hex)."`
		Amount     Rupees `json:"amount,omitempty" doc:"Rupees to refund; absent: everything not yet refunded."`
		TerminalID string `json:"terminal_id,omitempty" maxLength:"32"`
	}
}

// VoidRequest voids a redemption of the open settlement epoch.
type VoidRequest struct {
	IdempotencyHeader
	Body struct {
		RedemptionID string `json:"redemption_id" doc:"The redemption's tx hash (64 hex)."`
		TerminalID   string `json:"terminal_id,omitempty" maxLength:"32"`
	}
}

// Booked is what every booking answer carries.
type Booked struct {
	TxHash     string `json:"tx_hash" doc:"The transaction that booked it (on a replay: the original one)."`
	Height     int64  `json:"height"`
	Replayed   bool   `json:"replayed" doc:"true: this Idempotency-Key had already booked this request; this is the original result and nothing was booked again."`
	SellerID   string `json:"seller_id"`
	TerminalID string `json:"terminal_id"`
}

type IssueResult struct {
	Booked
	PurchaseID    string `json:"purchase_id"`
	PointsIssued  uint64 `json:"points_issued"`
	SellerPayment Rupees `json:"seller_payment" doc:"What the seller pays into the escrow for the points."`
	ExpiresAt     Time   `json:"expires_at,omitempty" doc:"When the points issued expire."`
	ExpiresAtUnix int64  `json:"expires_at_unix,omitempty" doc:"expires_at in Unix seconds."`
	Balance       uint64 `json:"balance" doc:"The customer's points after this purchase."`
	CRMSViolation bool   `json:"crms_violation" doc:"The flow claimed a CRMS skip the CRMS would not have granted."`
	CRMSReason    string `json:"crms_reason,omitempty"`
}

type RedeemResult struct {
	Booked
	RedemptionID      string       `json:"redemption_id"`
	PointsRedeemed    uint64       `json:"points_redeemed"`
	SameSellerPoints  uint64       `json:"same_seller_points"`
	CrossSellerPoints uint64       `json:"cross_seller_points"`
	SystemPayment     Rupees       `json:"system_payment" doc:"What the escrow pays this seller."`
	Discount          Rupees       `json:"discount"`
	Balance           uint64       `json:"balance"`
	AuthorisedBy      AuthorisedBy `json:"authorised_by"`
}

type RefundResult struct {
	Booked
	PurchaseID       string `json:"purchase_id"`
	Refunded         Rupees `json:"refunded"`
	PointsClawedBack uint64 `json:"points_clawed_back"`
	PointsShortfall  uint64 `json:"points_shortfall" doc:"Points already spent: they stay a cost of the seller."`
	SellerCredit     Rupees `json:"seller_credit"`
	Balance          uint64 `json:"balance"`
}

type VoidResult struct {
	Booked
	RedemptionID   string `json:"redemption_id"`
	PointsRestored uint64 `json:"points_restored"`
	PointsExpired  uint64 `json:"points_expired"`
	SellerDebit    Rupees `json:"seller_debit"`
	Balance        uint64 `json:"balance"`
}

// CustomerID is a path parameter.
type CustomerPath struct {
	ID string `path:"id" maxLength:"64" doc:"Customer id (card token)."`
}

type Lot struct {
	Issuer         string `json:"issuer"`
	Points         uint64 `json:"points"`
	OriginalPoints uint64 `json:"original_points"`
	IssuedAt       Time   `json:"issued_at"`
	IssuedAtUnix   int64  `json:"issued_at_unix"`
	ExpiresAt      Time   `json:"expires_at"`
	ExpiresAtUnix  int64  `json:"expires_at_unix"`
	PurchaseID     string `json:"purchase_id"`
}

type Customer struct {
	CustomerID  string `json:"customer_id"`
	Exists      bool   `json:"exists" doc:"false: the ledger has never seen this customer (points 0)."`
	Points      uint64 `json:"points"`
	WalletBound bool   `json:"wallet_bound"`
	Lots        []Lot  `json:"lots" nullable:"false"`
	Height      int64  `json:"height" doc:"Committed height the answer was read at."`
}

type HistoryRequest struct {
	CustomerPath
	Page  uint64 `query:"page" doc:"Page number, 0 = newest."`
	Limit uint64 `query:"limit" default:"50" minimum:"1" maximum:"1000" doc:"Entries per page (at most the chain's max_history_page)."`
}

type HistoryEntry struct {
	Seq          uint64      `json:"seq"`
	Kind         HistoryKind `json:"kind"`
	PointsDelta  int64       `json:"points_delta"`
	SellerID     string      `json:"seller_id"`
	TxID         string      `json:"tx_id,omitempty"`
	Height       int64       `json:"height"`
	Time         Time        `json:"time"`
	TimeUnix     int64       `json:"time_unix"`
	BalanceAfter uint64      `json:"balance_after"`
}

type History struct {
	CustomerID string         `json:"customer_id"`
	Total      uint64         `json:"total"`
	Page       uint64         `json:"page"`
	Limit      uint64         `json:"limit"`
	Entries    []HistoryEntry `json:"entries" nullable:"false"`
	Height     int64          `json:"height"`
}

type DecisionRequest struct {
	CustomerID  string `query:"customer_id" required:"true" maxLength:"64" doc:"Customer id (card token)."`
	Amount      Rupees `query:"amount" required:"true" doc:"The payment's amount in rupees, e.g. 20.00."`
	ContextNano int64  `query:"context_nano" doc:"CRMS context multiplier in 1e-9 units (1000000000 = x1); 0 = x1. Outside the chain's context bounds: 400."`
}

type Decision struct {
	CustomerID       string `json:"customer_id"`
	SellerID         string `json:"seller_id"`
	Amount           Rupees `json:"amount"`
	CVMRequired      bool   `json:"cvm_required"`
	Reputation       string `json:"reputation" doc:"R in [0, 1], decimal."`
	Risk             string `json:"risk" doc:"Decimal, or \"infinite\" for a card without reputation."`
	RiskMax          string `json:"risk_max"`
	SkipLimit        Rupees `json:"skip_limit" doc:"The largest amount that would skip verification now."`
	Reason           string `json:"reason"`
	EpochRiskUsed    string `json:"epoch_risk_used"`
	PaymentsOnRecord uint64 `json:"payments_on_record"`
	Height           int64  `json:"height"`
}

type StatementLine struct {
	SellerID              string     `json:"seller_id"`
	Net                   string     `json:"net" doc:"Signed rupees: negative = the seller pays the escrow."`
	Direction             Direction  `json:"direction"`
	Status                LineStatus `json:"status"`
	BankReference         string     `json:"bank_reference,omitempty"`
	ConfirmedHeight       int64      `json:"confirmed_height,omitempty"`
	IssuedPoints          uint64     `json:"issued_points"`
	RedeemedSamePoints    uint64     `json:"redeemed_same_points"`
	RedeemedCrossPoints   uint64     `json:"redeemed_cross_points"`
	ClawedBackPoints      uint64     `json:"clawed_back_points"`
	RefundShortfallPoints uint64     `json:"refund_shortfall_points"`
	ExpiredPoints         uint64     `json:"expired_points"`
	VoidedPoints          uint64     `json:"voided_points"`
}

type Statement struct {
	Epoch             uint64          `json:"epoch"`
	Start             Time            `json:"start"`
	StartUnix         int64           `json:"start_unix"`
	End               Time            `json:"end"`
	EndUnix           int64           `json:"end_unix"`
	StartHeight       int64           `json:"start_height"`
	ClosedHeight      int64           `json:"closed_height"`
	OutstandingPoints uint64          `json:"outstanding_points"`
	Escrow            Rupees          `json:"escrow"`
	OutstandingLines  uint32          `json:"outstanding_lines"`
	Lines             []StatementLine `json:"lines" nullable:"false"`
}

type OpenEpoch struct {
	Epoch       uint64 `json:"epoch"`
	StartHeight int64  `json:"start_height"`
	Start       Time   `json:"start"`
	StartUnix   int64  `json:"start_unix"`
}

type Statements struct {
	Open       OpenEpoch   `json:"open_epoch"`
	Statements []Statement `json:"statements" nullable:"false" doc:"The latest closed epochs, newest first (at most 31)."`
	Height     int64       `json:"height"`
}

type StatementRequest struct {
	Epoch string `path:"epoch" maxLength:"20" doc:"Epoch number, or a date YYYY-MM-DD on a chain with daily epochs."`
}

type TxRequest struct {
	Hash string `path:"hash" maxLength:"64" doc:"Transaction hash, 64 hex."`
}

// TxStatus is what became of a submission.
type TxStatus struct {
	TxHash string  `json:"tx_hash"`
	Status TxState `json:"status"`
	Height int64   `json:"height,omitempty"`
	// The rest is given for this seller's transactions only: another
	// seller's is answered with its status and height alone.
	SellerID   string  `json:"seller_id,omitempty" doc:"committed: the seller whose key signed it (this gateway's seller: another seller's transaction is answered with status and height only)."`
	TerminalID string  `json:"terminal_id,omitempty" doc:"committed: the terminal that signed it (empty for the operator key)."`
	Code       *uint32 `json:"code,omitempty" doc:"committed: the result code (0 = booked)"`
	CodeName   string  `json:"code_name,omitempty"`
	Message    string  `json:"message,omitempty"`
	MsgType    string  `json:"msg_type,omitempty"`
	Signer     string  `json:"signer,omitempty" doc:"The signing key (hex): the terminal's for a gateway booking."`
	// The booked result by message type (committed with code 0).
	Issue  *IssueResult  `json:"issue,omitempty"`
	Redeem *RedeemResult `json:"redeem,omitempty"`
	Refund *RefundResult `json:"refund,omitempty"`
	Void   *VoidResult   `json:"void,omitempty"`
	// ReplayOf: a committed duplicate (code 6) names the original.
	ReplayOf     string `json:"replay_of,omitempty"`
	ConflictWith string `json:"conflict_with,omitempty"`
}

type Health struct {
	Status   HealthState `json:"status"`
	SellerID string      `json:"seller_id"`
	ChainID  string      `json:"chain_id"`
	Height   int64       `json:"height"`
	AppHash  string      `json:"app_hash"`
}

// out wraps a response body for huma.
type out[T any] struct {
	Body T
}

// bookingOut is a booking's answer: on a replay, also the header Stripe
// sends (Idempotent-Replayed: true), so a proxy or log that never reads
// bodies sees it too.
type bookingOut[T any] struct {
	Replayed string `header:"Idempotent-Replayed" doc:"true on a replay (the body's replayed is true too); absent otherwise."`
	Body     T
}

func booking[T any](replayed bool, body T) *bookingOut[T] {
	o := &bookingOut[T]{Body: body}
	if replayed {
		o.Replayed = "true"
	}
	return o
}
