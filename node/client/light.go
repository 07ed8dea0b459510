package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bytepoints/bytepoints/abci"
	dbm "github.com/cometbft/cometbft-db"
	"github.com/cometbft/cometbft/crypto/merkle"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/light"
	"github.com/cometbft/cometbft/light/provider"
	lighthttp "github.com/cometbft/cometbft/light/provider/http"
	lightdb "github.com/cometbft/cometbft/light/store/db"
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
	// own witness and nothing is cross-checked (Verification says so).
	Witnesses []string
	// Dir holds the light client's trusted store (headers verified so
	// far), so a later run starts from there. "" keeps it in memory.
	Dir string
	// Period is the trusting period; 0 takes two thirds of the chain's
	// evidence max age (its consensus params), the window in which a
	// validator that signed a conflicting header can still be punished.
	Period time.Duration
}

// ErrNoTrustRoot: proven reads need a trusted header and none was given.
var ErrNoTrustRoot = errors.New("no trust root: pass --trust-height and --trust-hash (a header's height and hash from a member you trust, e.g. `bytepointsd query header` on their node); they are stored and later runs may omit them")

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
	witnessRPC []*Client
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
	primary, err := lighthttp.New(c.ChainID, c.URL)
	if err != nil {
		return fmt.Errorf("primary %s: %w", c.URL, err)
	}
	v := &verifier{prt: abci.ProofRuntime(), witnesses: t.Witnesses}
	if t.Height > 0 {
		if err := matchesRoot(ctx, c, "the primary "+c.URL, t.Height, t.Hash); errors.Is(err, errNotRoot) {
			return &VerificationError{What: fmt.Sprintf("trusted header %d", t.Height),
				Err: fmt.Errorf("%w: the trust hash is of another chain or fork, or the primary is", err)}
		} else if err != nil {
			return err
		}
	}
	var witnesses []provider.Provider
	for _, w := range t.Witnesses {
		wc, err := c.checkWitness(ctx, w, t.Height, t.Hash)
		if err != nil {
			return err
		}
		v.witnessRPC = append(v.witnessRPC, wc)
		p, err := lighthttp.New(c.ChainID, w)
		if err != nil {
			return fmt.Errorf("witness %s: %w", w, err)
		}
		witnesses = append(witnesses, p)
	}
	if len(witnesses) == 0 {
		witnesses, v.selfWitness = []provider.Provider{primary}, true
	}
	if v.db, err = openLightStore(t.Dir, c.ChainID); err != nil {
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
			return fmt.Errorf("%w (none stored in %s)", ErrNoTrustRoot, t.Dir)
		}
	}
	// The trusting period comes from the root's consensus params, checked
	// below against the root header's consensus hash.
	params, err := c.RPC.ConsensusParams(ctx, &root)
	if err != nil {
		return fmt.Errorf("consensus params at %d: %w", root, err)
	}
	period := t.Period
	if period == 0 {
		age := params.ConsensusParams.Evidence.MaxAgeDuration
		if age <= 0 {
			return fmt.Errorf("the chain's evidence max age %v gives no trusting period", age)
		}
		period = age * 2 / 3
	}
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
		return &VerificationError{What: fmt.Sprintf("trusted header %d", root), Err: explainLight(err)}
	}
	if v.trustHeight, err = v.lc.FirstTrustedHeight(); err != nil {
		return err
	}
	first, err := v.lc.TrustedLightBlock(v.trustHeight)
	if err != nil {
		return err
	}
	if first.Height != root || !bytes.Equal(params.ConsensusParams.Hash(), first.ConsensusHash) {
		return fmt.Errorf("the consensus params served for height %d do not match the trusted header's consensus hash", root)
	}
	v.trustHash = first.Hash()
	c.verifier, ok = v, true
	return nil
}

// openLightStore opens the light client's trusted store in dir, or in
// memory when dir is "".
func openLightStore(dir, chainID string) (dbm.DB, error) {
	if dir == "" {
		return dbm.NewMemDB(), nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("light client store: %w", err)
	}
	db, err := dbm.NewDB("light-"+safeName(chainID), dbm.GoLevelDBBackend, dir)
	if err != nil {
		return nil, fmt.Errorf("light client store in %s (another bytepointsd using it? pass --light-dir): %w", dir, err)
	}
	return db, nil
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

// checkWitness refuses, naming it, a witness on another chain or one
// whose header at the trusted height is not the trusted one (a fork). The
// light client would refuse it too, but without saying which witness.
func (c *Client) checkWitness(ctx context.Context, url string, height int64, hash []byte) (*Client, error) {
	w, err := Dial(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("witness %s: %w", url, err)
	}
	if w.ChainID != c.ChainID {
		return nil, &VerificationError{What: "witness " + url, Err: fmt.Errorf("it is on chain %q, the primary on %q", w.ChainID, c.ChainID)}
	}
	if height > 0 {
		if err := matchesRoot(ctx, w, "it", height, hash); errors.Is(err, errNotRoot) {
			return nil, &VerificationError{What: "witness " + url, Err: fmt.Errorf("it disagrees with the trusted header: %w", err)}
		} else if err != nil {
			return nil, fmt.Errorf("witness %s: %w", url, err)
		}
	}
	return w, nil
}

// errNotRoot: a node's header at the trusted height is another one.
var errNotRoot = errors.New("not the trusted header")

// matchesRoot checks that node's header at height has hash (errNotRoot
// when it has another); who names the node in the error.
func matchesRoot(ctx context.Context, node *Client, who string, height int64, hash []byte) error {
	res, err := node.RPC.Header(ctx, &height)
	if err != nil {
		return fmt.Errorf("%s: header %d: %w", who, height, err)
	}
	if got := res.Header.Hash(); !bytes.Equal(got, hash) {
		return fmt.Errorf("%w: %s has header %d %x, the trusted one is %x", errNotRoot, who, height, []byte(got), hash)
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
	// TrustHeight and TrustHash are the root the header was verified from.
	TrustHeight int64
	TrustHash   []byte
	// Witnesses cross-checked the header; SelfWitness: none was given and
	// the primary was its own witness.
	Witnesses   []string
	SelfWitness bool
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
	v.waitWitnesses(ctx, next)
	var lb *cmttypes.LightBlock
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		v.mu.Lock()
		lb, err = v.lc.VerifyLightBlockAtHeight(ctx, next, time.Now())
		v.mu.Unlock()
		// A node too busy to answer in the provider's 5 s is asked again;
		// a header that fails verification is not.
		if err == nil || ctx.Err() != nil || !(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, provider.ErrNoResponse)) {
			break
		}
	}
	if err != nil {
		return nil, &VerificationError{What: fmt.Sprintf("header %d", next), Err: fmt.Errorf("does not verify from the trusted header %d: %w", v.trustHeight, explainLight(err))}
	}
	out := &Verification{Height: next, AppHash: lb.AppHash, Header: lb.Hash(), Total: lb.ValidatorSet.TotalVotingPower(),
		TrustHeight: v.trustHeight, TrustHash: v.trustHash, Witnesses: v.witnesses, SelfWitness: v.selfWitness}
	for i, sig := range lb.Commit.Signatures {
		if sig.BlockIDFlag == cmttypes.BlockIDFlagCommit && i < len(lb.ValidatorSet.Validators) {
			out.Power += lb.ValidatorSet.Validators[i].VotingPower
			out.Signers++
		}
	}
	return out, nil
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
	v.waitWitnesses(ctx, h)
	v.mu.Lock()
	defer v.mu.Unlock()
	lb, err := v.lc.VerifyLightBlockAtHeight(ctx, h, time.Now())
	if err != nil {
		return nil, &VerificationError{What: fmt.Sprintf("the latest header (%d)", h), Err: explainLight(err)}
	}
	return lb, nil
}

// waitHeight waits until the primary has a header at h (the header that
// carries the app hash of the latest state is one block ahead).
func (c *Client) waitHeight(ctx context.Context, h int64) error {
	for i := 0; ; i++ {
		st, err := c.RPC.Status(ctx)
		if err == nil && st.SyncInfo.LatestBlockHeight >= h {
			return nil
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
			st, err := w.RPC.Status(ctx)
			if err == nil && st.SyncInfo.LatestBlockHeight >= h {
				break
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
