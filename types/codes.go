package types

import (
	"errors"
	"fmt"
)

// Code is an ABCI result code. The numbers are a public contract (SPEC §4):
// POS integrators switch on them, so a code is never renumbered or reused.
type Code uint32

const (
	CodeOK                 Code = 0
	CodeInternal           Code = 1
	CodeDecode             Code = 2
	CodeBadSignature       Code = 3
	CodeUnknownSigner      Code = 4
	CodeUnauthorized       Code = 5
	CodeDuplicate          Code = 6
	CodeExpired            Code = 7
	CodeInsufficientPoints Code = 8
	CodeInvalidAmount      Code = 9
	CodeOverflow           Code = 10
	CodeNotFound           Code = 11
	CodeCVMRequired        Code = 12
	CodeWrongChain         Code = 13
	CodeInvalidArgument    Code = 14
	// CodeIdempotencyConflict: the (signer, idempotency key) pair already
	// booked a different message; Info names that transaction.
	CodeIdempotencyConflict Code = 15
	// CodeRecordPruned: the purchase or redemption a refund or void names
	// was booked longer ago than the governed record retention and is no
	// longer (or, awaiting pruning, no longer usable) in state; its booking
	// stays in the blocks and the back office. Number 19: 16-18 are the
	// clients' codes.
	CodeRecordPruned Code = 19

	// Codes of the node's clients (the seller gateway, the CLI), never
	// returned by the chain itself.

	// CodeRateLimited: the gateway token made too many requests; retry
	// after the time in the Retry-After header.
	CodeRateLimited Code = 16
	// CodeNotCommitted: the transaction was submitted but its commit was
	// not seen in time; it may still commit: poll its hash.
	CodeNotCommitted Code = 17
	// CodeVerificationFailed: a proven answer, a header or an audit check
	// did not verify from the trust root (the message says which).
	CodeVerificationFailed Code = 18
)

// FromChain reports whether the state machine can return c (every code but
// the clients' own).
func (c Code) FromChain() bool {
	return c != CodeRateLimited && c != CodeNotCommitted && c != CodeVerificationFailed
}

// Codespace is reported with every non-zero code.
const Codespace = "bytepoints"

var codeNames = map[Code]string{
	CodeOK:                  "ok",
	CodeInternal:            "internal",
	CodeDecode:              "decode",
	CodeBadSignature:        "bad_signature",
	CodeUnknownSigner:       "unknown_signer",
	CodeUnauthorized:        "unauthorized",
	CodeDuplicate:           "duplicate",
	CodeExpired:             "expired",
	CodeInsufficientPoints:  "insufficient_points",
	CodeInvalidAmount:       "invalid_amount",
	CodeOverflow:            "overflow",
	CodeNotFound:            "not_found",
	CodeCVMRequired:         "cvm_required",
	CodeWrongChain:          "wrong_chain",
	CodeInvalidArgument:     "invalid_argument",
	CodeIdempotencyConflict: "idempotency_conflict",
	CodeRateLimited:         "rate_limited",
	CodeNotCommitted:        "not_committed",
	CodeVerificationFailed:  "verification_failed",
	CodeRecordPruned:        "record_pruned",
}

// CodeByName maps a stable name back to its code.
func CodeByName(name string) (Code, bool) {
	for c, n := range codeNames {
		if n == name {
			return c, true
		}
	}
	return 0, false
}

// Name is the stable snake_case name of the code.
func (c Code) Name() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("code_%d", uint32(c))
}

func (c Code) String() string { return c.Name() }

// AllCodes lists every registered code in numeric order.
func AllCodes() []Code {
	out := make([]Code, 0, len(codeNames))
	for c := CodeOK; int(c) < 64; c++ {
		if _, ok := codeNames[c]; ok {
			out = append(out, c)
		}
	}
	return out
}

// Error is a rejected transaction or query: a code and a message a person
// understands. It is a value, never a reason to halt the node.
type Error struct {
	Code Code
	Msg  string
}

func (e *Error) Error() string { return e.Code.Name() + ": " + e.Msg }

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// CodeOf extracts the code of err: CodeOK for nil, CodeInternal for an error
// that is not an *Error.
func CodeOf(err error) Code {
	if err == nil {
		return CodeOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// Message is an error's message without its code-name prefix, for text
// that names the code separately (the gateway's error shape, CLI flags).
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return err.Error()
}
