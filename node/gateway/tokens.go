package gateway

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/bytepoints/bytepoints/node/strictjson"
	"github.com/bytepoints/bytepoints/types"
)

// A gateway API token authenticates one terminal of one seller:
//
//	bpt~<seller id>~<terminal id>~<token id>~<secret>
//
// The seller and terminal ids and the token id are public (they let
// another seller's gateway answer 403 rather than 401, and an operator
// find the token in `gateway token list`); the secret is 32 random bytes
// in hex, and only its SHA-256 is stored. '~' occurs in neither id form
// (SPEC §3) nor in hex, so the token splits unambiguously, and it is a
// valid RFC 6750 bearer token character.
const (
	tokenScheme = "bpt"
	tokenSep    = "~"
	idBytes     = 8  // token id: 16 hex characters
	secretBytes = 32 // 256-bit secret: 64 hex characters
)

// TokenRecord is what the home keeps of a token: never the secret.
type TokenRecord struct {
	ID         string `json:"id"`
	SellerID   string `json:"seller_id"`
	TerminalID string `json:"terminal_id"`
	// KeyName is the keyring key that signs this terminal's transactions;
	// PubKey (hex) is its public key, which was the terminal's key on chain
	// when the token was created.
	KeyName      string     `json:"key"`
	PubKey       string     `json:"pubkey"`
	SecretSHA256 string     `json:"secret_sha256"`
	CreatedAt    time.Time  `json:"created_at"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	// RatePerSecond and Burst override the gateway's per-token rate limit
	// for this token (0: the gateway's configured default).
	RatePerSecond float64 `json:"rate_per_second,omitempty"`
	Burst         int     `json:"burst,omitempty"`
}

// Active reports whether the token has not been revoked.
func (r *TokenRecord) Active() bool { return r.RevokedAt == nil }

// tokenFile is the on-disk form (JSON, mode 0600).
type tokenFile struct {
	Version int           `json:"version"`
	Tokens  []TokenRecord `json:"tokens"`
}

const tokenFileVersion = 1

// ParsedToken is a bearer token split into its parts.
type ParsedToken struct {
	SellerID, TerminalID, ID string
	Secret                   []byte
}

// ParseToken splits a bearer token. It checks the form only: whether the
// token is known is the store's business.
func ParseToken(s string) (*ParsedToken, error) {
	parts := strings.Split(s, tokenSep)
	if len(parts) != 5 || parts[0] != tokenScheme {
		return nil, errors.New("not a Byte Points gateway token (bpt~seller~terminal~id~secret)")
	}
	if types.ValidateSellerID(parts[1]) != nil || types.ValidateTerminalID(parts[2]) != nil {
		return nil, errors.New("the token's seller or terminal id is malformed")
	}
	id, err := hex.DecodeString(parts[3])
	if err != nil || len(id) != idBytes {
		return nil, errors.New("the token's id is malformed")
	}
	secret, err := hex.DecodeString(parts[4])
	if err != nil || len(secret) != secretBytes {
		return nil, errors.New("the token's secret is malformed")
	}
	return &ParsedToken{SellerID: parts[1], TerminalID: parts[2], ID: parts[3], Secret: secret}, nil
}

// Matches reports, in constant time for the secret, whether p is the token
// rec was created for.
func (p *ParsedToken) Matches(rec *TokenRecord) bool {
	want, err := hex.DecodeString(rec.SecretSHA256)
	if err != nil {
		return false
	}
	got := sha256.Sum256(p.Secret)
	ok := subtle.ConstantTimeCompare(got[:], want) == 1
	return ok && p.ID == rec.ID && p.SellerID == rec.SellerID && p.TerminalID == rec.TerminalID
}

// NewToken makes a token for a terminal and the record that stores it.
// The token string is returned once; only the record is kept.
func NewToken(seller, terminal, keyName string, pub []byte, now time.Time) (string, TokenRecord, error) {
	if err := types.ValidateSellerID(seller); err != nil {
		return "", TokenRecord{}, err
	}
	if err := types.ValidateTerminalID(terminal); err != nil {
		return "", TokenRecord{}, err
	}
	var id [idBytes]byte
	var secret [secretBytes]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", TokenRecord{}, err
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return "", TokenRecord{}, err
	}
	sum := sha256.Sum256(secret[:])
	rec := TokenRecord{
		ID: hex.EncodeToString(id[:]), SellerID: seller, TerminalID: terminal, KeyName: keyName,
		PubKey: hex.EncodeToString(pub), SecretSHA256: hex.EncodeToString(sum[:]), CreatedAt: now.UTC().Truncate(time.Second),
	}
	tok := strings.Join([]string{tokenScheme, seller, terminal, rec.ID, hex.EncodeToString(secret[:])}, tokenSep)
	return tok, rec, nil
}

// LoadTokens reads the token file; a missing file holds no tokens.
func LoadTokens(path string) ([]TokenRecord, error) {
	bz, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f tokenFile
	if err := strictjson.Unmarshal(bz, &f); err != nil {
		return nil, fmt.Errorf("token file %s: %w", path, err)
	}
	if f.Version != tokenFileVersion {
		return nil, fmt.Errorf("token file %s: version %d, this build reads version %d", path, f.Version, tokenFileVersion)
	}
	return f.Tokens, nil
}

// saveTokens replaces the file atomically (write, fsync, rename), so a
// running gateway never reads half a file and sees a new inode.
func saveTokens(path string, recs []TokenRecord) error {
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].CreatedAt.Before(recs[j].CreatedAt) })
	bz, err := json.MarshalIndent(tokenFile{Version: tokenFileVersion, Tokens: recs}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(bz, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// updateTokens runs fn on the file's records under an exclusive lock (two
// operators' commands never lose each other's change) and saves the result.
func updateTokens(path string, fn func([]TokenRecord) ([]TokenRecord, error)) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", path, err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	recs, err := LoadTokens(path)
	if err != nil {
		return err
	}
	out, err := fn(recs)
	if err != nil {
		return err
	}
	return saveTokens(path, out)
}

// AddToken stores rec.
func AddToken(path string, rec TokenRecord) error {
	return updateTokens(path, func(recs []TokenRecord) ([]TokenRecord, error) {
		for _, r := range recs {
			if r.ID == rec.ID {
				return nil, fmt.Errorf("token id %s already exists", rec.ID)
			}
		}
		return append(recs, rec), nil
	})
}

// RevokeTokens marks every active token that match selects as revoked at
// now and returns them. A revoked token stays listed (who had access, and
// until when); it never authenticates again.
func RevokeTokens(path string, match func(*TokenRecord) bool, now time.Time) ([]TokenRecord, error) {
	var revoked []TokenRecord
	err := updateTokens(path, func(recs []TokenRecord) ([]TokenRecord, error) {
		at := now.UTC().Truncate(time.Second)
		for i := range recs {
			if recs[i].Active() && match(&recs[i]) {
				recs[i].RevokedAt = &at
				revoked = append(revoked, recs[i])
			}
		}
		return recs, nil
	})
	return revoked, err
}
