package crms

import (
	"errors"
	"fmt"
)

// The flow enums. Their numbers are shared with the protobuf messages and the
// trace CSV (SPEC §8) and must never change; 0 is "unspecified" and invalid
// in a flow (in a RatingEntry it is the wildcard).

// ReadType is how the card was read.
type ReadType int32

const (
	ReadMagstripe            ReadType = 2
	ReadContactEMV           ReadType = 3
	ReadContactlessMagstripe ReadType = 5
	ReadContactlessEMV       ReadType = 6
)

// Valid reports whether r is a defined read type (not 0).
func (r ReadType) Valid() bool {
	switch r {
	case ReadMagstripe, ReadContactEMV, ReadContactlessMagstripe, ReadContactlessEMV:
		return true
	}
	return false
}

// CVM is the cardholder verification method and its outcome.
type CVM int32

const (
	CVMPinOnlineOK     CVM = 1
	CVMPinOfflineOK    CVM = 2
	CVMWrongPinThenOK  CVM = 3
	CVMWrongPinAborted CVM = 4
	CVMSignature       CVM = 5
	CVMNoCVMUnderLimit CVM = 6
	CVMNoCVMByCRMS     CVM = 7
)

const (
	minCVM              = CVMPinOnlineOK
	maxCVM              = CVMNoCVMByCRMS
	unspecifiedEnumCode = 0
)

// Valid reports whether c is a defined CVM (not 0).
func (c CVM) Valid() bool { return c >= minCVM && c <= maxCVM }

// Auth is the authorisation result.
type Auth int32

const (
	AuthApproved Auth = 1
	AuthDeclined Auth = 2
)

// Valid reports whether a is a defined result (not 0).
func (a Auth) Valid() bool { return a == AuthApproved || a == AuthDeclined }

// ErrContradictoryFlow wraps the ValidFlow failure for a flow whose parts
// cannot all be true.
var ErrContradictoryFlow = errors.New("crms: contradictory flow")

// ValidFlow checks a flow code from a transaction or a trace; the ledger maps
// a failure to invalid_argument. Besides undefined codes (0 included: a flow
// is never assumed) it refuses a contradictory flow (SPEC §6.1): a wrong PIN
// that aborted the verification cannot have been approved — an approval
// after a wrong PIN is CVMWrongPinThenOK. Such a flow would rate as the
// matching rule says (0) yet earn points as an approved sale.
func ValidFlow(rt ReadType, cvm CVM, auth Auth) error {
	switch {
	case !rt.Valid():
		return fmt.Errorf("crms: invalid read type %d", rt)
	case !cvm.Valid():
		return fmt.Errorf("crms: invalid cvm %d", cvm)
	case !auth.Valid():
		return fmt.Errorf("crms: invalid auth result %d", auth)
	case cvm == CVMWrongPinAborted && auth == AuthApproved:
		return fmt.Errorf("%w: verification aborted after a wrong PIN (cvm %d) cannot be approved (auth %d)", ErrContradictoryFlow, cvm, auth)
	}
	return nil
}

// RatingEntry rates the flows it matches. A zero field is a wildcard.
type RatingEntry struct {
	ReadType   ReadType
	CVM        CVM
	Auth       Auth
	RatingNano int64 // in [0, 1e9]
}

// RatingTable is the governed flow → rating table (SPEC §6.1).
//
// Lookup: among the entries matching a flow, the most specific wins — the one
// with the most non-wildcard fields. Between equally specific entries, the one
// whose fixed fields rank higher in the order Auth > CVM > ReadType wins (so a
// DECLINED rule beats a CVM rule of the same specificity: a decline is what
// defines the flow's quality). Validate rejects two entries with the same
// key, so this order is total; an unvalidated table falls back to table
// order. A flow that matches nothing rates 0.
type RatingTable []RatingEntry

// DefaultRatings is the genesis table. A verified PIN is the strongest proof
// that the cardholder is present (1.0); no-CVM payments prove possession of
// the card only (0.7); a signature is weak (0.5); a wrong PIN followed by a
// right one is suspicious (0.3); an aborted wrong PIN and any decline are 0.
// Magstripe reads (contact or contactless) are clonable, so each outcome rates
// 0.1 lower there. Every positive entry names Auth=APPROVED explicitly, so no
// positive rule can outrank the DECLINED rule.
func DefaultRatings() RatingTable {
	t := RatingTable{
		{CVM: CVMPinOnlineOK, Auth: AuthApproved, RatingNano: Nano},
		{CVM: CVMPinOfflineOK, Auth: AuthApproved, RatingNano: Nano},
		{CVM: CVMNoCVMUnderLimit, Auth: AuthApproved, RatingNano: 700_000_000},
		{CVM: CVMNoCVMByCRMS, Auth: AuthApproved, RatingNano: 700_000_000},
		{CVM: CVMSignature, Auth: AuthApproved, RatingNano: 500_000_000},
		{CVM: CVMWrongPinThenOK, Auth: AuthApproved, RatingNano: 300_000_000},
		{CVM: CVMWrongPinAborted, RatingNano: 0},
		{Auth: AuthDeclined, RatingNano: 0},
	}
	for _, rt := range []ReadType{ReadMagstripe, ReadContactlessMagstripe} {
		t = append(t,
			RatingEntry{rt, CVMPinOnlineOK, AuthApproved, 900_000_000},
			RatingEntry{rt, CVMPinOfflineOK, AuthApproved, 900_000_000},
			RatingEntry{rt, CVMNoCVMUnderLimit, AuthApproved, 600_000_000},
			RatingEntry{rt, CVMNoCVMByCRMS, AuthApproved, 600_000_000},
			RatingEntry{rt, CVMSignature, AuthApproved, 400_000_000},
			RatingEntry{rt, CVMWrongPinThenOK, AuthApproved, 200_000_000},
		)
	}
	return t
}

// MaxRatingEntries bounds a governed table: lookups scan it linearly.
const MaxRatingEntries = 256

// Validate checks codes (0 or defined), ratings in [0, 1e9], the size bound
// and that no two entries share a key.
func (t RatingTable) Validate() error {
	if len(t) > MaxRatingEntries {
		return fmt.Errorf("crms: rating table has %d entries, max %d", len(t), MaxRatingEntries)
	}
	for i, e := range t {
		switch {
		case e.ReadType != unspecifiedEnumCode && !e.ReadType.Valid():
			return fmt.Errorf("crms: rating entry %d: invalid read type %d", i, e.ReadType)
		case e.CVM != unspecifiedEnumCode && !e.CVM.Valid():
			return fmt.Errorf("crms: rating entry %d: invalid cvm %d", i, e.CVM)
		case e.Auth != unspecifiedEnumCode && !e.Auth.Valid():
			return fmt.Errorf("crms: rating entry %d: invalid auth %d", i, e.Auth)
		case e.RatingNano < 0 || e.RatingNano > Nano:
			return fmt.Errorf("crms: rating entry %d: rating %d outside [0, %d]", i, e.RatingNano, Nano)
		}
		for j := range i {
			f := t[j]
			if f.ReadType == e.ReadType && f.CVM == e.CVM && f.Auth == e.Auth {
				return fmt.Errorf("crms: rating entries %d and %d have the same key", j, i)
			}
		}
	}
	return nil
}

// precedence orders matching entries: specificity first, then which fields
// are fixed (Auth 4 > CVM 2 > ReadType 1). Returns -1 if e does not match.
func (e RatingEntry) precedence(rt ReadType, cvm CVM, auth Auth) int {
	count, mask := 0, 0
	if e.ReadType != 0 {
		if e.ReadType != rt {
			return -1
		}
		count, mask = count+1, mask|1
	}
	if e.CVM != 0 {
		if e.CVM != cvm {
			return -1
		}
		count, mask = count+1, mask|2
	}
	if e.Auth != 0 {
		if e.Auth != auth {
			return -1
		}
		count, mask = count+1, mask|4
	}
	return count*8 + mask
}

// Rating returns the rating of a flow in nano, clamped to [0, 1e9].
func (t RatingTable) Rating(rt ReadType, cvm CVM, auth Auth) int64 {
	best, rating := -1, int64(0)
	for _, e := range t {
		if p := e.precedence(rt, cvm, auth); p > best {
			best, rating = p, e.RatingNano
		}
	}
	return clampRating(rating)
}

func clampRating(r int64) int64 {
	if r < 0 {
		return 0
	}
	if r > Nano {
		return Nano
	}
	return r
}
