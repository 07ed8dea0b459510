package keyring

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// record is one key file, <dir>/<name>.json. Exactly one of PrivKey (test
// backend, plaintext) and Crypto (file backend) is set.
type record struct {
	Name    string  `json:"name"`
	Type    string  `json:"type"`
	PubKey  string  `json:"pub_key"`            // hex
	PrivKey string  `json:"priv_key,omitempty"` // hex of the 64-byte private key (test backend)
	Crypto  *sealed `json:"crypto,omitempty"`   // the sealed seed (file backend)
}

// files is the on-disk layout both the file and the test backend use.
type files struct{ dir string }

func (f files) path(name string) string { return filepath.Join(f.dir, name+".json") }

func (f files) read(name string) (*record, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	bz, err := os.ReadFile(f.path(name))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w %q in %s", ErrNotFound, name, f.dir)
		}
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(bz))
	dec.DisallowUnknownFields()
	var r record
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("key file %s: %w", f.path(name), err)
	}
	if r.Name != name || r.Type != "ed25519" || (r.PrivKey == "") == (r.Crypto == nil) {
		return nil, fmt.Errorf("key file %s is not a Byte Points ed25519 key named %q", f.path(name), name)
	}
	pub, err := hex.DecodeString(r.PubKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("key file %s holds no valid Ed25519 public key", f.path(name))
	}
	return &r, nil
}

// write creates <name>.json (0600, directory 0700) and refuses to overwrite.
func (f files) write(r *record) error {
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return err
	}
	bz, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	fh, err := os.OpenFile(f.path(r.Name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("key %q already exists in %s", r.Name, f.dir)
		}
		return err
	}
	if _, err := fh.Write(append(bz, '\n')); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// replace atomically swaps <name>.json for r, first overwriting the old
// file's bytes with zeros so a plaintext key does not linger in the old
// file (the file system may still keep copies elsewhere: journals, SSD
// remapping).
func (f files) replace(r *record) error {
	bz, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp := f.path(r.Name) + ".tmp"
	fh, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := fh.Write(append(bz, '\n')); err != nil {
		fh.Close()
		os.Remove(tmp)
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		os.Remove(tmp)
		return err
	}
	fh.Close()
	if err := wipe(f.path(r.Name)); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, f.path(r.Name))
}

// wipe overwrites a file's contents with zeros in place.
func wipe(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	fh, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := fh.Write(make([]byte, st.Size())); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

func (f files) has(name string) bool {
	if ValidName(name) != nil {
		return false
	}
	_, err := os.Stat(f.path(name))
	return err == nil
}

func (f files) list() ([]Info, error) {
	ents, err := os.ReadDir(f.dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []Info
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || ValidName(name) != nil {
			continue
		}
		r, err := f.read(name)
		if err != nil {
			return nil, err
		}
		pub, _ := hex.DecodeString(r.PubKey)
		out = append(out, Info{Name: name, Type: "ed25519", PubKey: pub})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f files) delete(name string) error {
	if _, err := f.read(name); err != nil {
		return err
	}
	if err := wipe(f.path(name)); err != nil {
		return err
	}
	return os.Remove(f.path(name))
}

// Test is the plaintext backend: <dir>/<name>.json holds the private key
// in hex. It reads the files every home had before backends existed.
type Test struct{ f files }

// NewTest returns the plaintext backend rooted at dir.
func NewTest(dir string) *Test { return &Test{files{dir}} }

func (t *Test) Name() string { return BackendTest }

func (t *Test) Save(name string, priv ed25519.PrivateKey) error {
	if err := ValidName(name); err != nil {
		return err
	}
	return t.f.write(&record{Name: name, Type: "ed25519",
		PubKey: hex.EncodeToString(priv.Public().(ed25519.PublicKey)), PrivKey: hex.EncodeToString(priv)})
}

func (t *Test) Load(name string) (ed25519.PrivateKey, error) {
	r, err := t.f.read(name)
	if err != nil {
		return nil, err
	}
	if r.Crypto != nil {
		return nil, fmt.Errorf("key %q in %s is encrypted (file backend), but this home's keyring backend is test: set keyring_backend = \"file\" in config/app.toml or pass --keyring-backend file", name, t.f.dir)
	}
	return plainKey(t.f.path(name), r)
}

func plainKey(path string, r *record) (ed25519.PrivateKey, error) {
	priv, err := hex.DecodeString(r.PrivKey)
	if err != nil || len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("key file %s holds no valid Ed25519 private key", path)
	}
	k := ed25519.PrivateKey(priv)
	if hex.EncodeToString(k.Public().(ed25519.PublicKey)) != r.PubKey {
		return nil, fmt.Errorf("key file %s: the private key does not match its pub_key", path)
	}
	return k, nil
}

func (t *Test) Has(name string) bool     { return t.f.has(name) }
func (t *Test) List() ([]Info, error)    { return t.f.list() }
func (t *Test) Delete(name string) error { return t.f.delete(name) }
