package keyring

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha512"
	"errors"
	"strings"

	"github.com/cosmos/go-bip39"
)

// NewMnemonic returns a fresh 24-word BIP-39 mnemonic and the key it
// recovers to (see FromMnemonic).
func NewMnemonic() (string, ed25519.PrivateKey, error) {
	entropy, err := bip39.NewEntropy(256)
	if err != nil {
		return "", nil, err
	}
	m, err := bip39.NewMnemonic(entropy)
	if err != nil {
		return "", nil, err
	}
	k, err := FromMnemonic(m)
	return m, k, err
}

// FromMnemonic derives the Ed25519 key of a BIP-39 mnemonic: the BIP-39
// seed (empty BIP-39 passphrase) gives the SLIP-0010 ed25519 master key
// (HMAC-SHA512 keyed "ed25519 seed"), whose left half is the Ed25519 seed.
// The same words always give the same key.
func FromMnemonic(mnemonic string) (ed25519.PrivateKey, error) {
	m := strings.Join(strings.Fields(mnemonic), " ")
	seed, err := bip39.NewSeedWithErrorChecking(m, "")
	if err != nil {
		return nil, errors.New("invalid BIP-39 mnemonic (wrong word, word count or checksum)")
	}
	mac := hmac.New(sha512.New, []byte("ed25519 seed"))
	mac.Write(seed)
	return ed25519.NewKeyFromSeed(mac.Sum(nil)[:32]), nil
}
