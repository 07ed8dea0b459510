// Package keyring keeps a home's Ed25519 signing keys (the seller's
// operator key, its terminals' keys, wallets) behind one interface with
// three backends:
//
//	file  each key encrypted at rest: scrypt (N=2^15, r=8, p=1) derives a
//	      key from the passphrase, XChaCha20-Poly1305 seals the 32-byte
//	      Ed25519 seed; only the name and the public key are in the clear
//	test  plaintext JSON (the format every home had before backends
//	      existed); refused by a node on a non-local chain unless forced
//	os    the platform's secret store; not available in this build
//
// Every backend keeps one file (or entry) per key name under the home's
// keyring/ directory, mode 0600. A wrong passphrase is always an error
// (ErrWrongPassphrase), never a fallback to anything stored in plaintext.
package keyring

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Backend names, as app.toml's keyring_backend and --keyring-backend take them.
const (
	BackendFile = "file"
	BackendTest = "test"
	BackendOS   = "os"
)

// Backend stores signing keys by name.
type Backend interface {
	// Name is the backend's name (file, test, os).
	Name() string
	// Save stores priv under name; it refuses to overwrite a key.
	Save(name string, priv ed25519.PrivateKey) error
	// Load returns the private key called name (decrypting it if the
	// backend encrypts).
	Load(name string) (ed25519.PrivateKey, error)
	// Has reports whether a key called name exists.
	Has(name string) bool
	// List returns the public parts of every key, by name. It needs no
	// passphrase.
	List() ([]Info, error)
	// Delete removes the key called name.
	Delete(name string) error
}

// Info is a key's public part.
type Info struct {
	Name   string
	Type   string // "ed25519"
	PubKey ed25519.PublicKey
}

// PubKeyHex is the public key in hex.
func (i Info) PubKeyHex() string { return hex.EncodeToString(i.PubKey) }

// Passphrase returns the passphrase that unlocks encrypted keys; it is
// asked for lazily (listing keys needs none) and at most once per backend.
type Passphrase func() (string, error)

// ErrWrongPassphrase: the passphrase does not open an encrypted key.
var ErrWrongPassphrase = errors.New("wrong keyring passphrase")

// ErrNotFound: no key of that name.
var ErrNotFound = errors.New("no such key")

// ValidName limits key names to safe file names.
func ValidName(name string) error {
	if name == "" || len(name) > 64 || strings.ContainsAny(name, "/\\ \t\n.") {
		return fmt.Errorf("key name %q: use 1-64 characters without '/', '.', or spaces", name)
	}
	return nil
}

// Open returns the backend called name rooted at dir (the home's keyring
// directory). pass is needed by the file backend only.
func Open(name, dir string, pass Passphrase) (Backend, error) {
	switch name {
	case BackendFile:
		return NewFile(dir, pass), nil
	case BackendTest:
		return NewTest(dir), nil
	case BackendOS:
		return nil, errors.New("keyring backend os: not available in this build (Byte Points has no Keychain, Credential Manager or D-Bus Secret Service integration); use --keyring-backend file")
	default:
		return nil, fmt.Errorf("keyring backend %q: use file, test or os", name)
	}
}
