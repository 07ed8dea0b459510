package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bytepoints/bytepoints/abci"
	"github.com/bytepoints/bytepoints/types"
	dbm "github.com/cometbft/cometbft-db"
	"github.com/cometbft/cometbft/crypto/merkle"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/light"
	"github.com/cometbft/cometbft/light/provider"
	lighthttp "github.com/cometbft/cometbft/light/provider/http"
	lightdb "github.com/cometbft/cometbft/light/store/db"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	cmttypes "github.com/cometbft/cometbft/types"
)

// Trust is where verified reads start: one header an auditor trusts,
// obtained out of band from any member, and the nodes that check each
// other while headers are walked forward from it (SPEC §10).
type Trust struct {
	// Height and Hash of the trusted header. Both zero: use the root stored
	// in Dir by an earlier run.
	Height int64
	Hash   []byte
	// Witnesses are other nodes' RPC URLs. The light client cross-checks
	// every header it verifies against them; with none, the primary is its
	// own witness and nothing is cross-checked (Verification says so). Each
	// must be a distinct node, not the primary (compared by node id).
	Witnesses []string
	// Dir holds the light client's trusted store (headers verified so
	// far), so a later run starts from there. "" keeps it in memory. The
	// store is kept per chain id and genesis hash: a network regenerated
	// with the same chain id never starts from another one's headers.
	Dir string
	// Period is the trusting period; 0 takes two thirds of the chain's
	// evidence max age (its consensus params), the window in which a
	// validator that signed a conflicting header can still be punished.
	Period time.Duration
	// MaxLag is how many blocks a proven answer's state may be behind the
	// latest header the client knows of (0: DefaultMaxLag). An answer
	// further behind is refused: a node replaying old answers would hide
	// what was booked since.
	MaxLag int64
}

// DefaultMaxLag is Trust.MaxLag's default: a node answers at its latest
// committed state, at most a block or two behind a witness's latest header.
const DefaultMaxLag = 5

// MaxLagFlag names the flag that sets Trust.MaxLag, for error messages.
const MaxLagFlag = "--max-lag"

// ErrNoTrustRoot: proven reads need a trusted header and none was given.
var ErrNoTrustRoot = errors.New("no trust root: pass --trust-height and --trust-hash (a header's height and hash from a member you trust, e.g. `bytepointsd query header` on their node); they are stored and later runs may omit them")

// ReplaceRootFlags names the flags that replace a stored trust root.
const ReplaceRootFlags = "--trust-height and --trust-hash"

// verifier checks headers with CometBFT's light client and answers'
// proofs with the app's proof operator.
type verifier struct {
	mu          sync.Mutex
	lc          *light.Client
	prt         *merkle.ProofRuntime
	db          dbm.DB
	trustHeight int64
	trustHash   []byte
	witnesses   []string
	selfWitness bool
	// witnessRPC are the witnesses' RPCs, to wait for them to have a
	// header before the light client asks for it: a witness even a block
	// behind makes CometBFT's detector sleep 2 x clock drift + block lag
	// (30 s) before it asks again.
	witnessRPC []rpcclient.Client
	period     time.Duration
	maxLag     int64
	// stored describes the root when it came from the trusted store (not
	// from flags), to name it when verification from it fails.
	stored string

	// head is the highest header height the primary or a witness reported
	// (or the light client verified): what an answer's freshness is
	// measured against. headAt is when the primary was last asked.
	headMu sync.Mutex
	head   int64
	headAt time.Time
}

// observe raises the known head to h.
func (v *verifier) observe(h int64) {
	v.headMu.Lock()
	v.head = max(v.head, h)
	v.headMu.Unlock()
}

// latest is the highest header height known.
func (v *verifier) latest() int64 {
	v.headMu.Lock()
	defer v.headMu.Unlock()
	return v.head
}

// headRefresh bounds how often Fetch asks the primary for its latest
// height: answers fetched together (a snapshot) share one observation.
const headRefresh = 250 * time.Millisecond

// refreshHead asks the primary for its latest height unless it was asked
// within headRefresh, and returns the highest height known.
func (v *verifier) refreshHead(ctx context.Context, rpc rpcclient.Client) int64 {
	v.headMu.Lock()
	fresh := time.Since(v.headAt) < headRefresh
	v.headMu.Unlock()
	if !fresh {
		if st, err := rpc.Status(ctx); err == nil {
			v.headMu.Lock()
			v.head = max(v.head, st.SyncInfo.LatestBlockHeight)
			v.headAt = time.Now()
			v.headMu.Unlock()
		}
	}
	return v.latest()
}

// storedRoot adds to a verification failure from a stored root which root
// it was and how to replace it.
func (v *verifier) storedRoot(err error) error {
	if v == nil || v.stored == "" || err == nil {
		return err
	}
	return fmt.Errorf("%w; verification started from %s; if that root is not this network's or is too old, pass %s of a header you trust to replace it", err, v.stored, ReplaceRootFlags)
}

// UseLightClient makes every proven Query check its answer against the
// app hash of a header verified by CometBFT's light client from t, with
// the client's RPC node as primary.
func (c *Client) UseLightClient(ctx context.Context, t Trust) error {
	if c.URL == "" {
		return errors.New("the light client needs the primary's RPC URL (Dial it)")
	}
	if (t.Height == 0) != (len(t.Hash) == 0) {
		return errors.New("--trust-height and --trust-hash go together")
	}
	if t.Height < 0 {
		return fmt.Errorf("trust height %d must be positive", t.Height)
	}
	if len(t.Hash) != 0 && len(t.Hash) != 32 {
		return fmt.Errorf("trust hash must be 32 bytes (64 hex characters), not %d", len(t.Hash))
	}
	if t.MaxLag < 0 {
		return types.Errorf(types.CodeInvalidArgument, "%s %d: give the number of blocks an answer may be behind the latest header (default %d)", MaxLagFlag, t.MaxLag, DefaultMaxLag)
	}
	primary, err := lighthttp.New(c.ChainID, c.URL)
	if err != nil {
		return fmt.Errorf("primary %s: %w", c.URL, err)
	}
	v := &verifier{prt: abci.ProofRuntime(), witnesses: t.Witnesses, maxLag: t.MaxLag}
	if v.maxLag == 0 {
		v.maxLag = DefaultMaxLag
	}
	pst, err := c.RPC.Status(ctx)
	if err != nil {
		return fmt.Errorf("primary %s: %w", c.URL, err)
	}
	v.observe(pst.SyncInfo.LatestBlockHeight)
	genesis, err := GenesisHash(ctx, c.RPC)
	if err != nil {
		return fmt.Errorf("primary %s: %w", c.URL, err)
	}
	if t.Height > 0 {
		if err := matchesRoot(ctx, c.RPC, "the primary "+c.URL, t.Height, t.Hash); errors.Is(err, errNotRoot) {
			return &VerificationError{What: fmt.Sprintf("trusted header %d", t.Height),
				Err: fmt.Errorf("%w: either the trust hash is not of this chain, or the primary is on another chain or fork", err)}
		} else if err != nil {
			return err
		}
	}
	// Witnesses are distinct nodes: the primary answering as its own
	// witness, or one node named twice, cross-checks nothing.
	ids := map[cmtNodeID]string{cmtNodeID(pst.NodeInfo.ID()): ""}
	var witnesses []provider.Provider
	for _, w := range t.Witnesses {
		wrpc, id, err := c.checkWitness(ctx, w, genesis, t.Height, t.Hash, v)
		if err != nil {
			return err
		}
		if prev, dup := ids[id]; dup {
			if prev == "" {
				return types.Errorf(types.CodeInvalidArgument, "witness %s is the primary itself (node id %s, the node at %s): a witness must be another node, or nothing is cross-checked", w, id, c.URL)
			}
			return types.Errorf(types.CodeInvalidArgument, "witness %s is the same node (node id %s) as witness %s: each witness must be a distinct node", w, id, prev)
		}
		ids[id] = w
		v.witnessRPC = append(v.witnessRPC, wrpc)
		p, err := lighthttp.New(c.ChainID, w)
		if err != nil {
			return fmt.Errorf("witness %s: %w", w, err)
		}
		witnesses = append(witnesses, p)
	}
	if len(witnesses) == 0 {
		witnesses, v.selfWitness = []provider.Provider{primary}, true
	}
	var path string
	if v.db, path, err = openLightStore(t.Dir, c.ChainID, genesis); err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			v.db.Close()
		}
	}()
	trusted := lightdb.New(v.db, c.ChainID)
	root := t.Height
	if root == 0 {
		if root, err = trusted.FirstLightBlockHeight(); err != nil || root <= 0 {
			if t.Dir == "" {
				return ErrNoTrustRoot
			}
			return fmt.Errorf("%w (none stored for chain %s with genesis %X in %s)", ErrNoTrustRoot, c.ChainID, genesis[:8], path)
		}
		if v.stored, err = describeStored(trusted, path); err != nil {
			return err
		}
		// The stored header verification starts from must be the
		// primary's too: say so now, naming the root, rather than let the
		// light client fail on a validator set it cannot follow.
		last, err := trusted.LastLightBlockHeight()
		if err != nil {
			return fmt.Errorf("light client store %s: %w", path, err)
		}
		lb, err := trusted.LightBlock(last)
		if err != nil {
			return fmt.Errorf("light client store %s: %w", path, err)
		}
		if err := matchesRoot(ctx, c.RPC, "the primary "+c.URL, last, lb.Hash()); errors.Is(err, errNotRoot) {
			return &VerificationError{What: fmt.Sprintf("stored header %d", last), Err: v.storedRoot(err)}
		}
	}
	// The trusting period comes from the root's consensus params, checked
	// below against the root header's consensus hash.
	params, err := c.RPC.ConsensusParams(ctx, &root)
	if err != nil {
		return fmt.Errorf("consensus params at %d: %w", root, v.storedRoot(err))
	}
	period := t.Period
	if period == 0 {
		age := params.ConsensusParams.Evidence.MaxAgeDuration
		if age <= 0 {
			return fmt.Errorf("the chain's evidence max age %v gives no trusting period", age)
		}
		period = age * 2 / 3
	}
	v.period = period
	opts := []light.Option{light.MaxRetryAttempts(3)}
	if os.Getenv("BYTEPOINTS_LIGHT_LOG") != "" { // the light client's own log, on stderr
		opts = append(opts, light.Logger(cmtlog.NewTMLogger(cmtlog.NewSyncWriter(os.Stderr))))
	}
	if t.Height == 0 {
		v.lc, err = light.NewClientFromTrustedStore(c.ChainID, period, primary, witnesses, trusted, opts...)
	} else {
		v.lc, err = light.NewClient(ctx, c.ChainID, light.TrustOptions{Period: period, Height: t.Height, Hash: t.Hash},
			primary, witnesses, trusted, opts...)
	}
	if err != nil {
		return &VerificationError{What: fmt.Sprintf("trusted header %d", root), Err: v.storedRoot(explainLight(err))}
	}
	if v.trustHeight, err = v.lc.FirstTrustedHeight(); err != nil {
		return err
	}
	first, err := v.lc.TrustedLightBlock(v.trustHeight)
	if err != nil {
		return err
	}
	if first.Height != root || !bytes.Equal(params.ConsensusParams.Hash(), first.ConsensusHash) {
		return &VerificationError{What: fmt.Sprintf("trusted header %d", root),
			Err: v.storedRoot(fmt.Errorf("the consensus params the primary serves for height %d do not match the header's consensus hash", root))}
	}
	v.trustHash = first.Hash()
	c.verifier, ok = v, true
	return nil
}

type cmtNodeID string

// describeStored names a stored root: its first and latest headers and
// where they are kept.
func describeStored(s interface {
	FirstLightBlockHeight() (int64, error)
	LastLightBlockHeight() (int64, error)
	LightBlock(int64) (*cmttypes.LightBlock, error)
}, path string) (string, error) {
	first, err := s.FirstLightBlockHeight()
	if err != nil {
		return "", fmt.Errorf("light client store %s: %w", path, err)
	}
	last, err := s.LastLightBlockHeight()
	if err != nil {
		return "", fmt.Errorf("light client store %s: %w", path, err)
	}
	f, err := s.LightBlock(first)
	if err != nil {
		return "", fmt.Errorf("light client store %s: %w", path, err)
	}
	l, err := s.LightBlock(last)
	if err != nil {
		return "", fmt.Errorf("light client store %s: %w", path, err)
	}
	return fmt.Sprintf("the trust root stored in %s (header %d, hash %X; latest verified header %d, hash %X, of %s)",
		path, first, []byte(f.Hash()), last, []byte(l.Hash()), l.Time.UTC().Format(time.RFC3339)), nil
}

// GenesisHash is the SHA-256 of the genesis document a node serves (its
// canonical JSON, as CometBFT's genesis_chunked RPC returns it). Two
// networks generated with the same chain id have different ones.
func GenesisHash(ctx context.Context, rpc rpcclient.Client) ([]byte, error) {
	h := sha256.New()
	for i, n := 0, 1; i < n; i++ {
		res, err := rpc.GenesisChunked(ctx, uint(i))
		if err != nil {
			return nil, fmt.Errorf("genesis: %w", err)
		}
		bz, err := base64.StdEncoding.DecodeString(res.Data)
		if err != nil {
			return nil, fmt.Errorf("genesis chunk %d: %w", i, err)
		}
		h.Write(bz)
		n = res.TotalChunks
	}
	return h.Sum(nil), nil
}

// openLightStore opens the light client's trusted store for one network
// (chain id and genesis hash) in dir, or in memory when dir is "", and
// returns where it is.
func openLightStore(dir, chainID string, genesis []byte) (dbm.DB, string, error) {
	if dir == "" {
		return dbm.NewMemDB(), "memory", nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", fmt.Errorf("light client store: %w", err)
	}
	name := fmt.Sprintf("light-%s-%x", safeName(chainID), genesis[:8])
	path := filepath.Join(dir, name+".db")
	db, err := dbm.NewDB(name, dbm.GoLevelDBBackend, dir)
	if err != nil {
		return nil, "", fmt.Errorf("light client store %s (another bytepointsd using it? pass --light-dir): %w", path, err)
	}
	return db, path, nil
}

// Close releases the light client's store.
func (c *Client) Close() error {
	if c.verifier == nil || c.verifier.db == nil {
		return nil
	}
	return c.verifier.db.Close()
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// checkWitness refuses, naming it, a witness on another chain or network
// (chain id, genesis hash), or one whose header at the trusted height is
// not the trusted one (a fork). The light client would refuse it too, but
// without saying which witness. It returns the witness's RPC and node id.
func (c *Client) checkWitness(ctx context.Context, url string, genesis []byte, height int64, hash []byte, v *verifier) (rpcclient.Client, cmtNodeID, error) {
	w, err := rpchttp.New(url, "/websocket")
	if err != nil {
		return nil, "", fmt.Errorf("witness %s: %w", url, err)
	}
	st, err := w.Status(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("witness %s is not answering: %w", url, err)
	}
	if st.NodeInfo.Network != c.ChainID {
		return nil, "", &VerificationError{What: "witness " + url, Err: fmt.Errorf("it is on chain %q, the primary on %q", st.NodeInfo.Network, c.ChainID)}
	}
	v.observe(st.SyncInfo.LatestBlockHeight)
	g, err := GenesisHash(ctx, w)
	if err != nil {
		return nil, "", fmt.Errorf("witness %s: %w", url, err)
	}
	if !bytes.Equal(g, genesis) {
		return nil, "", &VerificationError{What: "witness " + url, Err: fmt.Errorf("it is on another network with chain id %q: its genesis hash is %X, the primary's %X", c.ChainID, g, genesis)}
	}
	if height > 0 {
		if err := matchesRoot(ctx, w, "it", height, hash); errors.Is(err, errNotRoot) {
			return nil, "", &VerificationError{What: "witness " + url, Err: fmt.Errorf("it disagrees with the trusted header: %w", err)}
		} else if err != nil {
			return nil, "", fmt.Errorf("witness %s: %w", url, err)
		}
	}
	return w, cmtNodeID(st.NodeInfo.ID()), nil
}

// errNotRoot: a node's header at the trusted height is another one.
var errNotRoot = errors.New("not the trusted header")

// matchesRoot checks that node's header at height has hash (errNotRoot
// when it has another); who names the node in the error.
func matchesRoot(ctx context.Context, node rpcclient.Client, who string, height int64, hash []byte) error {
	res, err := node.Header(ctx, &height)
	if err != nil {
		return fmt.Errorf("%s: header %d: %w", who, height, err)
	}
	if got := res.Header.Hash(); !bytes.Equal(got, hash) {
		return fmt.Errorf("%w: %s has header %d %X, the trusted one is %X", errNotRoot, who, height, []byte(got), hash)
	}
	return nil
}

// explainLight adds what an auditor should do to the light client's errors.
func explainLight(err error) error {
	switch {
	case errors.Is(err, light.ErrFailedHeaderCrossReferencing):
		return fmt.Errorf("no witness confirmed the primary's header (they are down, behind, or on another fork): %w", err)
	case errors.Is(err, light.ErrLightClientAttack):
		return fmt.Errorf("a witness holds a conflicting header signed by the trusted validators (evidence was sent): %w", err)
	}
	var old light.ErrOldHeaderExpired
	if errors.As(err, &old) {
		return fmt.Errorf("the trusted header is older than the trusting period: get a recent one from a member: %w", err)
	}
	return err
}

// Verification says what a proven answer was checked against.
type Verification struct {
	Height  int64  // header height whose app hash was used (state height + 1)
	AppHash []byte // from the light-client-verified header
	Header  []byte // that header's hash
	Signers int    // validators whose commit signatures are in the header's commit
	Power   int64  // their voting power
	Total   int64  // total voting power of the set
	// StateHeight is the state the answer was read at; Latest the highest
	// header the primary or a witness reported when it was read. The
	// answer was refused if Latest - StateHeight exceeded MaxLag.
	StateHeight int64
	Latest      int64
	MaxLag      int64
	// TrustHeight and TrustHash are the root the header was verified from.
	TrustHeight int64
	TrustHash   []byte
	// Witnesses cross-checked the header; SelfWitness: none was given and
	// the primary was its own witness.
	Witnesses   []string
	SelfWitness bool
}

// verifyHeader has the light client verify header h (once the witnesses
// have it), asking a node that is too busy again.
func (c *Client) verifyHeader(ctx context.Context, h int64) (*cmttypes.LightBlock, error) {
	v := c.verifier
	v.waitWitnesses(ctx, h)
	var lb *cmttypes.LightBlock
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		v.mu.Lock()
		lb, err = v.lc.VerifyLightBlockAtHeight(ctx, h, time.Now())
		v.mu.Unlock()
		// A node too busy to answer in the provider's 5 s is asked again;
		// a header that fails verification is not.
		if err == nil || ctx.Err() != nil || !(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, provider.ErrNoResponse)) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	v.observe(lb.Height)
	return lb, nil
}

// verifiedAppHash returns the app hash of the state after block h, taken
// from header h+1 verified by the light client.
func (c *Client) verifiedAppHash(ctx context.Context, h int64) (*Verification, error) {
	v := c.verifier
	if v == nil {
		return nil, ErrNoTrustRoot
	}
	next := h + 1
	if err := c.waitHeight(ctx, next); err != nil {
		return nil, err
	}
	lb, err := c.verifyHeader(ctx, next)
	if err != nil {
		return nil, &VerificationError{What: fmt.Sprintf("header %d", next),
			Err: v.storedRoot(fmt.Errorf("it does not verify from the trust root (header %d): %w", v.trustHeight, explainLight(err)))}
	}
	out := &Verification{Height: next, AppHash: lb.AppHash, Header: lb.Hash(), Total: lb.ValidatorSet.TotalVotingPower(),
		StateHeight: h, MaxLag: v.maxLag,
		TrustHeight: v.trustHeight, TrustHash: v.trustHash, Witnesses: v.witnesses, SelfWitness: v.selfWitness}
	for i, sig := range lb.Commit.Signatures {
		if sig.BlockIDFlag == cmttypes.BlockIDFlagCommit && i < len(lb.ValidatorSet.Validators) {
			out.Power += lb.ValidatorSet.Validators[i].VotingPower
			out.Signers++
		}
	}
	return out, nil
}

// StaleError: a proven answer's state is further behind the latest
// verified header than MaxLag allows (code verification_failed, through
// the VerificationError that wraps it).
type StaleError struct {
	StateHeight, Latest, MaxLag int64
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("the answer is from state height %d, %d blocks behind the latest verified header %d, and at most %d are allowed (%s): the node is behind or replaying old answers; ask another node, or pass a larger %s",
		e.StateHeight, e.Latest-e.StateHeight, e.Latest, e.MaxLag, MaxLagFlag, MaxLagFlag)
}

// checkFresh refuses an answer read at state height h when the latest
// header known when it was read (head) is more than MaxLag blocks ahead.
// That header is verified first: a node's word for its height proves
// nothing, and a header that does not verify is its own failure.
func (c *Client) checkFresh(ctx context.Context, what string, h, head int64) error {
	v := c.verifier
	if head-h <= v.maxLag {
		return nil
	}
	if _, err := c.verifyHeader(ctx, head); err != nil {
		return &VerificationError{What: what, Err: v.storedRoot(fmt.Errorf(
			"the answer is from state height %d, and header %d, the latest a node reported, does not verify: %w", h, head, explainLight(err)))}
	}
	return &VerificationError{What: what, Err: &StaleError{StateHeight: h, Latest: head, MaxLag: v.maxLag}}
}

// VerifyLatest walks the light client to the primary's latest header
// (once the witnesses have it too) and returns it.
func (c *Client) VerifyLatest(ctx context.Context) (*cmttypes.LightBlock, error) {
	v := c.verifier
	if v == nil {
		return nil, ErrNoTrustRoot
	}
	st, err := c.RPC.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("primary %s: %w", c.URL, err)
	}
	h := st.SyncInfo.LatestBlockHeight
	v.observe(h)
	lb, err := c.verifyHeader(ctx, h)
	if err != nil {
		return nil, &VerificationError{What: fmt.Sprintf("the latest header (%d)", h), Err: v.storedRoot(explainLight(err))}
	}
	return lb, nil
}

// TrustExpires is when the light client's latest verified header leaves
// the trusting period: after it, nothing verifies from its store until a
// new root is given (or the client verifies a newer header before then).
func (c *Client) TrustExpires() (time.Time, error) {
	v := c.verifier
	if v == nil {
		return time.Time{}, ErrNoTrustRoot
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	lb, err := v.lc.TrustedLightBlock(0)
	if err != nil {
		return time.Time{}, err
	}
	return lb.Time.Add(v.period), nil
}

// waitHeight waits until the primary has a header at h (the header that
// carries the app hash of the latest state is one block ahead).
func (c *Client) waitHeight(ctx context.Context, h int64) error {
	for i := 0; ; i++ {
		st, err := c.RPC.Status(ctx)
		if err == nil {
			if c.verifier != nil {
				c.verifier.observe(st.SyncInfo.LatestBlockHeight)
			}
			if st.SyncInfo.LatestBlockHeight >= h {
				return nil
			}
		}
		if i > 300 {
			return fmt.Errorf("no header at height %d after 30 s: %v", h, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitWitnesses gives each witness up to 10 s to reach height h. One
// that does not is left to the light client, which then judges it.
func (v *verifier) waitWitnesses(ctx context.Context, h int64) {
	deadline := time.Now().Add(10 * time.Second)
	for _, w := range v.witnessRPC {
		for time.Now().Before(deadline) {
			st, err := w.Status(ctx)
			if err == nil {
				v.observe(st.SyncInfo.LatestBlockHeight)
				if st.SyncInfo.LatestBlockHeight >= h {
					break
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// TrustFromNode reads the node's header at height (0: 1) as a trust root.
// It trusts that node: for its own operator, the demo and tests, never for
// an auditor, who takes the root from a member out of band.
func (c *Client) TrustFromNode(ctx context.Context, height int64) (Trust, error) {
	if height <= 0 {
		height = 1
	}
	if err := c.waitHeight(ctx, height); err != nil {
		return Trust{}, err
	}
	res, err := c.RPC.Header(ctx, &height)
	if err != nil {
		return Trust{}, fmt.Errorf("header %d: %w", height, err)
	}
	return Trust{Height: height, Hash: res.Header.Hash()}, nil
}

// LightDir is where a home keeps its light client's trusted headers.
func LightDir(home string) string { return filepath.Join(home, "light") }

// TrustingPeriod is the light client's trusting period (0 without one).
func (c *Client) TrustingPeriod() time.Duration {
	if c.verifier == nil {
		return 0
	}
	return c.verifier.period
}
