package node

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/types"
	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/lp2p"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"
)

// Transports.
const (
	TransportLibP2P = "libp2p"
	TransportTCP    = "tcp"
)

// NetworkOptions configure GenerateNetwork.
type NetworkOptions struct {
	Validators int      // founding sellers, each a validator
	Joiners    int      // extra homes, not in genesis, ready to be voted in and join by state sync
	Output     string   // directory; one subdirectory per seller
	Sellers    []string // seller ids (default seller-0, seller-1, ...)
	ChainID    string   // default "bytepoints-local"
	Transport  string   // libp2p (default) or tcp
	// DistinctIPs puts node i on 127.0.0.(i+1) with the same ports;
	// otherwise every node is on 127.0.0.1 with ports offset by 10 per node.
	DistinctIPs bool
	BasePort    int // p2p port of node 0; rpc +1, gateway +2, metrics +3
	// Ports, when set, overrides the port plan (tests use free ports).
	Ports         func(i int) Ports
	GenesisTime   time.Time
	Params        *types.Params // nil = defaults
	TimeoutCommit time.Duration // 0 = CometBFT default (1 s)
	Snapshots     int64         // snapshot interval in blocks (0 = off)
	// Invariants turns on check_invariants in every home.
	Invariants bool
}

// Ports of one node.
type Ports struct{ P2P, RPC, Gateway, Metrics int }

// NetworkHome describes one generated home.
type NetworkHome struct {
	SellerID     string `json:"seller_id"`
	Dir          string `json:"home"`
	Founding     bool   `json:"founding"`
	NodeID       string `json:"node_id"`
	PeerID       string `json:"peer_id"`
	IP           string `json:"ip"`
	P2P          string `json:"p2p"`
	RPC          string `json:"rpc"`
	Gateway      string `json:"gateway"`
	Metrics      string `json:"metrics"`
	OperatorPub  string `json:"operator_pubkey"`
	ValidatorPub string `json:"validator_pubkey"`
}

// Manifest is written to DIR/network.json.
type Manifest struct {
	ChainID   string        `json:"chain_id"`
	Transport string        `json:"transport"`
	Homes     []NetworkHome `json:"homes"`
}

func (o *NetworkOptions) defaults() error {
	if o.Validators < 1 {
		return fmt.Errorf("--validators must be at least 1")
	}
	if o.Output == "" {
		return fmt.Errorf("the output directory is required (testnet --dir)")
	}
	if o.ChainID == "" {
		o.ChainID = "bytepoints-local"
	}
	switch o.Transport {
	case "":
		o.Transport = TransportLibP2P
	case TransportLibP2P, TransportTCP:
	default:
		return fmt.Errorf("--p2p must be %q or %q, not %q", TransportLibP2P, TransportTCP, o.Transport)
	}
	total := o.Validators + o.Joiners
	if len(o.Sellers) == 0 {
		for i := 0; i < total; i++ {
			o.Sellers = append(o.Sellers, fmt.Sprintf("seller-%d", i))
		}
	}
	if len(o.Sellers) != total {
		return fmt.Errorf("%d seller names for %d homes", len(o.Sellers), total)
	}
	seen := map[string]bool{}
	for _, s := range o.Sellers {
		if err := types.ValidateSellerID(s); err != nil {
			return err
		}
		if seen[s] {
			return fmt.Errorf("seller id %s given twice", s)
		}
		seen[s] = true
	}
	if total > 200 {
		return fmt.Errorf("at most 200 homes on one machine")
	}
	if o.BasePort == 0 {
		o.BasePort = 26656
	}
	if o.GenesisTime.IsZero() {
		o.GenesisTime = time.Now().UTC().Truncate(time.Second)
	}
	return nil
}

func (o *NetworkOptions) addr(i int) (string, Ports) {
	if o.Ports != nil {
		return "127.0.0.1", o.Ports(i)
	}
	if o.DistinctIPs {
		return fmt.Sprintf("127.0.0.%d", i+1), Ports{o.BasePort, o.BasePort + 1, o.BasePort + 2, o.BasePort + 3}
	}
	b := o.BasePort + 10*i
	return "127.0.0.1", Ports{b, b + 1, b + 2, b + 3}
}

// GenerateNetwork writes the homes and returns them.
//
// It lives in node/, not networks/: it is production code (bytepointsd init
// and testnet run it) writing node's own home layout (home.go), and node's
// own tests, node/client's, node/loadgen's and the gateway's generate their
// homes with it; in networks/ it would make those tests import networks,
// which imports node, and put production code among networks/' test
// suites and scripts.
func GenerateNetwork(o NetworkOptions) (*Manifest, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if ents, err := os.ReadDir(o.Output); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("output directory %s is not empty; remove it or choose another", o.Output)
	}
	params := o.Params
	if params == nil {
		params = app.DefaultParams()
	}
	if err := app.ValidateParams(params); err != nil {
		return nil, err
	}
	m := &Manifest{ChainID: o.ChainID, Transport: o.Transport}
	var confs []*cfg.Config
	gen := app.Genesis{}
	var vals []cmttypes.GenesisValidator
	for i, seller := range o.Sellers {
		dir := filepath.Join(o.Output, seller)
		ip, ports := o.addr(i)
		conf := DefaultCometConfig()
		conf.SetRoot(dir)
		cfg.EnsureRoot(dir)
		conf.Moniker = seller
		conf.P2P.ListenAddress = fmt.Sprintf("tcp://%s:%d", ip, ports.P2P)
		conf.P2P.ExternalAddress = fmt.Sprintf("%s:%d", ip, ports.P2P)
		conf.P2P.AddrBookStrict = false
		conf.P2P.AllowDuplicateIP = true
		conf.RPC.ListenAddress = fmt.Sprintf("tcp://%s:%d", ip, ports.RPC)
		conf.Instrumentation.Prometheus = true
		conf.Instrumentation.PrometheusListenAddr = fmt.Sprintf("%s:%d", ip, ports.Metrics)
		conf.LogLevel = "info"
		// TCP transport: the switch asks the app whether a peer is a member.
		conf.FilterPeers = true
		if o.TimeoutCommit > 0 {
			conf.Consensus.TimeoutCommit = o.TimeoutCommit
		}
		nk, err := p2p.LoadOrGenNodeKey(conf.NodeKeyFile())
		if err != nil {
			return nil, err
		}
		pv := privval.GenFilePV(conf.PrivValidatorKeyFile(), conf.PrivValidatorStateFile())
		pv.Save()
		pid, err := lp2p.IDFromPrivateKey(nk.PrivKey)
		if err != nil {
			return nil, err
		}
		opPub, err := AddKey(dir, OperatorKey)
		if err != nil {
			return nil, err
		}
		acfg := DefaultAppConfig(seller)
		acfg.Gateway.Listen = fmt.Sprintf("%s:%d", ip, ports.Gateway)
		acfg.Snapshots.Interval = o.Snapshots
		acfg.CheckInvariants = o.Invariants
		if err := WriteAppConfig(dir, acfg); err != nil {
			return nil, err
		}
		valPub := pv.Key.PubKey.Bytes()
		h := NetworkHome{
			SellerID: seller, Dir: dir, Founding: i < o.Validators, NodeID: string(nk.ID()), PeerID: pid.String(), IP: ip,
			P2P: fmt.Sprintf("%s:%d", ip, ports.P2P), RPC: fmt.Sprintf("http://%s:%d", ip, ports.RPC),
			Gateway: fmt.Sprintf("http://%s:%d", ip, ports.Gateway), Metrics: fmt.Sprintf("http://%s:%d/metrics", ip, ports.Metrics),
			OperatorPub: hex.EncodeToString(opPub), ValidatorPub: hex.EncodeToString(valPub),
		}
		m.Homes = append(m.Homes, h)
		confs = append(confs, conf)
		if h.Founding {
			gen.Sellers = append(gen.Sellers, app.GenesisSeller{
				SellerID: seller, OperatorPubKey: h.OperatorPub, ValidatorPubKey: h.ValidatorPub,
				NodeID: h.NodeID, PeerID: h.PeerID, P2PAddress: h.P2P,
			})
			vals = append(vals, cmttypes.GenesisValidator{Address: pv.Key.PubKey.Address(), PubKey: pv.Key.PubKey, Power: app.ValidatorPower, Name: seller})
		}
	}
	pj, err := app.MarshalParamsJSON(params)
	if err != nil {
		return nil, err
	}
	gen.Params = pj
	appState, err := json.MarshalIndent(gen, "", "  ")
	if err != nil {
		return nil, err
	}
	doc := &cmttypes.GenesisDoc{
		ChainID: o.ChainID, GenesisTime: o.GenesisTime, InitialHeight: 1,
		ConsensusParams: cmttypes.DefaultConsensusParams(), Validators: vals, AppState: appState,
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, err
	}
	for i, conf := range confs {
		if err := doc.SaveAs(conf.GenesisFile()); err != nil {
			return nil, err
		}
		setPeers(conf, o.Transport, m.Homes, i)
		if !m.Homes[i].Founding {
			// A joiner syncs from a snapshot once voted in; the operator
			// fills in the trust height/hash (see README) or the tests do.
			conf.StateSync.Enable = false
		}
		cfg.WriteConfigFile(filepath.Join(conf.RootDir, "config", "config.toml"), conf)
	}
	bz, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(o.Output, "network.json"), append(bz, '\n'), 0o644); err != nil {
		return nil, err
	}
	return m, nil
}

// setPeers points node i at the other founding nodes. Candidates (not yet
// members) dial the members themselves once voted in; members never dial
// them, so a candidate that is refused is not re-dialled forever.
func setPeers(conf *cfg.Config, transport string, homes []NetworkHome, i int) {
	if transport == TransportLibP2P {
		conf.P2P.LibP2PConfig.Enabled = true
		conf.P2P.PexReactor = false
		conf.P2P.LibP2PConfig.BootstrapPeers = nil
		for j, h := range homes {
			if j != i && h.Founding {
				conf.P2P.LibP2PConfig.BootstrapPeers = append(conf.P2P.LibP2PConfig.BootstrapPeers,
					cfg.LibP2PBootstrapPeer{Host: h.P2P, ID: h.PeerID, Persistent: true})
			}
		}
		return
	}
	var peers []string
	for j, h := range homes {
		if j != i && h.Founding {
			peers = append(peers, h.NodeID+"@"+h.P2P)
		}
	}
	conf.P2P.PersistentPeers = join(peers)
}

func join(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}
