package keyring_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bytepoints/bytepoints/node/keyring"
)

func pass(p string) keyring.Passphrase { return func() (string, error) { return p, nil } }

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// containsSecret reports whether raw holds the key's seed or its 64-byte
// private key in any of the encodings a key file could use.
func containsSecret(raw []byte, k ed25519.PrivateKey) bool {
	low := bytes.ToLower(raw)
	for _, s := range [][]byte{k.Seed(), k} {
		if bytes.Contains(raw, s) || bytes.Contains(low, []byte(hex.EncodeToString(s))) ||
			bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString(s))) || bytes.Contains(raw, []byte(base64.RawURLEncoding.EncodeToString(s))) {
			return true
		}
	}
	return false
}

func TestKeyFileBackendEncryptsAtRest(t *testing.T) {
	dir := t.TempDir()
	k := newKey(t)
	fb := keyring.NewFile(dir, pass("correct horse"))
	if err := fb.Save("operator", k); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "operator.json"))
	if err != nil {
		t.Fatal(err)
	}
	if containsSecret(raw, k) {
		t.Fatalf("the encrypted key file holds the private key in the clear:\n%s", raw)
	}
	if st, _ := os.Stat(filepath.Join(dir, "operator.json")); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode().Perm())
	}
	// The same file read as plaintext (test backend) is refused, not misread.
	if _, err := keyring.NewTest(dir).Load("operator"); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("test backend on an encrypted key: %v", err)
	}
	got, err := keyring.NewFile(dir, pass("correct horse")).Load("operator")
	if err != nil || !got.Equal(k) {
		t.Fatalf("load with the passphrase: %v", err)
	}
	_, err = keyring.NewFile(dir, pass("wrong horse")).Load("operator")
	if !errors.Is(err, keyring.ErrWrongPassphrase) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	// Listing needs no passphrase: the public key is in the clear.
	infos, err := keyring.NewFile(dir, nil).List()
	if err != nil || len(infos) != 1 || !infos[0].PubKey.Equal(k.Public()) {
		t.Fatalf("list: %v %v", infos, err)
	}
	if err := fb.Save("operator", newKey(t)); err == nil {
		t.Fatal("save overwrote a key")
	}
}

func TestKeyFileTamperedIsWrongPassphrase(t *testing.T) {
	dir := t.TempDir()
	k := newKey(t)
	if err := keyring.NewFile(dir, pass("p")).Save("a", k); err != nil {
		t.Fatal(err)
	}
	// Moving the sealed seed under another name fails authentication.
	raw, _ := os.ReadFile(filepath.Join(dir, "a.json"))
	os.WriteFile(filepath.Join(dir, "b.json"), bytes.Replace(raw, []byte(`"name": "a"`), []byte(`"name": "b"`), 1), 0o600)
	if _, err := keyring.NewFile(dir, pass("p")).Load("b"); !errors.Is(err, keyring.ErrWrongPassphrase) {
		t.Fatalf("renamed sealed key opened: %v", err)
	}
}

func TestKeyMnemonicRecoversSameKey(t *testing.T) {
	m, k, err := keyring.NewMnemonic()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(m)); n != 24 {
		t.Fatalf("%d words", n)
	}
	again, err := keyring.FromMnemonic("  " + strings.ReplaceAll(m, " ", "\n ") + "\n")
	if err != nil || !again.Equal(k) {
		t.Fatalf("recovery: %v", err)
	}
	words := strings.Fields(m)
	words[0], words[1] = words[1], words[0]
	if words[0] != words[1] {
		if _, err := keyring.FromMnemonic(strings.Join(words, " ")); err == nil {
			t.Fatal("a mnemonic with swapped words passed its checksum")
		}
	}
	// A published BIP-39 vector: the all-"abandon" 12 words always give one key.
	k1, err := keyring.FromMnemonic("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about")
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := keyring.FromMnemonic("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about")
	if !k1.Equal(k2) {
		t.Fatal("derivation is not deterministic")
	}
}

func TestKeyExportImportRoundTrip(t *testing.T) {
	k := newKey(t)
	arm, err := keyring.Export("till-1", k, "export pass")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(arm, "-----BEGIN BYTEPOINTS PRIVATE KEY-----") || containsSecret([]byte(arm), k) {
		t.Fatalf("armor:\n%s", arm)
	}
	name, got, err := keyring.Import([]byte(arm), "export pass")
	if err != nil || name != "till-1" || !got.Equal(k) {
		t.Fatalf("import: %q %v", name, err)
	}
	if _, _, err := keyring.Import([]byte(arm), "other"); !errors.Is(err, keyring.ErrWrongPassphrase) {
		t.Fatalf("import with a wrong passphrase: %v", err)
	}
	if _, _, err := keyring.Import([]byte(strings.Replace(arm, "name: till-1", "name: till-2", 1)), "export pass"); err == nil {
		t.Fatal("an armored key renamed in its header imported")
	}
}

func TestKeyMigratePlaintext(t *testing.T) {
	dir := t.TempDir()
	a, b := newKey(t), newKey(t)
	tb := keyring.NewTest(dir)
	if err := tb.Save("operator", a); err != nil {
		t.Fatal(err)
	}
	if err := tb.Save("till-1", b); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "operator.json"))
	if !containsSecret(raw, a) {
		t.Fatal("the test backend is expected to be plaintext")
	}
	fb := keyring.NewFile(dir, pass("pw"))
	done, err := fb.Migrate()
	if err != nil || len(done) != 2 || done[0].Already || done[1].Already {
		t.Fatalf("migrate: %v %v", done, err)
	}
	for name, k := range map[string]ed25519.PrivateKey{"operator": a, "till-1": b} {
		raw, _ := os.ReadFile(filepath.Join(dir, name+".json"))
		if containsSecret(raw, k) {
			t.Fatalf("%s still plaintext after migrate", name)
		}
		got, err := keyring.NewFile(dir, pass("pw")).Load(name)
		if err != nil || !got.Equal(k) {
			t.Fatalf("%s after migrate: %v", name, err)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Fatalf("migrate left files behind: %v", ents)
	}
	// Running it again changes nothing, and a different passphrase is refused.
	if done, err := fb.Migrate(); err != nil || !done[0].Already {
		t.Fatalf("second migrate: %v %v", done, err)
	}
	if _, err := keyring.NewFile(dir, pass("other")).Migrate(); !errors.Is(err, keyring.ErrWrongPassphrase) {
		t.Fatalf("migrate under another passphrase: %v", err)
	}
}

func TestKeyDeleteAndBackends(t *testing.T) {
	dir := t.TempDir()
	tb := keyring.NewTest(dir)
	if err := tb.Save("x", newKey(t)); err != nil {
		t.Fatal(err)
	}
	if !tb.Has("x") {
		t.Fatal("has")
	}
	if err := tb.Delete("x"); err != nil || tb.Has("x") {
		t.Fatalf("delete: %v", err)
	}
	if err := tb.Delete("x"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := keyring.Open("os", dir, nil); err == nil || !strings.Contains(err.Error(), "not available") {
		t.Fatalf("os backend: %v", err)
	}
	if _, err := keyring.Open("vault", dir, nil); err == nil {
		t.Fatal("unknown backend opened")
	}
	if _, err := keyring.NewFile(dir, nil).Load("missing"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}
