package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/bytepoints/bytepoints/abci"
	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/node/backoffice"
	"github.com/bytepoints/bytepoints/node/keyring"
	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/libs/log"
	cmtnode "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	rpclocal "github.com/cometbft/cometbft/rpc/client/local"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/prometheus/client_golang/prometheus"
)

// Options tune a node beyond its home's configuration.
type Options struct {
	// CheckInvariants forces the per-block invariant check on.
	CheckInvariants bool
	// LogLevel is "debug", "info", "error" or "none" (default "info").
	LogLevel string
	// LogOut receives the logs (default stderr).
	LogOut io.Writer
	// NoMetrics turns Prometheus off: CometBFT registers its metrics
	// globally, so only one node per process may have them (the demo and
	// the in-process tests run several).
	NoMetrics bool
	// NoGateway leaves the REST gateway off whatever app.toml says.
	NoGateway bool
	// Keyring chooses and unlocks the keyring (backend, passphrase).
	Keyring KeyringOptions
	// ForceTestKeyring lets the plaintext test keyring run on a chain
	// that is not local (LocalChainID).
	ForceTestKeyring bool
}

// Node is one seller's running node.
type Node struct {
	Home    string
	Config  *cfg.Config
	AppCfg  AppConfig
	Genesis *cmttypes.GenesisDoc
	DB      *app.DB
	App     *app.App
	ABCI    *abci.Application
	Comet   *cmtnode.Node
	Logger  log.Logger

	keyring keyring.Backend
	keys    map[string]ed25519.PrivateKey // unlocked at start
	gateway *Gateway
	// Backoffice writes the chain's history to PostgreSQL ([backoffice]
	// postgres_url in app.toml); nil when not configured.
	Backoffice *backoffice.Follower
	peers      *PeerPolicy
	snapshots  *SnapshotStore // nil: snapshots off
	halted     chan error
	// An upgrade this binary lacks (node/upgrade.go): upgradeOnce writes
	// upgrade-info.json once; held is closed when consensus is held in the
	// upgrade block's FinalizeBlock.
	upgradeOnce, heldOnce sync.Once
	held                  chan struct{}

	metrics         bool                 // Prometheus collectors registered
	decisionSeconds prometheus.Histogram // CRMS decisions answered here
}

// NewLogger builds a CometBFT logger at a level.
func NewLogger(out io.Writer, level string) (log.Logger, error) {
	if out == nil {
		out = os.Stderr
	}
	switch level {
	case "none":
		return log.NewNopLogger(), nil
	case "":
		level = "info"
	}
	opt, err := log.AllowLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	return log.NewFilter(log.NewTMLogger(log.NewSyncWriter(out)), opt), nil
}

// New opens the node at home: its state, the app and the CometBFT node
// (not yet started). The ABCI handshake runs here, replaying any blocks the
// app missed (after a crash) before anything else happens.
func New(home string, o Options) (*Node, error) {
	conf, err := LoadCometConfig(home)
	if err != nil {
		return nil, err
	}
	acfg, err := LoadAppConfig(home)
	if err != nil {
		return nil, err
	}
	if o.NoMetrics {
		conf.Instrumentation.Prometheus = false
	}
	if o.NoGateway {
		acfg.Gateway.Enabled = false
	}
	logger, err := NewLogger(o.LogOut, o.LogLevel)
	if err != nil {
		return nil, err
	}
	gen, err := cmttypes.GenesisDocFromFile(conf.GenesisFile())
	if err != nil {
		return nil, fmt.Errorf("genesis %s: %w", conf.GenesisFile(), err)
	}
	crashHook, err := crashHookFromEnv()
	if err != nil {
		return nil, err
	}
	kr, keys, err := unlockKeyring(home, gen.ChainID, o)
	if err != nil {
		return nil, err
	}
	db, err := app.OpenDB(app.DBOptions{Dir: filepath.Join(home, AppDataDir), CommitHook: crashHook, Logger: badgerLogger{logger.With("module", "badger")}})
	if err != nil {
		return nil, err
	}
	n := &Node{Home: home, Config: conf, AppCfg: acfg, Genesis: gen, DB: db, Logger: logger, decisionSeconds: newDecisionHistogram(),
		keyring: kr, keys: keys}
	n.App = app.New(db, app.Config{ChainID: gen.ChainID, CheckInvariants: acfg.CheckInvariants || o.CheckInvariants})
	n.ABCI = abci.New(n.App)
	n.halted, n.held = make(chan error, 1), make(chan struct{})
	n.ABCI.OnUpgradeNeeded = n.upgradeNeeded
	if err := n.checkBinary(); err != nil {
		db.Close()
		return nil, err
	}
	n.ABCI.OnHalt = func(err error) {
		logger.Error("HALTING: the application cannot continue", "reason", err.Error())
		select {
		case n.halted <- err:
		default:
		}
	}
	n.ABCI.Logger = logger.With("module", "snapshots")
	if acfg.Snapshots.Interval > 0 {
		n.snapshots, err = OpenSnapshotStore(filepath.Join(home, SnapshotDir), acfg.Snapshots.Interval, acfg.Snapshots.Keep, n.App, logger.With("module", "snapshots"))
		if err != nil {
			db.Close()
			return nil, err
		}
		n.ABCI.Snapshots = n.snapshots
	}
	nodeKey, err := p2p.LoadNodeKey(conf.NodeKeyFile())
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("node key: %w", err)
	}
	// With priv_validator_laddr set, CometBFT listens there for a remote
	// signer (tmkms, Horcrux, privval's SignerServer) and asks it for every
	// signature; the home then needs no validator key of its own.
	var pv cmttypes.PrivValidator
	if conf.PrivValidatorListenAddr == "" {
		pv = privval.LoadFilePV(conf.PrivValidatorKeyFile(), conf.PrivValidatorStateFile())
	} else {
		logger.Info("validator key: waiting for a remote signer", "priv_validator_laddr", conf.PrivValidatorListenAddr)
	}
	// A mutex per ABCI connection: queries and CheckTx read committed state
	// (Badger snapshots) and need not wait for a block being executed.
	creator := proxy.NewConnSyncLocalClientCreator(n.ABCI)
	n.Comet, err = cmtnode.NewNodeWithContext(context.Background(), conf, pv, nodeKey, creator,
		func() (*cmttypes.GenesisDoc, error) { return gen, nil },
		cfg.DefaultDBProvider, cmtnode.DefaultMetricsProvider(conf.Instrumentation), logger)
	if err != nil {
		db.Close()
		return nil, err
	}
	if acfg.Backoffice.PostgresURL != "" {
		n.Backoffice = &backoffice.Follower{URL: acfg.Backoffice.PostgresURL, Logger: logger.With("module", "backoffice")}
	}
	if conf.Instrumentation.Prometheus {
		n.registerMetrics()
	}
	if acfg.MemberOnlyPeers {
		n.peers = NewPeerPolicy(n)
	}
	if acfg.Gateway.Enabled {
		if n.gateway, err = NewGateway(n); err != nil {
			db.Close()
			return nil, err
		}
	}
	return n, nil
}

// unlockKeyring opens home's keyring and decrypts every key in it, so a
// wrong passphrase stops the node before anything starts. The plaintext
// test keyring is refused on a chain that is not local unless forced.
func unlockKeyring(home, chainID string, o Options) (keyring.Backend, map[string]ed25519.PrivateKey, error) {
	kr, err := OpenKeyring(home, o.Keyring)
	if err != nil {
		return nil, nil, err
	}
	if kr.Name() == keyring.BackendTest && !LocalChainID(chainID) && !o.ForceTestKeyring {
		return nil, nil, fmt.Errorf("chain %q is not a local chain, and this home's keys are in plaintext (keyring backend test): encrypt them with `bytepointsd keys migrate --home %s`, or start with --force-test-keyring", chainID, home)
	}
	keys, err := UnlockKeys(kr, o.Keyring)
	if err != nil {
		return nil, nil, err
	}
	return kr, keys, nil
}

// LoadKey returns a key of the node's keyring: one unlocked at start, or
// (a key added since) read from the keyring with the start's passphrase.
func (n *Node) LoadKey(name string) (ed25519.PrivateKey, error) {
	if k, ok := n.keys[name]; ok {
		return k, nil
	}
	k, err := n.keyring.Load(name)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, fmt.Errorf("no key %q in %s", name, filepath.Join(n.Home, KeyringDir))
	}
	return k, err
}

// Halted delivers the reason when the application refuses to continue (a
// broken invariant, a storage failure). The node must then be stopped.
func (n *Node) Halted() <-chan error { return n.halted }

// Start starts consensus, p2p, RPC and the gateway.
func (n *Node) Start() error {
	if err := n.Comet.Start(); err != nil {
		return err
	}
	if n.peers != nil {
		n.peers.Start()
	}
	if n.Backoffice != nil {
		n.Backoffice.Chain = rpclocal.New(n.Comet)
		n.Backoffice.Start()
	}
	if n.gateway != nil {
		if err := n.gateway.Start(); err != nil {
			n.Stop()
			return err
		}
	}
	return nil
}

// Stop stops everything and closes the state; safe to call twice.
func (n *Node) Stop() {
	if n.Backoffice != nil {
		n.Backoffice.Stop()
	}
	if n.gateway != nil {
		n.gateway.Stop()
	}
	if n.peers != nil {
		n.peers.Stop()
	}
	if n.Comet.IsRunning() {
		stopped := make(chan struct{})
		go func() {
			if err := n.Comet.Stop(); err != nil {
				n.Logger.Error("stopping CometBFT", "err", err)
			}
			n.Comet.Wait()
			close(stopped)
		}()
		select {
		case <-stopped:
		case <-n.held:
			// Consensus waits in the upgrade block's FinalizeBlock and
			// never returns: the state is left as committed, unclosed
			// (as after a crash, which Badger and CometBFT recover from).
			n.Logger.Info("not waiting for consensus: it holds the upgrade block unapplied", "module", "upgrade")
			return
		}
	}
	n.snapshots.Wait()
	if n.DB != nil {
		if err := n.DB.Close(); err != nil {
			n.Logger.Error("closing state", "err", err)
		}
		n.DB = nil
	}
}

// RPCURL is the node's CometBFT RPC as an http URL.
func (n *Node) RPCURL() string { return RPCURL(n.Config.RPC.ListenAddress) }

// RPCURL turns a listen address like tcp://127.0.0.1:26657 into a URL.
func RPCURL(laddr string) string {
	return "http://" + strings.TrimPrefix(strings.TrimPrefix(laddr, "tcp://"), "http://")
}

// GatewayURL is the gateway's base URL ("" when disabled).
func (n *Node) GatewayURL() string {
	if n.gateway == nil {
		return ""
	}
	return n.gateway.URL()
}

// crashHookFromEnv reads BYTEPOINTS_CRASH_AT=<height>:<point> (crash tests
// only) into a store commit hook: the process kills itself with SIGKILL at
// that point of that height's commit, so tests can stop a node mid-commit
// deterministically. Unset, there is no hook.
func crashHookFromEnv() (func(height int64, point string) error, error) {
	spec := os.Getenv("BYTEPOINTS_CRASH_AT")
	if spec == "" {
		return nil, nil
	}
	hs, point, ok := strings.Cut(spec, ":")
	h, err := strconv.ParseInt(hs, 10, 64)
	if !ok || err != nil {
		return nil, fmt.Errorf("BYTEPOINTS_CRASH_AT=%q: want <height>:<point>", spec)
	}
	return func(height int64, p string) error {
		if height == h && p == point {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // never returns
		}
		return nil
	}, nil
}

// badgerLogger routes Badger's logs into the node's, dropping its chatter.
type badgerLogger struct{ l log.Logger }

func (b badgerLogger) Errorf(f string, a ...any)   { b.l.Error(strings.TrimSpace(fmt.Sprintf(f, a...))) }
func (b badgerLogger) Warningf(f string, a ...any) { b.l.Info(strings.TrimSpace(fmt.Sprintf(f, a...))) }
func (b badgerLogger) Infof(string, ...any)        {}
func (b badgerLogger) Debugf(string, ...any)       {}
