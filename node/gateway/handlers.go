package gateway

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/risk"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	"github.com/danielgtaylor/huma/v2"
)

func (s *Server) register() {
	booking := []int{http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType,
		http.StatusUnprocessableEntity, http.StatusServiceUnavailable, http.StatusGatewayTimeout}
	op(s, huma.Operation{OperationID: "issue", Method: http.MethodPost, Path: "/v1/issue", Tags: []string{"bookings"},
		Summary: "Issue points for a purchase", Errors: booking}, true, s.issue)
	op(s, huma.Operation{OperationID: "redeem", Method: http.MethodPost, Path: "/v1/redeem", Tags: []string{"bookings"},
		Summary: "Redeem points against a bill", Errors: booking}, true, s.redeem)
	op(s, huma.Operation{OperationID: "refund", Method: http.MethodPost, Path: "/v1/refund", Tags: []string{"bookings"},
		Summary: "Refund all or part of a purchase, clawing back its points", Errors: booking}, true, s.refund)
	op(s, huma.Operation{OperationID: "void", Method: http.MethodPost, Path: "/v1/void", Tags: []string{"bookings"},
		Summary: "Void a redemption of the open settlement epoch", Errors: booking}, true, s.void)
	op(s, huma.Operation{OperationID: "customer", Method: http.MethodGet, Path: "/v1/customers/{id}", Tags: []string{"reads"},
		Summary: "A customer's balance and lots"}, true, s.customer)
	op(s, huma.Operation{OperationID: "history", Method: http.MethodGet, Path: "/v1/customers/{id}/history", Tags: []string{"reads"},
		Summary: "A customer's ledger history, newest first"}, true, s.history)
	op(s, huma.Operation{OperationID: "decision", Method: http.MethodGet, Path: "/v1/crms/decision", Tags: []string{"reads"},
		Summary: "CRMS decision: may this payment skip cardholder verification here, now?", Errors: []int{http.StatusServiceUnavailable}}, true, s.decision)
	op(s, huma.Operation{OperationID: "statements", Method: http.MethodGet, Path: "/v1/statements", Tags: []string{"reads"},
		Summary: "The open settlement epoch and the latest statements"}, true, s.statements)
	op(s, huma.Operation{OperationID: "statement", Method: http.MethodGet, Path: "/v1/statements/{epoch}", Tags: []string{"reads"},
		Summary: "One closed epoch's settlement statement", Errors: []int{http.StatusNotFound}}, true, s.statement)
	op(s, huma.Operation{OperationID: "tx", Method: http.MethodGet, Path: "/v1/tx/{hash}", Tags: []string{"reads"},
		Summary: "What became of a submission: committed (with its result), pending or unknown"}, true, s.tx)
	op(s, huma.Operation{OperationID: "health", Method: http.MethodGet, Path: "/healthz", Tags: []string{"meta"},
		Summary: "Liveness and the last committed height (no token needed)"}, false, s.health)
}

// ---- bookings ----

// till checks the body's terminal id against the token's.
func till(p *Principal, terminalID string) *Error {
	if terminalID != "" && terminalID != p.TerminalID {
		return forbidden(fmt.Sprintf("this token acts as terminal %s/%s, not terminal %q", p.SellerID, p.TerminalID, clip(terminalID)))
	}
	return nil
}

func idemKey(k string) *Error {
	if err := types.ValidateIdempotencyKey(k); err != nil {
		return badRequest("Idempotency-Key: %s", strings.TrimPrefix(err.Error(), "invalid_argument: "))
	}
	return nil
}

func rupees(field string, v Rupees) (uint64, *Error) {
	p, err := types.ParseRupees(string(v))
	if err != nil {
		return 0, badRequest("%s: %v", field, err)
	}
	return p, nil
}

func flowOf(f *Flow) (*types.PaymentFlow, *Error) {
	if f == nil {
		return nil, nil
	}
	rt, err := types.ParseReadType(string(f.ReadType))
	if err != nil {
		return nil, fromCodeError(err)
	}
	cvm, err := types.ParseCVM(string(f.CVM))
	if err != nil {
		return nil, fromCodeError(err)
	}
	auth, err := types.ParseAuth(string(f.Auth))
	if err != nil {
		return nil, fromCodeError(err)
	}
	flow := &types.PaymentFlow{ReadType: rt, Cvm: cvm, Auth: auth, VerificationMs: f.VerificationMs}
	// The ledger's own rule (SPEC §6.1: e.g. an aborted verification
	// reported as approved is contradictory), applied before anything is
	// signed and answered as the ledger would refuse the transaction.
	if err := risk.CheckFlow(flow); err != nil {
		return nil, newError(http.StatusUnprocessableEntity, types.CodeOf(err), types.Message(err))
	}
	return flow, nil
}

func txHashArg(field, v string) ([]byte, *Error) {
	id, err := hex.DecodeString(v)
	if err != nil || len(id) != 32 {
		return nil, badRequest("%s must be 64 hex characters (a tx hash)", field)
	}
	return id, nil
}

// book signs msg as the terminal, submits it and waits for the commit.
// Requests with the same idempotency key from the same terminal take
// turns (see flights): of concurrent duplicates exactly one books and
// answers replayed: false, the others are replays.
func (s *Server) book(ctx context.Context, p *Principal, key string, msg any) (*client.Result, error) {
	f, e := s.flights.enter(ctx, hex.EncodeToString(p.Key.Public().(ed25519.PublicKey))+"/"+key)
	if e != nil {
		return nil, e
	}
	defer s.flights.leave(f)
	res, err := s.newClient(p).Submit(ctx, msg, client.Options{IdempotencyKey: key})
	if err == nil && res.OK() {
		// Identical bytes (the same message signed at the same height) are
		// the same transaction: CometBFT answers "already in cache" and
		// the client reports its commit as a booking. It was this key's
		// earlier booking, seen by an earlier turn: a replay.
		if !res.Replayed && f.booked != nil && bytes.Equal(f.booked, res.TxHash) {
			res.Replayed = true
		}
		if !res.Replayed {
			f.booked = res.TxHash
		}
	}
	return answer(res, err)
}

// answer maps a submission's outcome to the gateway's answer: the result
// when it booked, else the error of its code (shared by the bookings and
// the wallet-signed redemption of an intent).
func answer(res *client.Result, err error) (*client.Result, error) {
	if err != nil {
		var nc *client.ErrNotCommitted
		if errors.As(err, &nc) {
			e := newError(http.StatusGatewayTimeout, types.CodeNotCommitted,
				fmt.Sprintf("the transaction was submitted but its commit was not seen within %s; it may still commit: poll GET /v1/tx/%x, or retry with the same Idempotency-Key", nc.Timeout, nc.TxHash))
			e.TxHash = hex.EncodeToString(nc.TxHash)
			return nil, e
		}
		e := newError(http.StatusServiceUnavailable, types.CodeInternal, "the node did not take the transaction: "+err.Error()+"; retry with the same Idempotency-Key")
		e.GetHeaders().Set("Retry-After", "1")
		return nil, e
	}
	log := strings.TrimPrefix(res.Log, res.Code.Name()+": ")
	switch {
	case res.OK():
		return res, nil
	case res.Code == types.CodeIdempotencyConflict:
		e := newError(http.StatusConflict, res.Code, log)
		e.ConflictWith = hex.EncodeToString(res.ConflictWith)
		e.TxHash = hex.EncodeToString(res.TxHash)
		return nil, e
	case res.Code == types.CodeUnauthorized:
		// Another seller's purchase or redemption, a terminal acting for
		// another: the request was understood and is not this
		// credential's to make (RFC 9110 §15.5.4), as on every route.
		e := newError(http.StatusForbidden, res.Code, log)
		e.TxHash = hex.EncodeToString(res.TxHash)
		return nil, e
	case res.Code == types.CodeUnknownSigner:
		// The terminal was revoked between the token check and the block.
		e := newError(http.StatusUnauthorized, res.Code, log)
		e.TxHash = hex.EncodeToString(res.TxHash)
		return nil, e
	default:
		e := newError(http.StatusUnprocessableEntity, res.Code, log)
		e.TxHash = hex.EncodeToString(res.TxHash)
		return nil, e
	}
}

func booked(p *Principal, r *client.Result) Booked {
	return Booked{TxHash: hex.EncodeToString(r.TxHash), Height: r.Height, Replayed: r.Replayed, SellerID: p.SellerID, TerminalID: p.TerminalID}
}

func (s *Server) issue(ctx context.Context, in *IssueRequest) (*bookingOut[IssueResult], error) {
	p := principal(ctx)
	b := &in.Body
	if e := first(till(p, b.TerminalID), idemKey(in.IdempotencyKey)); e != nil {
		return nil, e
	}
	if err := types.ValidateCustomerID(b.CustomerID); err != nil {
		return nil, fromCodeError(err)
	}
	amount, e := rupees("amount", b.Amount)
	if e != nil {
		return nil, e
	}
	flow, e := flowOf(b.Flow)
	if e != nil {
		return nil, e
	}
	if e := s.contextArg("context_nano", b.ContextNano); e != nil {
		return nil, e
	}
	var payMs int64
	if b.PaymentAt != "" {
		t, err := time.Parse(time.RFC3339Nano, b.PaymentAt)
		if err != nil {
			return nil, badRequest("payment_time must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z")
		}
		if payMs = t.UnixMilli(); payMs <= 0 {
			return nil, badRequest("payment_time must be after 1970")
		}
	}
	res, err := s.book(ctx, p, in.IdempotencyKey, &types.MsgPurchase{
		TerminalId: p.TerminalID, CustomerId: b.CustomerID, AmountPaise: amount, Flow: flow, PaymentTimeMs: payMs, ContextNano: b.ContextNano})
	if err != nil {
		return nil, err
	}
	return booking(res.Replayed, issueResult(p, res)), nil
}

func issueResult(p *Principal, res *client.Result) IssueResult {
	r := IssueResult{Booked: booked(p, res), SellerPayment: "0.00"}
	if x := res.Data.GetPurchase(); x != nil {
		r.PurchaseID = hex.EncodeToString(x.PurchaseId)
		r.PointsIssued, r.Balance = x.PointsIssued, x.Balance
		r.SellerPayment = Rupees(types.FormatPaise(x.SellerPaymentPaise))
		if x.ExpiresAt > 0 {
			r.ExpiresAt, r.ExpiresAtUnix = unixTime(x.ExpiresAt), x.ExpiresAt
		}
		r.CRMSViolation, r.CRMSReason = x.CrmsViolation, x.CrmsReason
	}
	return r
}

func (s *Server) redeem(ctx context.Context, in *RedeemRequest) (*bookingOut[RedeemResult], error) {
	p := principal(ctx)
	b := &in.Body
	if e := first(till(p, b.TerminalID), idemKey(in.IdempotencyKey)); e != nil {
		return nil, e
	}
	if err := types.ValidateCustomerID(b.CustomerID); err != nil {
		return nil, fromCodeError(err)
	}
	bill, e := rupees("bill_amount", b.BillAmount)
	if e != nil {
		return nil, e
	}
	flow, e := flowOf(b.Flow)
	if e != nil {
		return nil, e
	}
	if e := s.contextArg("context_nano", b.ContextNano); e != nil {
		return nil, e
	}
	res, err := s.book(ctx, p, in.IdempotencyKey, &types.MsgRedeem{
		TerminalId: p.TerminalID, CustomerId: b.CustomerID, Points: b.Points, BillPaise: bill, Flow: flow, ContextNano: b.ContextNano})
	if err != nil {
		return nil, err
	}
	return booking(res.Replayed, redeemResult(p, res)), nil
}

func redeemResult(p *Principal, res *client.Result) RedeemResult {
	r := RedeemResult{Booked: booked(p, res), SystemPayment: "0.00", Discount: "0.00"}
	if x := res.Data.GetRedeem(); x != nil {
		r.RedemptionID = hex.EncodeToString(x.RedemptionId)
		r.PointsRedeemed, r.SameSellerPoints, r.CrossSellerPoints, r.Balance = x.PointsRedeemed, x.SameSellerPoints, x.CrossSellerPoints, x.Balance
		r.SystemPayment = Rupees(types.FormatPaise(x.SystemPaymentPaise))
		r.Discount = Rupees(types.FormatPaise(x.DiscountPaise))
		r.AuthorisedBy = AuthorisedBy(x.AuthorisedBy)
	}
	return r
}

func (s *Server) refund(ctx context.Context, in *RefundRequest) (*bookingOut[RefundResult], error) {
	p := principal(ctx)
	b := &in.Body
	if e := first(till(p, b.TerminalID), idemKey(in.IdempotencyKey)); e != nil {
		return nil, e
	}
	id, e := txHashArg("purchase_id", b.PurchaseID)
	if e != nil {
		return nil, e
	}
	var amount uint64
	if b.Amount != "" {
		if amount, e = rupees("amount", b.Amount); e != nil {
			return nil, e
		}
		if amount == 0 {
			return nil, badRequest("amount must be positive; omit it to refund everything left")
		}
	}
	res, err := s.book(ctx, p, in.IdempotencyKey, &types.MsgRefund{TerminalId: p.TerminalID, PurchaseId: id, AmountPaise: amount})
	if err != nil {
		return nil, err
	}
	return booking(res.Replayed, refundResult(p, res, id)), nil
}

func refundResult(p *Principal, res *client.Result, purchase []byte) RefundResult {
	r := RefundResult{Booked: booked(p, res), PurchaseID: hex.EncodeToString(purchase), Refunded: "0.00", SellerCredit: "0.00"}
	if x := res.Data.GetRefund(); x != nil {
		r.Refunded = Rupees(types.FormatPaise(x.RefundedPaise))
		r.PointsClawedBack, r.PointsShortfall, r.Balance = x.PointsClawedBack, x.PointsShortfall, x.Balance
		r.SellerCredit = Rupees(types.FormatPaise(x.SellerCreditPaise))
	}
	return r
}

func (s *Server) void(ctx context.Context, in *VoidRequest) (*bookingOut[VoidResult], error) {
	p := principal(ctx)
	b := &in.Body
	if e := first(till(p, b.TerminalID), idemKey(in.IdempotencyKey)); e != nil {
		return nil, e
	}
	id, e := txHashArg("redemption_id", b.RedemptionID)
	if e != nil {
		return nil, e
	}
	res, err := s.book(ctx, p, in.IdempotencyKey, &types.MsgVoidRedemption{TerminalId: p.TerminalID, RedemptionId: id})
	if err != nil {
		return nil, err
	}
	return booking(res.Replayed, voidResult(p, res, id)), nil
}

func voidResult(p *Principal, res *client.Result, redemption []byte) VoidResult {
	r := VoidResult{Booked: booked(p, res), RedemptionID: hex.EncodeToString(redemption), SellerDebit: "0.00"}
	if x := res.Data.GetVoid(); x != nil {
		r.PointsRestored, r.PointsExpired, r.Balance = x.PointsRestored, x.PointsExpired, x.Balance
		r.SellerDebit = Rupees(types.FormatPaise(x.SellerDebitPaise))
	}
	return r
}

// first returns the first non-nil error.
func first(es ...*Error) *Error {
	for _, e := range es {
		if e != nil {
			return e
		}
	}
	return nil
}

// ---- reads ----

// query answers a read from committed state through the app's query
// assemblers (the same code that answers `bytepointsd query`, with or
// without proofs). Its arguments are validated ids and formatted
// integers, never raw request text; one with a '/' is refused here too,
// so no request can rewrite the path.
func (s *Server) query(name string, args ...string) (*app.QueryResult, *Error) {
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, "/?#") {
			return nil, internal("query argument not validated")
		}
	}
	res := s.d.App.Query("/"+strings.Join(append([]string{name}, args...), "/"), false)
	if res.Code != types.CodeOK {
		return nil, fromCodeError(types.Errorf(res.Code, "%s", strings.TrimPrefix(res.Log, res.Code.Name()+": ")))
	}
	return &res, nil
}

func (s *Server) customer(_ context.Context, in *CustomerPath) (*out[Customer], error) {
	if err := types.ValidateCustomerID(in.ID); err != nil {
		return nil, fromCodeError(err)
	}
	res, e := s.query("balance", in.ID)
	if e != nil {
		return nil, e
	}
	var b types.BalanceResponse
	if err := b.Unmarshal(res.Value); err != nil {
		return nil, internal(err.Error())
	}
	c := Customer{CustomerID: b.CustomerId, Exists: b.Exists, Points: b.Points, WalletBound: len(b.WalletPubkey) > 0, Lots: []Lot{}, Height: res.Height}
	for _, l := range b.Lots {
		c.Lots = append(c.Lots, Lot{Issuer: l.Issuer, Points: l.Points, OriginalPoints: l.OriginalPoints,
			IssuedAt: unixTime(l.IssuedAt), IssuedAtUnix: l.IssuedAt, ExpiresAt: unixTime(l.ExpiresAt), ExpiresAtUnix: l.ExpiresAt,
			PurchaseID: hex.EncodeToString(l.PurchaseId)})
	}
	return &out[Customer]{Body: c}, nil
}

func (s *Server) history(_ context.Context, in *HistoryRequest) (*out[History], error) {
	if err := types.ValidateCustomerID(in.ID); err != nil {
		return nil, fromCodeError(err)
	}
	res, e := s.query("history", in.ID, strconv.FormatUint(in.Page, 10), strconv.FormatUint(in.Limit, 10))
	if e != nil {
		return nil, e
	}
	var h types.HistoryResponse
	if err := h.Unmarshal(res.Value); err != nil {
		return nil, internal(err.Error())
	}
	o := History{CustomerID: h.CustomerId, Total: h.Total, Page: h.Page, Limit: h.Limit, Entries: []HistoryEntry{}, Height: res.Height}
	for _, x := range h.Entries {
		he := HistoryEntry{Seq: x.Seq, Kind: HistoryKind(types.HistoryKinds.Name(x.Kind)), PointsDelta: x.PointsDelta, SellerID: x.SellerId,
			Height: x.Height, Time: unixTime(x.Time), TimeUnix: x.Time, BalanceAfter: x.BalanceAfter}
		if len(x.TxId) > 0 {
			he.TxID = hex.EncodeToString(x.TxId)
		}
		o.Entries = append(o.Entries, he)
	}
	return &out[History]{Body: o}, nil
}

func (s *Server) decision(ctx context.Context, in *DecisionRequest) (*out[Decision], error) {
	p := principal(ctx)
	if err := types.ValidateCustomerID(in.CustomerID); err != nil {
		return nil, fromCodeError(err)
	}
	amount, e := rupees("amount", in.Amount)
	if e != nil {
		return nil, e
	}
	if e := s.contextArg("context_nano", in.ContextNano); e != nil {
		return nil, e
	}
	start := time.Now()
	d, h, err := s.d.App.Decide(risk.Question{CustomerID: in.CustomerID, AmountPaise: amount, SellerID: p.SellerID, ContextNano: in.ContextNano})
	if s.d.Decisions != nil {
		s.d.Decisions.Observe(time.Since(start).Seconds())
	}
	if err != nil {
		return nil, fromCodeError(err)
	}
	o := Decision{CustomerID: d.CustomerId, SellerID: d.SellerId, Amount: Rupees(types.FormatPaise(d.AmountPaise)), CVMRequired: d.CvmRequired,
		Reputation: nano(d.ReputationNano), RiskMax: nano(d.RiskMaxNano), SkipLimit: Rupees(types.FormatPaise(d.SkipLimitPaise)),
		Reason: d.Reason, EpochRiskUsed: nano(d.EpochRiskUsedNano), PaymentsOnRecord: d.Payments, Height: h, Risk: "infinite"}
	if d.RiskNano != math.MaxInt64 {
		o.Risk = nano(d.RiskNano)
	}
	return &out[Decision]{Body: o}, nil
}

func nano(v int64) string { return types.DecimalText(v) }

func statementOf(st *types.Statement) Statement {
	o := Statement{Epoch: st.Epoch, Start: unixTime(st.StartTime), StartUnix: st.StartTime, End: unixTime(st.EndTime), EndUnix: st.EndTime,
		StartHeight: st.StartHeight, ClosedHeight: st.ClosedHeight, OutstandingPoints: st.OutstandingPoints,
		Escrow: Rupees(types.FormatPaise(st.EscrowPaise)), OutstandingLines: st.OutstandingLines, Lines: []StatementLine{}}
	for _, l := range st.Lines {
		a := l.Activity
		if a == nil {
			a = &types.SellerEpoch{}
		}
		o.Lines = append(o.Lines, StatementLine{SellerID: l.SellerId, Net: types.FormatSignedPaise(l.NetPaise),
			Direction: Direction(types.DirectionName(l.NetPaise)), Status: LineStatus(types.LineStatuses.Name(l.Status)),
			BankReference: l.BankReference, ConfirmedHeight: l.ConfirmedHeight,
			IssuedPoints: a.IssuedPoints, RedeemedSamePoints: a.RedeemedSamePoints, RedeemedCrossPoints: a.RedeemedCrossPoints,
			ClawedBackPoints: a.ClawedBackPoints, RefundShortfallPoints: a.RefundShortfallPoints, ExpiredPoints: a.ExpiredPoints,
			VoidedPoints: a.VoidedPoints})
	}
	return o
}

func (s *Server) statements(context.Context, *struct{}) (*out[Statements], error) {
	res, e := s.query("statements")
	if e != nil {
		return nil, e
	}
	var r types.StatementsResponse
	if err := r.Unmarshal(res.Value); err != nil {
		return nil, internal(err.Error())
	}
	o := Statements{Statements: []Statement{}, Height: res.Height}
	if r.Open != nil {
		o.Open = OpenEpoch{Epoch: r.Open.Epoch, StartHeight: r.Open.StartHeight, Start: unixTime(r.Open.StartTime), StartUnix: r.Open.StartTime}
	}
	for _, st := range r.Statements {
		o.Statements = append(o.Statements, statementOf(st))
	}
	return &out[Statements]{Body: o}, nil
}

// epochArg reads an epoch number, or a date on a chain whose epochs are
// UTC days (SPEC §5.4's default); elsewhere a date names no single epoch.
func (s *Server) epochArg(v string) (uint64, *Error) {
	if e, err := strconv.ParseUint(v, 10, 64); err == nil {
		return e, nil
	}
	t, err := time.Parse("2006-01-02", v)
	if err != nil {
		return 0, badRequest("epoch %q: give an epoch number or a date YYYY-MM-DD", clip(v))
	}
	p := s.d.App.Params()
	if p == nil {
		return 0, newError(http.StatusNotFound, types.CodeNotFound, "chain not initialised")
	}
	if p.EpochSeconds != 86400 {
		return 0, badRequest("this chain's settlement epochs are %d s long, not days: give the epoch number (GET /v1/statements lists them)", p.EpochSeconds)
	}
	if t.Unix() < 0 {
		return 0, badRequest("epoch date %s is before 1970", v)
	}
	return uint64(t.Unix() / p.EpochSeconds), nil
}

func (s *Server) statement(_ context.Context, in *StatementRequest) (*out[Statement], error) {
	e, err := s.epochArg(in.Epoch)
	if err != nil {
		return nil, err
	}
	res, qe := s.query("statement", strconv.FormatUint(e, 10))
	if qe != nil {
		return nil, qe
	}
	var st types.Statement
	if err := st.Unmarshal(res.Value); err != nil {
		return nil, internal(err.Error())
	}
	return &out[Statement]{Body: statementOf(&st)}, nil
}

func (s *Server) tx(ctx context.Context, in *TxRequest) (*out[TxStatus], error) {
	hash, e := txHashArg("hash", strings.ToLower(in.Hash))
	if e != nil {
		return nil, e
	}
	o := TxStatus{TxHash: hex.EncodeToString(hash), Status: TxUnknown}
	res, err := s.d.RPC.Tx(ctx, hash, false)
	if err != nil {
		if !strings.Contains(err.Error(), "not found") {
			return nil, internal("look up tx: " + err.Error())
		}
		if s.d.Pending != nil && s.d.Pending(hash) {
			o.Status = TxPending
		}
		return &out[TxStatus]{Body: o}, nil
	}
	o.Status, o.Height = TxCommitted, res.Height
	parsed, err := app.DecodeTx(s.d.ChainID, res.Tx)
	if err != nil {
		return &out[TxStatus]{Body: o}, nil
	}
	// Whose it is: the signer's record in committed state names its seller
	// and, for a terminal key, its terminal. Another seller's transaction
	// (or one whose signer is unknown here) is answered with its status
	// alone: its amounts and customer are that seller's business.
	owner := s.signerOf(parsed.Body.Signer)
	if owner == nil || owner.SellerId != s.cfg.SellerID {
		return &out[TxStatus]{Body: o}, nil
	}
	p := &Principal{SellerID: owner.SellerId, TerminalID: owner.TerminalId}
	if p.TerminalID == "" {
		p.TerminalID = terminalOf(&parsed.Body)
	}
	code := types.Code(res.TxResult.Code)
	c := uint32(code)
	o.Code, o.CodeName, o.Message = &c, code.Name(), res.TxResult.Log
	o.MsgType, o.Signer = app.MsgName(&parsed.Body), hex.EncodeToString(parsed.Body.Signer)
	o.SellerID, o.TerminalID = p.SellerID, p.TerminalID
	r := &client.Result{Code: code, TxHash: hash, Height: res.Height}
	if len(res.TxResult.Data) > 0 {
		var d types.TxResultData
		if err := d.Unmarshal(res.TxResult.Data); err == nil {
			r.Data = &d
			if d.ReplayOf != nil {
				o.ReplayOf = hex.EncodeToString(d.ReplayOf.TxHash)
			}
			if d.ConflictWith != nil {
				o.ConflictWith = hex.EncodeToString(d.ConflictWith.TxHash)
			}
		}
	}
	if code == types.CodeOK && r.Data != nil {
		switch {
		case r.Data.GetPurchase() != nil:
			x := issueResult(p, r)
			o.Issue = &x
		case r.Data.GetRedeem() != nil:
			x := redeemResult(p, r)
			o.Redeem = &x
		case r.Data.GetRefund() != nil:
			x := refundResult(p, r, parsed.Body.GetRefund().GetPurchaseId())
			o.Refund = &x
		case r.Data.GetVoid() != nil:
			x := voidResult(p, r, parsed.Body.GetVoidRedemption().GetRedemptionId())
			o.Void = &x
		}
	}
	return &out[TxStatus]{Body: o}, nil
}

// signerOf is the committed record of a signing key (nil if none).
func (s *Server) signerOf(pub []byte) *types.SignerRef {
	ref, ok := s.d.App.SignerRef(pub)
	if !ok {
		return nil
	}
	return ref
}

// contextArg checks a CRMS context multiplier against the chain's bounds
// (risk.CheckContext, the rule the ledger applies), on every route that
// takes one and whatever else the request says: the ledger asks the CRMS,
// and so checks the context, only when no PIN was verified, and a value a
// till sends must not be accepted or refused by accident of its flow.
func (s *Server) contextArg(field string, v int64) *Error {
	if v == 0 {
		return nil
	}
	p := s.d.App.Params()
	if p == nil || p.Crms == nil {
		return newError(http.StatusServiceUnavailable, types.CodeInternal, "the chain's parameters are not readable yet; retry")
	}
	if risk.CheckContext(p.Crms, v) != nil {
		return badRequest("%s %d is outside the chain's context bounds [%d, %d] (a multiplier of x%s, allowed x%s to x%s; 0 means x1)",
			field, v, p.Crms.ContextMinNano, p.Crms.ContextMaxNano, nano(v), nano(p.Crms.ContextMinNano), nano(p.Crms.ContextMaxNano))
	}
	return nil
}

func terminalOf(b *types.TxBody) string {
	switch m := b.Msg.(type) {
	case *types.TxBody_Purchase:
		return m.Purchase.TerminalId
	case *types.TxBody_Redeem:
		return m.Redeem.TerminalId
	case *types.TxBody_Refund:
		return m.Refund.TerminalId
	case *types.TxBody_VoidRedemption:
		return m.VoidRedemption.TerminalId
	}
	return ""
}

func (s *Server) health(context.Context, *struct{}) (*out[Health], error) {
	h, hash := s.d.App.Info()
	return &out[Health]{Body: Health{Status: healthOK, SellerID: s.cfg.SellerID, ChainID: s.d.ChainID, Height: h, AppHash: hex.EncodeToString(hash)}}, nil
}
