package keyring

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"
)

// scrypt cost of every key sealed here (about 32 MiB and a tenth of a
// second per key); the parameters are stored with each key so they can be
// raised later without breaking old files.
const (
	scryptN = 1 << 15
	scryptR = 8
	scryptP = 1
)

// sealed is a passphrase-encrypted Ed25519 seed.
type sealed struct {
	KDF        string `json:"kdf"` // "scrypt"
	N          int    `json:"n"`
	R          int    `json:"r"`
	P          int    `json:"p"`
	Salt       string `json:"salt"`   // hex, 16 bytes
	Cipher     string `json:"cipher"` // "xchacha20-poly1305"
	Nonce      string `json:"nonce"`  // hex, 24 bytes
	Ciphertext string `json:"ciphertext"`
}

// seal encrypts priv's seed under passphrase; ad (the key's name and
// public key) is authenticated so a sealed seed cannot be moved to another
// name or public key unnoticed.
func seal(passphrase string, priv ed25519.PrivateKey, ad []byte) (*sealed, error) {
	if passphrase == "" {
		return nil, errors.New("the keyring passphrase is empty")
	}
	salt := make([]byte, 16)
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	k, err := scrypt.Key([]byte(passphrase), salt, scryptN, scryptR, scryptP, chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(k)
	if err != nil {
		return nil, err
	}
	ct := aead.Seal(nil, nonce, priv.Seed(), ad)
	return &sealed{KDF: "scrypt", N: scryptN, R: scryptR, P: scryptP, Salt: hex.EncodeToString(salt),
		Cipher: "xchacha20-poly1305", Nonce: hex.EncodeToString(nonce), Ciphertext: hex.EncodeToString(ct)}, nil
}

// open decrypts s; a passphrase that does not authenticate is
// ErrWrongPassphrase.
func (s *sealed) open(passphrase string, ad []byte) (ed25519.PrivateKey, error) {
	if s.KDF != "scrypt" || s.Cipher != "xchacha20-poly1305" {
		return nil, fmt.Errorf("unsupported key encryption %s/%s", s.KDF, s.Cipher)
	}
	if s.N < 2 || s.N > 1<<22 || s.R < 1 || s.R > 32 || s.P < 1 || s.P > 16 {
		return nil, fmt.Errorf("scrypt parameters N=%d r=%d p=%d out of range", s.N, s.R, s.P)
	}
	salt, err1 := hex.DecodeString(s.Salt)
	nonce, err2 := hex.DecodeString(s.Nonce)
	ct, err3 := hex.DecodeString(s.Ciphertext)
	if err := errors.Join(err1, err2, err3); err != nil || len(nonce) != chacha20poly1305.NonceSizeX {
		return nil, errors.New("malformed sealed key")
	}
	k, err := scrypt.Key([]byte(passphrase), salt, s.N, s.R, s.P, chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(k)
	if err != nil {
		return nil, err
	}
	seed, err := aead.Open(nil, nonce, ct, ad)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, ErrWrongPassphrase
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

func adFor(name string, pub ed25519.PublicKey) []byte {
	return append([]byte("bytepoints-keyring-v1\x00"+name+"\x00"), pub...)
}

// File is the encrypted backend.
type File struct {
	f    files
	pass Passphrase

	mu     sync.Mutex
	cached *string // the passphrase once asked for
}

// NewFile returns the encrypted backend rooted at dir; pass is asked for
// the passphrase the first time a key is saved or loaded.
func NewFile(dir string, pass Passphrase) *File { return &File{f: files{dir}, pass: pass} }

func (b *File) Name() string { return BackendFile }

func (b *File) passphrase() (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cached != nil {
		return *b.cached, nil
	}
	if b.pass == nil {
		return "", errors.New("the file keyring needs a passphrase: pass --keyring-passphrase-file or set BYTEPOINTS_KEYRING_PASSPHRASE")
	}
	p, err := b.pass()
	if err != nil {
		return "", err
	}
	if p == "" {
		return "", errors.New("the keyring passphrase is empty")
	}
	b.cached = &p
	return p, nil
}

func (b *File) Save(name string, priv ed25519.PrivateKey) error {
	r, err := b.sealRecord(name, priv)
	if err != nil {
		return err
	}
	return b.f.write(r)
}

func (b *File) sealRecord(name string, priv ed25519.PrivateKey) (*record, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	p, err := b.passphrase()
	if err != nil {
		return nil, err
	}
	pub := priv.Public().(ed25519.PublicKey)
	s, err := seal(p, priv, adFor(name, pub))
	if err != nil {
		return nil, err
	}
	return &record{Name: name, Type: "ed25519", PubKey: hex.EncodeToString(pub), Crypto: s}, nil
}

func (b *File) Load(name string) (ed25519.PrivateKey, error) {
	r, err := b.f.read(name)
	if err != nil {
		return nil, err
	}
	if r.Crypto == nil {
		return nil, fmt.Errorf("key %q in %s is stored in plaintext (test backend) but this home's keyring backend is file: encrypt it with `bytepointsd keys migrate`", name, b.f.dir)
	}
	p, err := b.passphrase()
	if err != nil {
		return nil, err
	}
	pub, _ := hex.DecodeString(r.PubKey)
	k, err := r.Crypto.open(p, adFor(name, pub))
	if err != nil {
		if errors.Is(err, ErrWrongPassphrase) {
			return nil, fmt.Errorf("%w for key %q (%s)", ErrWrongPassphrase, name, b.f.path(name))
		}
		return nil, fmt.Errorf("key file %s: %w", b.f.path(name), err)
	}
	return k, nil
}

func (b *File) Has(name string) bool     { return b.f.has(name) }
func (b *File) List() ([]Info, error)    { return b.f.list() }
func (b *File) Delete(name string) error { return b.f.delete(name) }

// Migrated reports what Migrate did with one key.
type Migrated struct {
	Name    string
	Already bool // it was already encrypted
}

// Migrate encrypts every plaintext key of dir in place (the test
// backend's files become file-backend files under the same names; the
// plaintext is overwritten before it is replaced). Keys already encrypted
// are checked to open with the passphrase, so a keyring never ends up
// under two passphrases.
func (b *File) Migrate() ([]Migrated, error) {
	infos, err := b.f.list()
	if err != nil {
		return nil, err
	}
	var out []Migrated
	for _, in := range infos {
		r, err := b.f.read(in.Name)
		if err != nil {
			return out, err
		}
		if r.Crypto != nil {
			if _, err := b.Load(in.Name); err != nil {
				return out, err
			}
			out = append(out, Migrated{Name: in.Name, Already: true})
			continue
		}
		priv, err := plainKey(b.f.path(in.Name), r)
		if err != nil {
			return out, err
		}
		nr, err := b.sealRecord(in.Name, priv)
		if err != nil {
			return out, err
		}
		if err := b.f.replace(nr); err != nil {
			return out, err
		}
		out = append(out, Migrated{Name: in.Name})
	}
	return out, nil
}
