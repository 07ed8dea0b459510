package keyring

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
)

// ArmorType is the PEM block type of an exported key.
const ArmorType = "BYTEPOINTS PRIVATE KEY"

// Export armors priv as a PEM block whose body is the seed sealed under
// passphrase (scrypt + XChaCha20-Poly1305, as the file backend); the
// headers carry the name, the type and the public key in the clear.
func Export(name string, priv ed25519.PrivateKey, passphrase string) (string, error) {
	pub := priv.Public().(ed25519.PublicKey)
	s, err := seal(passphrase, priv, adFor(name, pub))
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: ArmorType, Headers: map[string]string{
		"name": name, "type": "ed25519", "pub_key": hex.EncodeToString(pub)}, Bytes: body})), nil
}

// Import opens an armored key with passphrase; it returns the name it was
// exported under and the key.
func Import(armored []byte, passphrase string) (string, ed25519.PrivateKey, error) {
	b, rest := pem.Decode(armored)
	if b == nil || b.Type != ArmorType {
		return "", nil, fmt.Errorf("not an armored Byte Points key (want a %q block)", "-----BEGIN "+ArmorType+"-----")
	}
	if len(rest) > 0 && len(trimSpace(rest)) > 0 {
		return "", nil, errors.New("armored key: unexpected data after the END line")
	}
	name := b.Headers["name"]
	if err := ValidName(name); err != nil {
		return "", nil, fmt.Errorf("armored key: %w", err)
	}
	pub, err := hex.DecodeString(b.Headers["pub_key"])
	if err != nil || len(pub) != ed25519.PublicKeySize || b.Headers["type"] != "ed25519" {
		return "", nil, errors.New("armored key: no valid ed25519 pub_key header")
	}
	var s sealed
	if err := json.Unmarshal(b.Bytes, &s); err != nil {
		return "", nil, fmt.Errorf("armored key: %w", err)
	}
	k, err := s.open(passphrase, adFor(name, pub))
	if err != nil {
		if errors.Is(err, ErrWrongPassphrase) {
			return "", nil, fmt.Errorf("%w for the armored key %q (the export passphrase)", ErrWrongPassphrase, name)
		}
		return "", nil, err
	}
	return name, k, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}
