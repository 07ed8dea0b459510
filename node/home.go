package node

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/node/keyring"
	cfg "github.com/cometbft/cometbft/config"
	"github.com/spf13/viper"
)

// Home layout, under the directory given by --home:
//
//	config/config.toml        CometBFT configuration
//	config/app.toml           Byte Points node configuration (AppConfig)
//	config/genesis.json       the chain's genesis
//	config/node_key.json      p2p key (CometBFT node id, libp2p peer id)
//	config/priv_validator_key.json
//	data/                     CometBFT stores and priv validator state
//	data/app/                 Badger: the ledger state and its Merkle trie
//	data/snapshots/           state-sync snapshots served to joining nodes
//	config/gateway_tokens.json the gateway's per-terminal tokens, hashed (0600)
//	keyring/<name>.json       Ed25519 signing keys (mode 0600), encrypted
//	                          or not by app.toml's keyring_backend (docs/keys.md)
const (
	AppConfigFile = "config/app.toml"
	KeyringDir    = "keyring"
	AppDataDir    = "data/app"
	SnapshotDir   = "data/snapshots"
	OperatorKey   = "operator"
)

// AppConfig is config/app.toml.
type AppConfig struct {
	// SellerID is the member this node belongs to.
	SellerID string `toml:"seller_id"`
	// CheckInvariants runs the SPEC §5.5 invariants after every block and
	// halts the node on a breach.
	CheckInvariants bool `toml:"check_invariants"`
	// Gateway is the seller's REST gateway (SPEC §9).
	Gateway GatewayConfig `toml:"gateway"`
	// Snapshots configures state-sync snapshot serving.
	Snapshots SnapshotConfig `toml:"snapshots"`
	// MemberOnlyPeers disconnects peers that are not active members' nodes.
	MemberOnlyPeers bool `toml:"member_only_peers"`
	// KeyringBackend stores the operator and terminal keys: "file"
	// (encrypted, the default of `init` on a real chain), "test"
	// (plaintext; local chains only unless forced) or "os". Homes written
	// before it existed have none, which means test.
	KeyringBackend string `toml:"keyring_backend"`
	// Backoffice feeds the seller's PostgreSQL books (docs/backoffice.md).
	Backoffice BackofficeConfig `toml:"backoffice"`
}

// BackofficeConfig: an empty PostgresURL (the default) writes nothing.
type BackofficeConfig struct {
	PostgresURL string `toml:"postgres_url"` // e.g. postgres://books@127.0.0.1:5432/books
}

// GatewayConfig configures the REST gateway (docs/gateway.md). Zero
// values take the defaults of package node/gateway.
type GatewayConfig struct {
	Enabled bool   `toml:"enabled"`
	Listen  string `toml:"listen"` // loopback unless configured otherwise
	// TokensFile holds the per-terminal API tokens, as hashes (managed with
	// `bytepointsd gateway token`); relative to the home.
	TokensFile string `toml:"tokens_file"`
	TLSCert    string `toml:"tls_cert"`
	TLSKey     string `toml:"tls_key"`
	// RatePerSecond and RateBurst bound each token's requests.
	RatePerSecond float64 `toml:"rate_per_second"`
	RateBurst     int     `toml:"rate_burst"`
	// MaxBodyBytes bounds a request body (413 above it).
	MaxBodyBytes int64 `toml:"max_body_bytes"`
	// CommitTimeoutSeconds: how long a booking waits for its commit
	// before answering 504 with the tx hash to poll.
	CommitTimeoutSeconds int `toml:"commit_timeout_seconds"`
	// IntentTTLSeconds bounds how long a redemption intent waits for the
	// customer's wallet (docs/wallet.md).
	IntentTTLSeconds int `toml:"intent_ttl_seconds"`
}

// DefaultTokensFile is where a home keeps its gateway tokens.
const DefaultTokensFile = "config/gateway_tokens.json"

// TokensPath is the token file of the gateway of home.
func (c GatewayConfig) TokensPath(home string) string {
	p := c.TokensFile
	if p == "" {
		p = DefaultTokensFile
	}
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(home, p)
}

// SnapshotConfig configures state-sync snapshots.
type SnapshotConfig struct {
	Interval int64 `toml:"interval"` // take one every N blocks; 0 = off
	Keep     int   `toml:"keep"`
}

// DefaultAppConfig is the configuration a new home gets.
func DefaultAppConfig(seller string) AppConfig {
	return AppConfig{
		SellerID:        seller,
		Gateway:         GatewayConfig{Enabled: true, Listen: "127.0.0.1:8080", TokensFile: DefaultTokensFile},
		Snapshots:       SnapshotConfig{Interval: 50, Keep: 3},
		MemberOnlyPeers: true,
		KeyringBackend:  keyring.BackendTest,
	}
}

// LoadAppConfig reads config/app.toml.
func LoadAppConfig(home string) (AppConfig, error) {
	var c AppConfig
	path := filepath.Join(home, AppConfigFile)
	if _, err := toml.DecodeFile(path, &c); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return c, fmt.Errorf("%s not found: is %q a Byte Points home? (create one with `bytepointsd init` or `bytepointsd testnet`)", path, home)
		}
		return c, fmt.Errorf("read %s: %w", path, err)
	}
	return c, nil
}

// WriteAppConfig writes config/app.toml.
func WriteAppConfig(home string, c AppConfig) error {
	path := filepath.Join(home, AppConfigFile)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintln(f, "# Byte Points node configuration. See `bytepointsd start --help`.")
	return toml.NewEncoder(f).Encode(c)
}

// DefaultCometConfig is CometBFT's default configuration with the limits
// the app imposes: the mempool admits no transaction larger than the app
// accepts (app.MaxTxBytes, 16 KiB; CometBFT's own default is 4 MiB, which
// the app would refuse anyway, after the mempool had buffered it).
func DefaultCometConfig() *cfg.Config {
	c := cfg.DefaultConfig()
	c.Mempool.MaxTxBytes = app.MaxTxBytes
	return c
}

// LoadCometConfig reads config/config.toml the way CometBFT's own command
// does, rooted at home.
func LoadCometConfig(home string) (*cfg.Config, error) {
	path := filepath.Join(home, "config", "config.toml")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%s not found: is %q a Byte Points home?", path, home)
	}
	v := viper.New()
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	c := DefaultCometConfig()
	if err := v.Unmarshal(c); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	c.SetRoot(home)
	if err := c.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("error in %s: %w", path, err)
	}
	return c, nil
}

// ---- keys ----

// KeyringPassphraseEnv is the environment variable a passphrase for the
// file keyring may come from (when no --keyring-passphrase-file is given).
// Its value is never logged.
const KeyringPassphraseEnv = "BYTEPOINTS_KEYRING_PASSPHRASE"

// KeyringOptions choose and unlock a home's keyring.
type KeyringOptions struct {
	// Backend overrides app.toml's keyring_backend ("" keeps it; a home
	// whose app.toml names none uses test, what every home was before).
	Backend string
	// PassphraseFile holds the file keyring's passphrase (its first line).
	PassphraseFile string
	// Prompt asks for the passphrase interactively; set only when a
	// terminal is attached. It is tried after the file and the environment.
	Prompt func() (string, error)
}

// Passphrase is the file keyring's passphrase source: the passphrase file,
// else BYTEPOINTS_KEYRING_PASSPHRASE, else the prompt.
func (o KeyringOptions) Passphrase() (string, error) {
	if o.PassphraseFile != "" {
		bz, err := os.ReadFile(o.PassphraseFile)
		if err != nil {
			return "", fmt.Errorf("keyring passphrase file: %w", err)
		}
		line, _, _ := strings.Cut(string(bz), "\n")
		p := strings.TrimSuffix(line, "\r")
		if p == "" {
			return "", fmt.Errorf("keyring passphrase file %s is empty", o.PassphraseFile)
		}
		return p, nil
	}
	if p, ok := os.LookupEnv(KeyringPassphraseEnv); ok {
		if p == "" {
			return "", fmt.Errorf("%s is set but empty", KeyringPassphraseEnv)
		}
		return p, nil
	}
	if o.Prompt != nil {
		return o.Prompt()
	}
	return "", fmt.Errorf("the keyring is encrypted (file backend): give its passphrase with --keyring-passphrase-file or %s", KeyringPassphraseEnv)
}

// source names where the passphrase came from, for error messages (never
// the passphrase itself).
func (o KeyringOptions) source() string {
	switch {
	case o.PassphraseFile != "":
		return "from --keyring-passphrase-file " + o.PassphraseFile
	case os.Getenv(KeyringPassphraseEnv) != "":
		return "from " + KeyringPassphraseEnv
	default:
		return "as typed"
	}
}

// KeyringBackend is the backend o selects for home.
func (o KeyringOptions) KeyringBackend(home string) string {
	if o.Backend != "" {
		return o.Backend
	}
	if c, err := LoadAppConfig(home); err == nil && c.KeyringBackend != "" {
		return c.KeyringBackend
	}
	return keyring.BackendTest
}

// OpenKeyring opens home's keyring.
func OpenKeyring(home string, o KeyringOptions) (keyring.Backend, error) {
	return keyring.Open(o.KeyringBackend(home), filepath.Join(home, KeyringDir), o.Passphrase)
}

// UnlockKeys loads every key of kr (decrypting each with the passphrase):
// what a node does at start so a wrong passphrase stops it at once.
func UnlockKeys(kr keyring.Backend, o KeyringOptions) (map[string]ed25519.PrivateKey, error) {
	infos, err := kr.List()
	if err != nil {
		return nil, err
	}
	keys := make(map[string]ed25519.PrivateKey, len(infos))
	for _, in := range infos {
		k, err := kr.Load(in.Name)
		if err != nil {
			if errors.Is(err, keyring.ErrWrongPassphrase) {
				return nil, fmt.Errorf("cannot unlock the keyring: %w (passphrase %s)", err, o.source())
			}
			return nil, fmt.Errorf("cannot unlock the keyring: %w", err)
		}
		keys[in.Name] = k
	}
	return keys, nil
}

// LocalChainID reports whether id names a local network: its last
// '-'-separated part (or the whole id) is local, localnet, dev, demo or
// test, as the chain ids of `testnet` (bytepoints-local), `init`
// (bytepoints-dev) and `demo` (bytepoints-demo) are. Only on such chains
// may a node run with the plaintext test keyring without being forced.
func LocalChainID(id string) bool {
	last := id
	if i := strings.LastIndexByte(id, '-'); i >= 0 {
		last = id[i+1:]
	}
	switch last {
	case "local", "localnet", "dev", "demo", "test":
		return true
	}
	return false
}

// KeyFile is a keyring entry's public part.
type KeyFile struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	PubKey string `json:"pub_key"` // hex
}

// ValidKeyName limits key names to safe file names.
func ValidKeyName(name string) error { return keyring.ValidName(name) }

// The functions below use home's configured keyring with the passphrase
// from BYTEPOINTS_KEYRING_PASSPHRASE (test homes need none).

// AddKey creates a new Ed25519 key called name; it refuses to overwrite.
func AddKey(home, name string) (ed25519.PublicKey, error) {
	if err := ValidKeyName(name); err != nil {
		return nil, err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return pub, SaveKey(home, name, priv)
}

// SaveKey stores priv under name (mode 0600, directory 0700).
func SaveKey(home, name string, priv ed25519.PrivateKey) error {
	kr, err := OpenKeyring(home, KeyringOptions{})
	if err != nil {
		return err
	}
	return kr.Save(name, priv)
}

// LoadKey reads the key called name.
func LoadKey(home, name string) (ed25519.PrivateKey, error) {
	return LoadKeyWith(home, name, KeyringOptions{})
}

// LoadKeyWith reads the key called name with o's backend and passphrase.
func LoadKeyWith(home, name string, o KeyringOptions) (ed25519.PrivateKey, error) {
	kr, err := OpenKeyring(home, o)
	if err != nil {
		return nil, err
	}
	k, err := kr.Load(name)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, fmt.Errorf("no key %q in %s (list keys with `bytepointsd keys list --home %s`)", name, filepath.Join(home, KeyringDir), home)
	}
	return k, err
}

// HasKey reports whether a key called name exists.
func HasKey(home, name string) bool {
	kr, err := OpenKeyring(home, KeyringOptions{})
	return err == nil && kr.Has(name)
}

// ListKeys returns the keyring's entries (public parts) by name.
func ListKeys(home string) ([]KeyFile, error) {
	kr, err := OpenKeyring(home, KeyringOptions{})
	if err != nil {
		return nil, err
	}
	infos, err := kr.List()
	if err != nil {
		return nil, err
	}
	out := make([]KeyFile, 0, len(infos))
	for _, in := range infos {
		out = append(out, KeyFile{Name: in.Name, Type: in.Type, PubKey: in.PubKeyHex()})
	}
	return out, nil
}
