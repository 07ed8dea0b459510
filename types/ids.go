package types

const (
	maxCustomerIDLen = 64
	maxTerminalIDLen = 32
	maxIdemKeyLen    = 64
	maxBankRefLen    = 64
	maxMemoLen       = 256
	maxDescLen       = 1024
)

// ValidateSellerID checks the SPEC §3 form [a-z0-9][a-z0-9-]{2,31}.
func ValidateSellerID(id string) error {
	if len(id) < 3 || len(id) > 32 {
		return Errorf(CodeInvalidArgument, "seller id %q must be 3 to 32 characters", clip(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0)
		if !ok {
			return Errorf(CodeInvalidArgument, "seller id %q: only a-z, 0-9 and '-' (not first) are allowed", clip(id))
		}
	}
	return nil
}

// ValidateCustomerID accepts an opaque pseudonym: by convention the 64-hex
// card token, in general 1-64 characters of [A-Za-z0-9._-] starting with a
// letter or digit. Card numbers never reach the ledger; anything longer or
// with other characters is refused.
func ValidateCustomerID(id string) error {
	return validateToken("customer id", id, maxCustomerIDLen)
}

// ValidateTerminalID accepts 1-32 characters of [A-Za-z0-9._-].
func ValidateTerminalID(id string) error {
	return validateToken("terminal id", id, maxTerminalIDLen)
}

// ValidateIdempotencyKey accepts 1-64 printable ASCII characters.
func ValidateIdempotencyKey(k string) error {
	if len(k) == 0 || len(k) > maxIdemKeyLen {
		return Errorf(CodeInvalidArgument, "idempotency key must be 1 to %d characters", maxIdemKeyLen)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return Errorf(CodeInvalidArgument, "idempotency key must be printable ASCII without spaces")
		}
	}
	return nil
}

// ValidateText bounds free text fields (memo, bank reference, description).
func ValidateText(field, s string, max int) error {
	if len(s) > max {
		return Errorf(CodeInvalidArgument, "%s is %d bytes, at most %d allowed", field, len(s), max)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return Errorf(CodeInvalidArgument, "%s contains control characters", field)
		}
	}
	return nil
}

// Limits of the free text fields.
const (
	MaxBankRefLen = maxBankRefLen
	MaxMemoLen    = maxMemoLen
	MaxDescLen    = maxDescLen
)

func validateToken(what, id string, max int) error {
	if len(id) == 0 || len(id) > max {
		return Errorf(CodeInvalidArgument, "%s %q must be 1 to %d characters", what, clip(id), max)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			(i > 0 && (c == '-' || c == '_' || c == '.'))
		if !ok {
			return Errorf(CodeInvalidArgument, "%s %q: only letters, digits, '.', '_' and '-' are allowed", what, clip(id))
		}
	}
	return nil
}

// clip keeps error messages bounded when the input is hostile.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// ValidatePubKey checks an Ed25519 public key's length.
func ValidatePubKey(what string, pk []byte) error {
	if len(pk) != 32 {
		return Errorf(CodeInvalidArgument, "%s must be a 32-byte Ed25519 public key, got %d bytes", what, len(pk))
	}
	return nil
}

// ValidateTxID checks a purchase or redemption id (a 32-byte tx hash).
func ValidateTxID(what string, id []byte) error {
	if len(id) != 32 {
		return Errorf(CodeInvalidArgument, "%s must be a 32-byte transaction hash, got %d bytes", what, len(id))
	}
	return nil
}
