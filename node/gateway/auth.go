package gateway

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/types"
)

// Principal is who a request acts as: one terminal of this seller, with
// the key that signs its transactions.
type Principal struct {
	SellerID   string
	TerminalID string
	TokenID    string
	Key        ed25519.PrivateKey
	rate       float64
	burst      int
}

// fileStamp identifies one version of the token file: a save replaces the
// file (new inode), so any change shows here without reading it.
type fileStamp struct {
	exists bool
	ino    uint64
	size   int64
	mtime  time.Time
}

func stampOf(path string) (fileStamp, error) {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return fileStamp{}, nil
	}
	if err != nil {
		return fileStamp{}, err
	}
	s := fileStamp{exists: true, size: st.Size(), mtime: st.ModTime()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		s.ino = sys.Ino
	}
	return s, nil
}

type tokenSnapshot struct {
	stamp fileStamp
	byID  map[string]*TokenRecord // active tokens only
	err   error                   // the file could not be read: refuse everything
}

// tokenSet is the running gateway's view of the token file. Every request
// stats the file, and a changed file is read again before the request is
// authenticated: a token revoked with the CLI is refused at once, without
// a restart.
type tokenSet struct {
	path    string
	loadKey func(name string) (ed25519.PrivateKey, error)

	cur    atomic.Pointer[tokenSnapshot]
	mu     sync.Mutex // serialises reloads and the key cache
	keys   map[string]ed25519.PrivateKey
	logErr func(msg string, kv ...any)
}

func newTokenSet(path string, loadKey func(string) (ed25519.PrivateKey, error), logErr func(string, ...any)) *tokenSet {
	s := &tokenSet{path: path, loadKey: loadKey, keys: map[string]ed25519.PrivateKey{}, logErr: logErr}
	s.cur.Store(&tokenSnapshot{stamp: fileStamp{ino: ^uint64(0)}}) // never equal: first use loads
	return s
}

func (s *tokenSet) snapshot() *tokenSnapshot {
	st, err := stampOf(s.path)
	cur := s.cur.Load()
	if err == nil && st == cur.stamp {
		return cur
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur = s.cur.Load(); err == nil && st == cur.stamp {
		return cur
	}
	next := &tokenSnapshot{stamp: st, byID: map[string]*TokenRecord{}}
	if err != nil {
		next.err = err
	} else if recs, err := LoadTokens(s.path); err != nil {
		next.err = err
	} else {
		for i := range recs {
			if recs[i].Active() {
				next.byID[recs[i].ID] = &recs[i]
			}
		}
	}
	if next.err != nil {
		s.logErr("gateway token file unreadable: refusing every request until it is fixed", "path", s.path, "err", next.err)
		next.stamp = fileStamp{ino: ^uint64(0)} // try again next request
	}
	s.cur.Store(next)
	return next
}

// key returns the keyring key of a token, cached (keys are never
// rewritten: the keyring refuses to overwrite one).
func (s *tokenSet) key(rec *TokenRecord) (ed25519.PrivateKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[rec.KeyName]; ok {
		return k, nil
	}
	k, err := s.loadKey(rec.KeyName)
	if err != nil {
		return nil, err
	}
	s.keys[rec.KeyName] = k
	return k, nil
}

// authenticate resolves a request's bearer token to its principal, and
// checks in committed state that the terminal is still an active terminal
// of this seller with the token's key. Errors are the gateway's: 401 for
// credentials that do not authenticate here (missing, malformed, unknown,
// revoked locally or on chain), 403 for a well-formed token of another
// seller.
func (s *tokenSet) authenticate(header, seller string, a *app.App) (*Principal, *Error) {
	// The scheme is case-insensitive (RFC 9110 §11.1): "bearer" is Bearer.
	scheme, raw, _ := strings.Cut(strings.TrimSpace(header), " ")
	raw = strings.TrimSpace(raw)
	if !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return nil, unauthenticated("missing bearer token: send Authorization: Bearer <token from `bytepointsd gateway token create`>")
	}
	p, err := ParseToken(raw)
	if err != nil {
		return nil, unauthenticated("bad bearer token: " + err.Error())
	}
	if p.SellerID != seller {
		return nil, forbidden(fmt.Sprintf("this token is for seller %s; this gateway is seller %s's", p.SellerID, seller))
	}
	snap := s.snapshot()
	if snap.err != nil {
		return nil, internal("the gateway cannot read its token file; see the node's log")
	}
	rec, ok := snap.byID[p.ID]
	if !ok || !p.Matches(rec) {
		return nil, unauthenticated("unknown or revoked token")
	}
	key, err := s.key(rec)
	if err != nil {
		s.logErr("gateway token key unavailable", "token", rec.ID, "key", rec.KeyName, "err", err)
		return nil, internal(fmt.Sprintf("the signing key of token %s is not in the node's keyring; see the node's log", rec.ID))
	}
	pub := key.Public().(ed25519.PublicKey)
	if hex.EncodeToString(pub) != rec.PubKey {
		return nil, internal(fmt.Sprintf("keyring key %q no longer matches token %s", rec.KeyName, rec.ID))
	}
	if e := terminalActive(a, seller, rec.TerminalID, pub); e != nil {
		return nil, e
	}
	return &Principal{SellerID: seller, TerminalID: rec.TerminalID, TokenID: rec.ID, Key: key, rate: rec.RatePerSecond, burst: rec.Burst}, nil
}

// terminalActive checks committed state: the terminal is registered to the
// seller, active, and its key is pub.
func terminalActive(a *app.App, seller, terminal string, pub []byte) *Error {
	t, ok := a.Terminal(seller, terminal)
	switch {
	case !ok:
		return &Error{Status: http.StatusUnauthorized, Code: types.CodeUnknownSigner,
			Message: fmt.Sprintf("terminal %s/%s is not registered on chain", seller, terminal)}
	case t.Status != types.TerminalStatus_TERMINAL_STATUS_ACTIVE:
		return &Error{Status: http.StatusUnauthorized, Code: types.CodeUnknownSigner,
			Message: fmt.Sprintf("terminal %s/%s was revoked on chain at height %d", seller, terminal, t.RevokedHeight)}
	case !bytes.Equal(t.Pubkey, pub):
		return &Error{Status: http.StatusUnauthorized, Code: types.CodeUnknownSigner,
			Message: fmt.Sprintf("terminal %s/%s is registered with another key than this token's; create a new token", seller, terminal)}
	}
	return nil
}
