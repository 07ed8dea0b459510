package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGatewayTokenFormat(t *testing.T) {
	tok, rec, err := NewToken("shop-a", "till.1", "till.1", make([]byte, 32), time.Unix(1700000000, 0))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(tok, "bpt~shop-a~till.1~"+rec.ID+"~"), tok)
	require.NotContains(t, rec.SecretSHA256, strings.Split(tok, "~")[4], "the record must not hold the secret")

	p, err := ParseToken(tok)
	require.NoError(t, err)
	require.Equal(t, "shop-a", p.SellerID)
	require.Equal(t, "till.1", p.TerminalID)
	require.True(t, p.Matches(&rec))

	other := rec
	other.TerminalID = "till-2"
	require.False(t, p.Matches(&other), "a token names its terminal")
	flipped := []byte(tok)
	if flipped[len(flipped)-1] == '0' {
		flipped[len(flipped)-1] = '1'
	} else {
		flipped[len(flipped)-1] = '0'
	}
	p2, err := ParseToken(string(flipped))
	require.NoError(t, err)
	require.False(t, p2.Matches(&rec), "a changed secret must not match")

	for _, bad := range []string{"", "bpt", tok + "~x", strings.Replace(tok, "bpt~", "xyz~", 1),
		strings.Replace(tok, "shop-a", "Shop_A", 1), tok[:len(tok)-2], "bpt~shop-a~till/1~0011223344556677~" + strings.Repeat("0", 64)} {
		_, err := ParseToken(bad)
		require.Error(t, err, "%q", bad)
	}
}

func TestGatewayTokenStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config", "gateway_tokens.json")
	recs, err := LoadTokens(path)
	require.NoError(t, err)
	require.Empty(t, recs, "a missing file holds no tokens")

	now := time.Unix(1700000000, 0)
	_, a, err := NewToken("shop-a", "till-1", "till-1", make([]byte, 32), now)
	require.NoError(t, err)
	_, b, err := NewToken("shop-a", "till-2", "till-2", make([]byte, 32), now.Add(time.Second))
	require.NoError(t, err)
	require.NoError(t, AddToken(path, a))
	require.NoError(t, AddToken(path, b))
	require.Error(t, AddToken(path, a), "ids are unique")

	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	revoked, err := RevokeTokens(path, func(r *TokenRecord) bool { return r.TerminalID == "till-1" }, now.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, revoked, 1)
	again, err := RevokeTokens(path, func(r *TokenRecord) bool { return r.TerminalID == "till-1" }, now.Add(2*time.Hour))
	require.NoError(t, err)
	require.Empty(t, again, "a revoked token is not revoked twice")

	recs, err = LoadTokens(path)
	require.NoError(t, err)
	require.Len(t, recs, 2, "revoked tokens stay listed")
	require.False(t, recs[0].Active())
	require.True(t, recs[1].Active())

	require.NoError(t, os.WriteFile(path, []byte(`{"version":1,"tokens":[],"extra":1}`), 0o600))
	_, err = LoadTokens(path)
	require.Error(t, err, "unknown fields are refused, not ignored")
}

func TestGatewayTokenSetSeesRevocation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	_, rec, err := NewToken("shop-a", "till-1", "till-1", make([]byte, 32), time.Now())
	require.NoError(t, err)
	require.NoError(t, AddToken(path, rec))
	s := newTokenSet(path, nil, func(string, ...any) {})
	require.Contains(t, s.snapshot().byID, rec.ID)
	_, err = RevokeTokens(path, func(*TokenRecord) bool { return true }, time.Now())
	require.NoError(t, err)
	require.NotContains(t, s.snapshot().byID, rec.ID, "the next request sees the revocation")

	require.NoError(t, os.WriteFile(path, []byte("not json"), 0o600))
	require.Error(t, s.snapshot().err, "an unreadable file refuses everything")
}
