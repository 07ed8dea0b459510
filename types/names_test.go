package types

import "testing"

// Every enum value has exactly one name, and the names round-trip.
func TestEnumNamesRoundTrip(t *testing.T) {
	for v := range ReadType_name {
		if v == 0 {
			continue
		}
		n := ReadTypeName(ReadType(v))
		if got, err := ParseReadType(n); err != nil || got != ReadType(v) {
			t.Errorf("read type %d: name %q parses to %d, %v", v, n, got, err)
		}
	}
	for v := range CVM_name {
		if v == 0 {
			continue
		}
		n := CVMName(CVM(v))
		if got, err := ParseCVM(n); err != nil || got != CVM(v) {
			t.Errorf("cvm %d: name %q parses to %d, %v", v, n, got, err)
		}
	}
	for v := range AuthResult_name {
		if v == 0 {
			continue
		}
		n := AuthName(AuthResult(v))
		if got, err := ParseAuth(n); err != nil || got != AuthResult(v) {
			t.Errorf("auth %d: name %q parses to %d, %v", v, n, got, err)
		}
	}
	if _, err := ParseCVM("PIN"); CodeOf(err) != CodeInvalidArgument {
		t.Errorf("unknown name: %v", err)
	}
	if got := StatusName(SellerStatus_SELLER_STATUS_ACTIVE, "SELLER_STATUS_"); got != "active" {
		t.Errorf("status name %q", got)
	}
	if got := StatusName(LineStatus_LINE_STATUS_NOTHING_DUE, "LINE_STATUS_"); got != "nothing-due" {
		t.Errorf("status name %q", got)
	}
}
