package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bytepoints/bytepoints/node"
)

// cliIn runs the binary with stdin and returns stdout, stderr and the exit
// status.
func cliIn(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	for _, e := range os.Environ() { // never inherit a passphrase
		if !strings.HasPrefix(e, node.KeyringPassphraseEnv+"=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// holdsSecret reports whether raw holds k's seed or private key, raw or in hex.
func holdsSecret(raw []byte, k ed25519.PrivateKey) bool {
	for _, s := range [][]byte{k.Seed(), k} {
		if bytes.Contains(raw, s) || bytes.Contains(bytes.ToLower(raw), []byte(hex.EncodeToString(s))) {
			return true
		}
	}
	return false
}

type keyOut struct {
	PubKey   string `json:"pub_key"`
	Mnemonic string `json:"mnemonic"`
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func oneLine(t *testing.T, what, stderr string) {
	t.Helper()
	if strings.Count(strings.TrimRight(stderr, "\n"), "\n") != 0 || !strings.Contains(stderr, "wrong keyring passphrase") {
		t.Fatalf("%s: want one line naming the wrong passphrase, got:\n%s", what, stderr)
	}
}

// TestKeysFileBackendCLI: `init` on a real chain encrypts the keys; a key
// added with the file backend is not in its file in the clear; its
// mnemonic recovers the same public key; export/import round-trips; a
// wrong passphrase fails with one line, in `keys` and in `start`.
func TestKeysFileBackendCLI(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	pass := writeFile(t, dir, "pass", "a long keyring passphrase\n")
	wrong := writeFile(t, dir, "wrong", "not the passphrase\n")
	exp := writeFile(t, dir, "export", "export passphrase\n")
	h := []string{"--home", home, "--keyring-passphrase-file", pass}

	if out, errs, code := cliIn(t, "", "init", "--home", home, "--chain-id", "coalition-1", "--seller", "shop-a"); code == 0 {
		t.Fatalf("init on a real chain without a passphrase succeeded: %s", out)
	} else if !strings.Contains(errs, "--keyring-passphrase-file") {
		t.Fatalf("init without a passphrase: %s", errs)
	}
	if out, errs, code := cliIn(t, "", append([]string{"init", "--chain-id", "coalition-1", "--seller", "shop-a"}, h...)...); code != 0 {
		t.Fatalf("init: %s %s", out, errs)
	}
	acfg, err := node.LoadAppConfig(home)
	if err != nil || acfg.KeyringBackend != "file" {
		t.Fatalf("init on a real chain: keyring_backend %q %v", acfg.KeyringBackend, err)
	}
	op, err := node.LoadKeyWith(home, node.OperatorKey, node.KeyringOptions{PassphraseFile: pass})
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(filepath.Join(home, "keyring/operator.json")); holdsSecret(raw, op) {
		t.Fatal("init left the operator key in plaintext")
	}

	out, errs, code := cliIn(t, "", append([]string{"keys", "add", "till-1", "-o", "json"}, h...)...)
	if code != 0 {
		t.Fatalf("keys add: %s", errs)
	}
	var added keyOut
	if err := jsonUnmarshal(out, &added); err != nil || len(strings.Fields(added.Mnemonic)) != 24 {
		t.Fatalf("keys add output: %v %s", err, out)
	}
	till, err := node.LoadKeyWith(home, "till-1", node.KeyringOptions{PassphraseFile: pass})
	if err != nil || hex.EncodeToString(till.Public().(ed25519.PublicKey)) != added.PubKey {
		t.Fatalf("till-1: %v", err)
	}
	raw, _ := os.ReadFile(filepath.Join(home, "keyring/till-1.json"))
	if holdsSecret(raw, till) || bytes.Contains(raw, []byte("priv_key")) {
		t.Fatalf("the file backend wrote the key in the clear:\n%s", raw)
	}
	if _, err := node.LoadKeyWith(home, "till-1", node.KeyringOptions{PassphraseFile: wrong}); err == nil {
		t.Fatal("a wrong passphrase opened the key")
	}

	// Recovery from the mnemonic gives the same public key.
	out, errs, code = cliIn(t, added.Mnemonic+"\n", append([]string{"keys", "add", "till-1b", "--recover", "-o", "json"}, h...)...)
	var rec keyOut
	if code != 0 || jsonUnmarshal(out, &rec) != nil || rec.PubKey != added.PubKey || rec.Mnemonic != "" {
		t.Fatalf("recover: %s %s", out, errs)
	}

	// Export, import under another name: the same key.
	armor, errs, code := cliIn(t, "", append([]string{"keys", "export", "till-1", "--passphrase-file", exp}, h...)...)
	if code != 0 || !strings.Contains(armor, "BEGIN BYTEPOINTS PRIVATE KEY") || holdsSecret([]byte(armor), till) {
		t.Fatalf("export: %s %s", armor, errs)
	}
	af := writeFile(t, dir, "till.armor", armor)
	if _, errs, code := cliIn(t, "", append([]string{"keys", "import", af, "--name", "till-1c", "--passphrase-file", wrong}, h...)...); code == 0 || !strings.Contains(errs, "wrong keyring passphrase for the armored key") {
		t.Fatalf("import with a wrong export passphrase: %s", errs)
	}
	out, errs, code = cliIn(t, "", append([]string{"keys", "import", af, "--name", "till-1c", "--passphrase-file", exp, "-o", "json"}, h...)...)
	var imp keyOut
	if code != 0 || jsonUnmarshal(out, &imp) != nil || imp.PubKey != added.PubKey {
		t.Fatalf("import: %s %s", out, errs)
	}

	// list and show need no passphrase.
	if out, errs, code := cliIn(t, "", "keys", "list", "--home", home); code != 0 || !strings.Contains(out, added.PubKey) {
		t.Fatalf("list: %s %s", out, errs)
	}

	// A wrong passphrase: one clear line, from keys and from start.
	_, errs, code = cliIn(t, "", "keys", "export", "till-1", "--passphrase-file", exp, "--home", home, "--keyring-passphrase-file", wrong)
	if code == 0 {
		t.Fatal("export with a wrong keyring passphrase succeeded")
	}
	oneLine(t, "keys export", errs)
	_, errs, code = cliIn(t, "", "start", "--home", home, "--keyring-passphrase-file", wrong)
	if code == 0 {
		t.Fatal("start with a wrong passphrase succeeded")
	}
	oneLine(t, "start", errs)
	if strings.Contains(errs, "not the passphrase") {
		t.Fatal("the passphrase was printed")
	}
}

// TestKeysMigrateAndDeleteCLI: migrate encrypts a testnet home's plaintext
// keys in place (no plaintext left, same keys); delete refuses the active
// member's operator key without --force.
func TestKeysMigrateAndDeleteCLI(t *testing.T) {
	home, _, _ := startSeller(t, t.TempDir(), 60)
	pass := writeFile(t, t.TempDir(), "pass", "migrate me\n")
	opBefore, err := node.LoadKey(home, node.OperatorKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, errs, code := cliIn(t, "", "keys", "add", "spare", "--home", home); code != 0 {
		t.Fatal(errs)
	}
	spare, _ := node.LoadKey(home, "spare")

	// delete: the operator key of an active member is refused.
	_, errs, code := cliIn(t, "", "keys", "delete", node.OperatorKey, "--home", home)
	if code == 0 || !strings.Contains(errs, "active member") {
		t.Fatalf("delete operator: exit %d %s", code, errs)
	}
	if !node.HasKey(home, node.OperatorKey) {
		t.Fatal("the refused delete removed the key")
	}

	out, errs, code := cliIn(t, "", "keys", "migrate", "--home", home, "--keyring-passphrase-file", pass)
	if code != 0 || !strings.Contains(out, "operator: encrypted") || !strings.Contains(out, "spare: encrypted") {
		t.Fatalf("migrate: %s %s", out, errs)
	}
	for name, k := range map[string]ed25519.PrivateKey{node.OperatorKey: opBefore, "spare": spare} {
		raw, _ := os.ReadFile(filepath.Join(home, "keyring", name+".json"))
		if holdsSecret(raw, k) || bytes.Contains(raw, []byte("priv_key")) {
			t.Fatalf("%s is still plaintext after migrate", name)
		}
		got, err := node.LoadKeyWith(home, name, node.KeyringOptions{PassphraseFile: pass})
		if err != nil || !got.Equal(k) {
			t.Fatalf("%s after migrate: %v", name, err)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(home, "keyring"))
	if len(ents) != 2 {
		t.Fatalf("migrate left files: %v", ents)
	}
	if c, _ := node.LoadAppConfig(home); c.KeyringBackend != "file" {
		t.Fatalf("keyring_backend %q after migrate", c.KeyringBackend)
	}
	// Without the passphrase, signing fails clearly; with it, it works.
	if _, errs, code := cliIn(t, "", "tx", "purchase", "--home", home, "--customer", "C", "--amount", "1.00"); code == 0 || !strings.Contains(errs, node.KeyringPassphraseEnv) {
		t.Fatalf("purchase without a passphrase: %s", errs)
	}
	if out, errs, code := cliIn(t, "", "tx", "purchase", "--home", home, "--customer", "C", "--amount", "1.00", "--keyring-passphrase-file", pass); code != 0 {
		t.Fatalf("purchase with the passphrase: %s %s", out, errs)
	}

	if _, errs, code := cliIn(t, "", "keys", "delete", "spare", "--home", home); code != 0 || node.HasKey(home, "spare") {
		t.Fatalf("delete spare: %s", errs)
	}
	if _, errs, code := cliIn(t, "", "keys", "delete", node.OperatorKey, "--force", "--home", home); code != 0 || node.HasKey(home, node.OperatorKey) {
		t.Fatalf("delete --force: %s", errs)
	}
}
