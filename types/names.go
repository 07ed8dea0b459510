package types

import (
	"fmt"
	"strings"
)

// The names of enum values that people and integrators type and read: the
// CLI's flags, the gateway's JSON and every text output use these, never
// the protobuf identifiers or their numbers. Add names, never rename.

var readTypeNames = []struct {
	name string
	v    ReadType
}{
	{"contact-emv", ReadType_READ_TYPE_CONTACT_EMV},
	{"contactless-emv", ReadType_READ_TYPE_CONTACTLESS_EMV},
	{"magstripe", ReadType_READ_TYPE_MAGSTRIPE},
	{"contactless-magstripe", ReadType_READ_TYPE_CONTACTLESS_MAGSTRIPE},
}

var cvmNames = []struct {
	name string
	v    CVM
}{
	{"pin-online", CVM_CVM_PIN_ONLINE_OK},
	{"pin-offline", CVM_CVM_PIN_OFFLINE_OK},
	{"wrong-pin-then-ok", CVM_CVM_WRONG_PIN_THEN_OK},
	{"wrong-pin-aborted", CVM_CVM_WRONG_PIN_ABORTED},
	{"signature", CVM_CVM_SIGNATURE},
	{"no-cvm-under-limit", CVM_CVM_NO_CVM_UNDER_LIMIT},
	{"no-cvm-crms", CVM_CVM_NO_CVM_CRMS},
}

var authNames = []struct {
	name string
	v    AuthResult
}{
	{"approved", AuthResult_AUTH_RESULT_APPROVED},
	{"declined", AuthResult_AUTH_RESULT_DECLINED},
}

// ReadTypeNames, CVMNames and AuthNames list the names in display order.
func ReadTypeNames() []string { return namesOf(readTypeNames) }
func CVMNames() []string      { return namesOf(cvmNames) }
func AuthNames() []string     { return namesOf(authNames) }

func namesOf[T any](xs []struct {
	name string
	v    T
}) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.name
	}
	return out
}

func parseName[T any](what, s string, xs []struct {
	name string
	v    T
}) (T, error) {
	for _, x := range xs {
		if x.name == s {
			return x.v, nil
		}
	}
	var zero T
	return zero, Errorf(CodeInvalidArgument, "%s %q: want one of %s", what, clip(s), strings.Join(namesOf(xs), ", "))
}

func nameOf[T comparable](v T, xs []struct {
	name string
	v    T
}) string {
	for _, x := range xs {
		if x.v == v {
			return x.name
		}
	}
	return fmt.Sprintf("unknown-%v", v)
}

// ParseReadType, ParseCVM and ParseAuth read a name; an unknown one is
// invalid_argument listing the accepted names.
func ParseReadType(s string) (ReadType, error) { return parseName("card read type", s, readTypeNames) }
func ParseCVM(s string) (CVM, error)           { return parseName("cardholder verification", s, cvmNames) }
func ParseAuth(s string) (AuthResult, error)   { return parseName("authorisation result", s, authNames) }

// ReadTypeName, CVMName and AuthName give a value's name.
func ReadTypeName(v ReadType) string { return nameOf(v, readTypeNames) }
func CVMName(v CVM) string           { return nameOf(v, cvmNames) }
func AuthName(v AuthResult) string   { return nameOf(v, authNames) }

// StatusName is the lower-case name of a protobuf status enum value
// without its type prefix, as JSON output spells it:
// SELLER_STATUS_ACTIVE -> "active", LINE_STATUS_NOTHING_DUE -> "nothing_due".
func StatusName(v fmt.Stringer, prefix string) string {
	return strings.ToLower(strings.TrimPrefix(v.String(), prefix))
}
