package sim

import "github.com/bytepoints/bytepoints/app/crms"

// StaticNoCVMLimitPaise is the static contactless limit at or under which a
// contactless payment needs no cardholder verification at all: 50.00 in
// the traces' currency (1/100 units), the Polish limit of 50 zł in force
// when the published traces were recorded. It is used to infer the CVM of a
// trace that has no flow column, and by the generator.
const StaticNoCVMLimitPaise = 5_000

// FlowCode is the crms flow a trace implies: read type, CVM and
// authorisation result, as carried by a Purchase's PaymentFlow.
type FlowCode struct {
	ReadType crms.ReadType
	CVM      crms.CVM
	Auth     crms.Auth
}

// Flow returns the flow code of t. Recorded fields are used as they are;
// missing ones are inferred the way a terminal of the published traces
// behaved:
//
//   - CVM: a contactless read (5, 6) at or under StaticNoCVMLimitPaise is
//     CVMNoCVMUnderLimit; any other EMV read (contact, or contactless above
//     the limit) is CVMPinOnlineOK; a magstripe swipe is CVMSignature.
//   - Auth: approved (the published traces list completed payments), except
//     after a verification aborted by a wrong PIN (CVM 4), which cannot
//     have been approved: declined.
//
// A Reader refuses a row whose recorded flow contradicts itself (CVM 4 with
// auth 1, crms.ValidFlow), so the flow of a trace read from a file is always
// one the chain accepts.
func (t *Trace) Flow() FlowCode {
	f := FlowCode{ReadType: t.ReadType, CVM: t.CVM, Auth: t.Auth}
	if f.CVM == 0 {
		switch {
		case (t.ReadType == crms.ReadContactlessEMV || t.ReadType == crms.ReadContactlessMagstripe) && t.AmountPaise <= StaticNoCVMLimitPaise:
			f.CVM = crms.CVMNoCVMUnderLimit
		case t.ReadType == crms.ReadMagstripe:
			f.CVM = crms.CVMSignature
		default:
			f.CVM = crms.CVMPinOnlineOK
		}
	}
	if f.Auth == 0 {
		f.Auth = crms.AuthApproved
		if f.CVM == crms.CVMWrongPinAborted {
			f.Auth = crms.AuthDeclined
		}
	}
	return f
}

// Rating is the rating (nano) of t's flow in table: what the ledger freezes
// into the card's history when the Purchase is recorded.
func (t *Trace) Rating(table crms.RatingTable) int64 {
	f := t.Flow()
	return table.Rating(f.ReadType, f.CVM, f.Auth)
}

// NeedsVerification reports whether the payment, as recorded, went through a
// cardholder verification step that the CRMS could have skipped: PIN (right,
// wrong-then-right or aborted), signature, or a recorded CRMS skip (CVM 7,
// re-decided in the what-if). A no-CVM payment under the static limit had
// nothing to skip, and a refund is not a payment decision.
func (t *Trace) NeedsVerification() bool {
	if t.Type != TxSale || t.AmountPaise == 0 {
		return false
	}
	return t.Flow().CVM != crms.CVMNoCVMUnderLimit
}

// ratingCache answers table.Rating for every valid flow code in O(1).
type ratingCache [8][8][3]int64 // [read type][cvm][auth]

func newRatingCache(table crms.RatingTable) *ratingCache {
	var c ratingCache
	for rt := range 8 {
		for cvm := range 8 {
			for a := range 3 {
				c[rt][cvm][a] = table.Rating(crms.ReadType(rt), crms.CVM(cvm), crms.Auth(a))
			}
		}
	}
	return &c
}

func (c *ratingCache) rating(f FlowCode) int64 {
	return c[f.ReadType&7][f.CVM&7][f.Auth%3]
}
