package node

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/node/strictjson"
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
//	keyring/<name>.json       Ed25519 signing keys (mode 0600)
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

// KeyFile is a keyring entry.
type KeyFile struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	PubKey  string `json:"pub_key"`  // hex
	PrivKey string `json:"priv_key"` // hex of the 64-byte Ed25519 private key
}

func keyPath(home, name string) string { return filepath.Join(home, KeyringDir, name+".json") }

// ValidKeyName limits key names to safe file names.
func ValidKeyName(name string) error {
	if name == "" || len(name) > 64 || strings.ContainsAny(name, "/\\ \t\n.") {
		return fmt.Errorf("key name %q: use 1-64 characters without '/', '.', or spaces", name)
	}
	return nil
}

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

// SaveKey writes priv under name (mode 0600, directory 0700).
func SaveKey(home, name string, priv ed25519.PrivateKey) error {
	if err := ValidKeyName(name); err != nil {
		return err
	}
	dir := filepath.Join(home, KeyringDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	bz, err := json.MarshalIndent(KeyFile{
		Name: name, Type: "ed25519",
		PubKey: hex.EncodeToString(priv.Public().(ed25519.PublicKey)), PrivKey: hex.EncodeToString(priv),
	}, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(keyPath(home, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("key %q already exists in %s", name, dir)
		}
		return err
	}
	if _, err := f.Write(append(bz, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// LoadKey reads the key called name.
func LoadKey(home, name string) (ed25519.PrivateKey, error) {
	if err := ValidKeyName(name); err != nil {
		return nil, err
	}
	bz, err := os.ReadFile(keyPath(home, name))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no key %q in %s (list keys with `bytepointsd keys list --home %s`)", name, filepath.Join(home, KeyringDir), home)
		}
		return nil, err
	}
	var k KeyFile
	if err := strictjson.Unmarshal(bz, &k); err != nil {
		return nil, fmt.Errorf("key file %s: %w", keyPath(home, name), err)
	}
	priv, err := hex.DecodeString(k.PrivKey)
	if err != nil || len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("key file %s holds no valid Ed25519 private key", keyPath(home, name))
	}
	return ed25519.PrivateKey(priv), nil
}

// HasKey reports whether a key called name exists.
func HasKey(home, name string) bool {
	_, err := os.Stat(keyPath(home, name))
	return err == nil
}

// ListKeys returns the keyring's entries (public parts) by name.
func ListKeys(home string) ([]KeyFile, error) {
	ents, err := os.ReadDir(filepath.Join(home, KeyringDir))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []KeyFile
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		priv, err := LoadKey(home, name)
		if err != nil {
			return nil, err
		}
		out = append(out, KeyFile{Name: name, Type: "ed25519", PubKey: hex.EncodeToString(priv.Public().(ed25519.PublicKey))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
