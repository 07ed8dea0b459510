package crms

import (
	"errors"
	"slices"
	"testing"
)

var (
	allReadTypes = []ReadType{ReadMagstripe, ReadContactEMV, ReadContactlessMagstripe, ReadContactlessEMV}
	allCVMs      = []CVM{CVMPinOnlineOK, CVMPinOfflineOK, CVMWrongPinThenOK, CVMWrongPinAborted, CVMSignature, CVMNoCVMUnderLimit, CVMNoCVMByCRMS}
)

// The enum numbers are shared with protobuf and the trace CSV.
func TestEnumNumbers(t *testing.T) {
	if ReadMagstripe != 2 || ReadContactEMV != 3 || ReadContactlessMagstripe != 5 || ReadContactlessEMV != 6 {
		t.Error("read type numbers changed")
	}
	if CVMPinOnlineOK != 1 || CVMPinOfflineOK != 2 || CVMWrongPinThenOK != 3 || CVMWrongPinAborted != 4 ||
		CVMSignature != 5 || CVMNoCVMUnderLimit != 6 || CVMNoCVMByCRMS != 7 {
		t.Error("CVM numbers changed")
	}
	if AuthApproved != 1 || AuthDeclined != 2 {
		t.Error("auth numbers changed")
	}
	for v := int32(-1); v <= 9; v++ {
		if got, want := ReadType(v).Valid(), slices.Contains(allReadTypes, ReadType(v)); got != want {
			t.Errorf("ReadType(%d).Valid() = %v", v, got)
		}
		if got, want := CVM(v).Valid(), slices.Contains(allCVMs, CVM(v)); got != want {
			t.Errorf("CVM(%d).Valid() = %v", v, got)
		}
		if got, want := Auth(v).Valid(), v == 1 || v == 2; got != want {
			t.Errorf("Auth(%d).Valid() = %v", v, got)
		}
	}
	if ValidFlow(ReadContactEMV, CVMPinOnlineOK, AuthApproved) != nil {
		t.Error("valid flow rejected")
	}
	for _, bad := range [][3]int32{{0, 1, 1}, {3, 0, 1}, {3, 1, 0}, {4, 1, 1}, {3, 8, 1}, {3, 1, 3}} {
		if ValidFlow(ReadType(bad[0]), CVM(bad[1]), Auth(bad[2])) == nil {
			t.Errorf("ValidFlow%v accepted", bad)
		}
	}
}

// TestValidFlowRefusesContradictions walks every defined flow: the only
// contradiction (SPEC §6.1) is a verification aborted after a wrong PIN
// reported as approved; every other combination, that flow declined
// included, is accepted.
func TestValidFlowRefusesContradictions(t *testing.T) {
	for _, rt := range allReadTypes {
		for _, cvm := range allCVMs {
			for _, auth := range []Auth{AuthApproved, AuthDeclined} {
				err := ValidFlow(rt, cvm, auth)
				contradictory := cvm == CVMWrongPinAborted && auth == AuthApproved
				if contradictory != errors.Is(err, ErrContradictoryFlow) || contradictory != (err != nil) {
					t.Errorf("ValidFlow(%d, %d, %d) = %v", rt, cvm, auth, err)
				}
			}
		}
	}
}

func TestDefaultRatings(t *testing.T) {
	tab := DefaultRatings()
	if err := tab.Validate(); err != nil {
		t.Fatal(err)
	}
	emv := func(rt ReadType) bool { return rt == ReadContactEMV || rt == ReadContactlessEMV }
	for _, rt := range allReadTypes {
		for _, cvm := range allCVMs {
			declined := tab.Rating(rt, cvm, AuthDeclined)
			if declined != 0 {
				t.Errorf("declined %d/%d rates %d", rt, cvm, declined)
			}
			r := tab.Rating(rt, cvm, AuthApproved)
			var want int64
			switch cvm {
			case CVMPinOnlineOK, CVMPinOfflineOK:
				want = 1_000_000_000
			case CVMNoCVMUnderLimit, CVMNoCVMByCRMS:
				want = 700_000_000
			case CVMSignature:
				want = 500_000_000
			case CVMWrongPinThenOK:
				want = 300_000_000
			case CVMWrongPinAborted:
				want = 0
			}
			if !emv(rt) && want > 0 {
				want -= 100_000_000 // magstripe is clonable
			}
			if r != want {
				t.Errorf("rating(%d, %d, approved) = %d, want %d", rt, cvm, r, want)
			}
		}
	}
	// Unknown codes match only wildcard entries; nothing matches here.
	if r := tab.Rating(0, 0, 0); r != 0 {
		t.Errorf("unspecified flow rates %d", r)
	}
}

func TestRatingPrecedence(t *testing.T) {
	tab := RatingTable{
		{RatingNano: 100},                                                      // catch-all
		{CVM: CVMPinOnlineOK, RatingNano: 200},                                 // one field
		{ReadType: ReadContactEMV, RatingNano: 300},                            // one field, lower priority than CVM
		{Auth: AuthDeclined, RatingNano: 400},                                  // one field, highest priority
		{ReadType: ReadContactEMV, CVM: CVMPinOnlineOK, RatingNano: 500},       // two fields
		{ReadType: ReadContactEMV, Auth: AuthApproved, RatingNano: 600},        // two fields, Auth beats CVM
		{ReadType: ReadMagstripe, CVM: CVMSignature, Auth: 1, RatingNano: 700}, // three fields
	}
	if err := tab.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		rt   ReadType
		cvm  CVM
		auth Auth
		want int64
	}{
		{ReadContactlessEMV, CVMSignature, AuthApproved, 100},
		{ReadContactlessEMV, CVMPinOnlineOK, AuthApproved, 200},
		{ReadContactEMV, CVMSignature, AuthDeclined, 400}, // Auth beats ReadType at one field
		{ReadContactlessEMV, CVMPinOnlineOK, AuthDeclined, 400},
		{ReadContactEMV, CVMSignature, 0, 300},
		{ReadContactEMV, CVMPinOnlineOK, AuthDeclined, 500}, // two fields beat one
		{ReadContactEMV, CVMPinOnlineOK, AuthApproved, 600}, // {RT,Auth} beats {RT,CVM}
		{ReadMagstripe, CVMSignature, AuthApproved, 700},
	}
	for _, c := range cases {
		if got := tab.Rating(c.rt, c.cvm, c.auth); got != c.want {
			t.Errorf("Rating(%d,%d,%d) = %d, want %d", c.rt, c.cvm, c.auth, got, c.want)
		}
	}
	// Lookup does not depend on table order.
	rev := slices.Clone(tab)
	slices.Reverse(rev)
	for _, c := range cases {
		if got := rev.Rating(c.rt, c.cvm, c.auth); got != c.want {
			t.Errorf("reversed table: Rating(%d,%d,%d) = %d, want %d", c.rt, c.cvm, c.auth, got, c.want)
		}
	}
}

func TestRatingTableValidate(t *testing.T) {
	bad := []RatingTable{
		{{ReadType: 4, RatingNano: 1}},
		{{CVM: 8, RatingNano: 1}},
		{{Auth: 3, RatingNano: 1}},
		{{RatingNano: -1}},
		{{RatingNano: Nano + 1}},
		{{CVM: 1, RatingNano: 1}, {CVM: 1, RatingNano: 2}},
		make(RatingTable, MaxRatingEntries+1),
	}
	for i, tab := range bad {
		if tab.Validate() == nil {
			t.Errorf("table %d accepted", i)
		}
	}
	// An unvalidated out-of-range rating is still clamped on lookup.
	if r := (RatingTable{{RatingNano: 5 * Nano}}).Rating(3, 1, 1); r != Nano {
		t.Errorf("clamp: %d", r)
	}
}
