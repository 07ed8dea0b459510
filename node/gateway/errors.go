package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/bytepoints/bytepoints/types"
	"github.com/danielgtaylor/huma/v2"
)

// Error is the one error shape of the gateway, for every status and route
// (huma's own validation errors and unknown routes included): the SPEC
// code, its stable name and a message for a person. Some errors name a
// transaction: the one to poll (504), the one that used the idempotency
// key first (409), the refused one (422).
type Error struct {
	Status       int        `json:"-"`
	Code         types.Code `json:"code" doc:"SPEC result code (stable; never renumbered)"`
	CodeName     string     `json:"code_name" doc:"The code's stable name, e.g. cvm_required"`
	Message      string     `json:"message" doc:"What went wrong, for a person"`
	TxHash       string     `json:"tx_hash,omitempty" doc:"The transaction this answer is about (504: poll GET /v1/tx/{hash})"`
	ConflictWith string     `json:"conflict_with,omitempty" doc:"409: the transaction that first used this Idempotency-Key, for another request"`
	headers      http.Header
}

func (e *Error) Error() string { return e.CodeName + ": " + e.Message }

// GetStatus is huma's StatusError.
func (e *Error) GetStatus() int { return e.Status }

// GetHeaders is huma's HeadersError (Retry-After, WWW-Authenticate).
func (e *Error) GetHeaders() http.Header {
	if e.headers == nil {
		e.headers = http.Header{}
	}
	return e.headers
}

// MarshalJSON fills code_name from the code.
func (e *Error) MarshalJSON() ([]byte, error) {
	type plain Error
	c := plain(*e)
	c.CodeName = e.Code.Name()
	return marshal(c)
}

func newError(status int, code types.Code, msg string) *Error {
	return &Error{Status: status, Code: code, CodeName: code.Name(), Message: msg}
}

func badRequest(format string, a ...any) *Error {
	return newError(http.StatusBadRequest, types.CodeInvalidArgument, fmt.Sprintf(format, a...))
}

func unauthenticated(msg string) *Error {
	e := newError(http.StatusUnauthorized, types.CodeUnknownSigner, msg)
	e.GetHeaders().Set("WWW-Authenticate", `Bearer realm="bytepoints"`)
	return e
}

func forbidden(msg string) *Error { return newError(http.StatusForbidden, types.CodeUnauthorized, msg) }

func tooLarge(limit int64) *Error {
	return newError(http.StatusRequestEntityTooLarge, types.CodeInvalidArgument,
		fmt.Sprintf("request body is larger than the limit of %d bytes", limit))
}

func internal(msg string) *Error {
	return newError(http.StatusInternalServerError, types.CodeInternal, msg)
}

// fromCodeError turns a ledger error (types.Error) met outside a
// transaction (a query, a decision, a request check) into its answer.
func fromCodeError(err error) *Error {
	var te *types.Error
	if !errors.As(err, &te) {
		return internal(err.Error())
	}
	switch te.Code {
	case types.CodeInvalidArgument, types.CodeInvalidAmount, types.CodeDecode:
		return newError(http.StatusBadRequest, te.Code, te.Msg)
	case types.CodeNotFound:
		return newError(http.StatusNotFound, te.Code, te.Msg)
	default:
		return newError(http.StatusInternalServerError, te.Code, te.Msg)
	}
}

// hookOnce installs the gateway's error type as huma's. huma creates its
// own errors (body validation, body too large, unknown query parameters)
// through this package-level hook; setting it once per process is huma's
// documented way to replace its error model. Every status huma produces
// for a request it could not read is a malformed request here: 400 with
// invalid_argument, except the statuses that say more (413, 415, 408).
var hookOnce sync.Once

func installErrorHook() {
	hookOnce.Do(func() {
		huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
			return humaError(status, msg, errs)
		}
		huma.NewErrorWithContext = func(_ huma.Context, status int, msg string, errs ...error) huma.StatusError {
			return humaError(status, msg, errs)
		}
	})
}

func humaError(status int, msg string, errs []error) *Error {
	var parts []string
	for _, e := range errs {
		if e == nil {
			continue
		}
		var d *huma.ErrorDetail
		if errors.As(e, &d) {
			// Never d.Value: it echoes the request back.
			if d.Location != "" {
				parts = append(parts, d.Location+": "+d.Message)
			} else {
				parts = append(parts, d.Message)
			}
			continue
		}
		if se, ok := e.(*Error); ok {
			return se
		}
		var mbe *http.MaxBytesError
		if errors.As(e, &mbe) {
			return tooLarge(mbe.Limit)
		}
		parts = append(parts, e.Error())
	}
	if msg == "validation failed" {
		msg = "malformed request"
	}
	if len(parts) > 0 {
		msg += ": " + strings.Join(parts, "; ")
	}
	switch status {
	case 0:
		// huma builds one error with status 0 to learn the error schema.
		return newError(0, types.CodeInternal, msg)
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return newError(http.StatusBadRequest, types.CodeInvalidArgument, msg)
	case http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusRequestTimeout, http.StatusNotAcceptable:
		return newError(status, types.CodeInvalidArgument, msg)
	case http.StatusNotFound:
		return newError(status, types.CodeNotFound, msg)
	case http.StatusUnauthorized:
		return newError(status, types.CodeUnknownSigner, msg)
	case http.StatusForbidden:
		return newError(status, types.CodeUnauthorized, msg)
	case http.StatusTooManyRequests:
		return newError(status, types.CodeRateLimited, msg)
	}
	return newError(status, types.CodeInternal, msg)
}

// writeError writes e outside huma (unknown routes, middleware refusals).
func writeError(w http.ResponseWriter, e *Error) {
	for k, vs := range e.headers {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	bz, err := marshal(e)
	if err != nil {
		bz = []byte(`{"code":1,"code_name":"internal","message":"cannot encode the error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Status)
	w.Write(append(bz, '\n'))
}
