// Package client builds, signs and submits Byte Points transactions to a
// node's CometBFT RPC, waits for their commit, and reads state with
// optional Merkle proofs verified against signed headers. The CLI, the
// seller gateway, the demo and the tests all go through it.
package client

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bytepoints/bytepoints/abci"
	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/types"
	"github.com/cometbft/cometbft/mempool"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
)

// Client talks to one node.
type Client struct {
	RPC     rpcclient.Client
	ChainID string
	// Key signs transactions (a terminal's or the operator's).
	Key ed25519.PrivateKey
	// ValidFor is how many blocks a transaction stays valid (default 100).
	ValidFor uint64
	// Timeout bounds waiting for a commit (default 30 s).
	Timeout time.Duration
	// URL is the node's RPC address.
	URL string

	verifier *verifier // set by UseLightClient
}

// Dial connects to a node's RPC (http://host:port) and learns its chain id.
func Dial(ctx context.Context, rpcURL string, key ed25519.PrivateKey) (*Client, error) {
	c, err := rpchttp.New(rpcURL, "/websocket")
	if err != nil {
		return nil, fmt.Errorf("rpc %s: %w", rpcURL, err)
	}
	cl := &Client{RPC: c, Key: key, URL: rpcURL}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("node at %s is not answering: %w", rpcURL, err)
	}
	cl.ChainID = st.NodeInfo.Network
	return cl, nil
}

// Result is a committed (or rejected) transaction's outcome.
type Result struct {
	Code   types.Code
	Log    string
	TxHash []byte
	Height int64
	Data   *types.TxResultData
	// Replayed: the (signer, idempotency key) had already booked this same
	// message. Code, TxHash, Height and Data are then the original
	// transaction's: nothing was booked again.
	Replayed bool
	// ConflictWith is, for code 15 (idempotency_conflict), the transaction
	// that booked the key for a different message.
	ConflictWith []byte
	// IdempotencyKey is the key the submission used (the caller's, or the
	// random one Submit drew): the key to retry with. Empty for a result
	// looked up by hash (LookupTx).
	IdempotencyKey string
}

// OK reports success.
func (r *Result) OK() bool { return r.Code == types.CodeOK }

// Options for one submission.
type Options struct {
	// IdempotencyKey makes retries safe; empty = a fresh random key.
	IdempotencyKey string
	// WalletKey, when set, adds the customer's wallet signature.
	WalletKey ed25519.PrivateKey
	Memo      string
}

// NewIdempotencyKey returns a random key.
func NewIdempotencyKey() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// Build encodes and signs msg for the current height.
func (c *Client) Build(ctx context.Context, msg any, o Options) ([]byte, error) {
	st, err := c.RPC.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("node status: %w", err)
	}
	validFor := c.ValidFor
	if validFor == 0 {
		validFor = 100
	}
	if o.IdempotencyKey == "" {
		o.IdempotencyKey = NewIdempotencyKey()
	}
	body := &types.TxBody{
		ChainId: c.ChainID, Signer: c.Key.Public().(ed25519.PublicKey), IdempotencyKey: o.IdempotencyKey,
		ValidUntilHeight: uint64(st.SyncInfo.LatestBlockHeight) + validFor, Memo: o.Memo,
	}
	if err := body.SetMsg(msg); err != nil {
		return nil, err
	}
	bz, err := body.Marshal()
	if err != nil {
		return nil, err
	}
	tx := &types.Tx{Body: bz, Signature: ed25519.Sign(c.Key, types.SignBytes(bz))}
	if o.WalletKey != nil {
		tx.WalletSignature = ed25519.Sign(o.WalletKey, types.SignBytes(bz))
	}
	return tx.Marshal()
}

// Submit signs msg, broadcasts it, and waits until it is committed. A
// rejection at the mempool or in the block comes back as a Result with a
// non-zero Code; the error is for transport failures and timeouts. When
// the idempotency key was already used, the original transaction's result
// is returned with Replayed set: a retry never books twice.
//
// The key used (o.IdempotencyKey, or the random one drawn for it) is in
// the Result and in an ErrNotCommitted, so a caller can always retry.
func (c *Client) Submit(ctx context.Context, msg any, o Options) (*Result, error) {
	if o.IdempotencyKey == "" {
		o.IdempotencyKey = NewIdempotencyKey()
	}
	tx, err := c.Build(ctx, msg, o)
	if err != nil {
		return nil, err
	}
	res, err := c.Broadcast(ctx, tx)
	var nc *ErrNotCommitted
	switch {
	case errors.As(err, &nc):
		nc.IdempotencyKey = o.IdempotencyKey
	case err == nil:
		res.IdempotencyKey = o.IdempotencyKey
	}
	return res, err
}

// Broadcast submits signed tx bytes and waits for their commit. A retry of
// a booked transaction is answered with the original result (Replayed),
// from CheckTx already or from the block, decided on the result's code and
// typed data, never on its log.
func (c *Client) Broadcast(ctx context.Context, tx []byte) (*Result, error) {
	hash := types.TxHash(tx)
	res, err := c.RPC.BroadcastTxSync(ctx, tx)
	if err != nil && !inMempoolCache(err) {
		return nil, fmt.Errorf("broadcast: %w", err)
	}
	if err == nil && res.Code != 0 {
		return settled(&Result{Code: types.Code(res.Code), Log: res.Log, TxHash: hash}, res.Data)
	}
	return c.waitTx(ctx, hash, tx)
}

// rebroadcastEvery is how often a wait re-offers its transaction to the
// node. A retry that reached the mempool while the original, with the same
// key, was in the block being committed is evicted by the recheck after
// that block and never committed itself; offered again, CheckTx answers
// with the original's result.
const rebroadcastEvery = time.Second

// inMempoolCache reports CometBFT's refusal of bytes it already holds: the
// same transaction is on its way, so waiting for it is the answer. Over
// HTTP the RPC error is text; locally it is mempool.ErrTxInCache.
func inMempoolCache(err error) bool {
	return errors.Is(err, mempool.ErrTxInCache) || strings.Contains(err.Error(), mempool.ErrTxInCache.Error())
}

// settled completes a result from its data: for a duplicate, the original
// result it carries; for a conflict, the transaction it names.
func settled(r *Result, data []byte) (*Result, error) {
	if len(data) == 0 {
		return r, nil
	}
	var d types.TxResultData
	if err := d.Unmarshal(data); err != nil {
		return nil, fmt.Errorf("decode result of %x: %w", r.TxHash, err)
	}
	switch {
	case r.Code == types.CodeDuplicate && d.ReplayOf != nil:
		orig := d.ReplayOf
		d.ReplayOf = nil
		return &Result{Code: types.CodeOK, TxHash: orig.TxHash, Height: orig.Height, Data: &d, Replayed: true}, nil
	case r.Code == types.CodeIdempotencyConflict && d.ConflictWith != nil:
		r.ConflictWith = d.ConflictWith.TxHash
	case r.Code == types.CodeOK:
		r.Data = &d
	}
	return r, nil
}

// ErrNotCommitted is returned when a broadcast transaction was not seen in
// a committed block in time. It may still be: poll its hash.
type ErrNotCommitted struct {
	TxHash  []byte
	Timeout time.Duration
	// IdempotencyKey is the submission's key (set by Submit): a retry
	// with it books at most once.
	IdempotencyKey string
}

func (e *ErrNotCommitted) Error() string {
	return fmt.Sprintf("tx %x was not committed within %s (it may still be; query it later)", e.TxHash, e.Timeout)
}

// WaitTx polls until the transaction is in a committed block. A wait
// that ends (the timeout, or ctx) before the transaction is seen is
// ErrNotCommitted, however far the last lookup got.
func (c *Client) WaitTx(ctx context.Context, hash []byte) (*Result, error) {
	return c.waitTx(ctx, hash, nil)
}

// waitTx is WaitTx, re-offering tx (when given) every rebroadcastEvery.
func (c *Client) waitTx(ctx context.Context, hash, tx []byte) (*Result, error) {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := 50 * time.Millisecond
	offered := time.Now()
	for {
		res, err := c.LookupTx(wctx, hash)
		if err == nil && res != nil {
			return res, nil
		}
		if wctx.Err() != nil {
			return nil, &ErrNotCommitted{TxHash: hash, Timeout: timeout}
		}
		if err != nil {
			return nil, err
		}
		if tx != nil && time.Since(offered) >= rebroadcastEvery {
			offered = time.Now()
			if r, done, err := c.reoffer(wctx, hash, tx); done || err != nil {
				return r, err
			}
		}
		select {
		case <-wctx.Done():
			return nil, &ErrNotCommitted{TxHash: hash, Timeout: timeout}
		case <-time.After(delay):
		}
		if delay < 500*time.Millisecond {
			delay += delay / 2
		}
	}
}

// reoffer broadcasts tx again while waiting for it. done: CheckTx answered
// with a final result (the original's, for a replay; a refusal, such as
// expiry). Still in the mempool, or admitted again: keep waiting.
func (c *Client) reoffer(ctx context.Context, hash, tx []byte) (*Result, bool, error) {
	res, err := c.RPC.BroadcastTxSync(ctx, tx)
	if err != nil || res.Code == 0 {
		return nil, false, nil // in the mempool (or its cache), or a transport hiccup: the wait goes on
	}
	r, err := settled(&Result{Code: types.Code(res.Code), Log: res.Log, TxHash: hash}, res.Data)
	if err != nil {
		return nil, false, err
	}
	if r.Replayed && string(r.TxHash) == string(hash) {
		// tx itself committed since the lookup: its own result, not a replay.
		got, err := c.LookupTx(ctx, hash)
		return got, got != nil, err
	}
	return r, true, nil
}

// LookupTx is the committed result of the transaction hash, or nil (and
// no error) when no committed block holds it yet. A transaction refused
// before a block (its submission printed the refusal) or expired past its
// valid_until_height is never found.
func (c *Client) LookupTx(ctx context.Context, hash []byte) (*Result, error) {
	res, err := c.RPC.Tx(ctx, hash, false)
	if err != nil {
		if strings.Contains(err.Error(), "not found") {
			return nil, nil
		}
		return nil, fmt.Errorf("look up tx %X: %w", hash, err)
	}
	return settled(&Result{Code: types.Code(res.TxResult.Code), Log: res.TxResult.Log, TxHash: hash, Height: res.Height}, res.TxResult.Data)
}

// QueryResult is a query's answer.
type QueryResult struct {
	Value    []byte
	Height   int64
	Proofs   []*types.ProvenEntry
	Verified *Verification // set when proofs were checked
}

// VerificationError: an answer or a header did not verify from the trust
// root (code verification_failed). What names the query path or header.
type VerificationError struct {
	What string
	Err  error
}

func (e *VerificationError) Error() string {
	return "PROOF FAILED for " + e.What + ": " + e.Err.Error()
}
func (e *VerificationError) Unwrap() error { return e.Err }

// QueryError is a query rejected by the node.
type QueryError struct {
	Code types.Code
	Log  string
	// Verified is set when a proven query's "not found" was itself proven
	// (the absence of what was missing, against a verified header).
	Verified *Verification
}

func (e *QueryError) Error() string {
	if strings.HasPrefix(e.Log, e.Code.Name()+":") {
		return e.Log
	}
	return e.Code.Name() + ": " + e.Log
}

// Query asks path; with prove, it verifies the answer's proofs against the
// app hash in the next block's header, verified by CometBFT's light client
// from the trust root given to UseLightClient (ErrNoTrustRoot without one),
// and checks that the answer is exactly what the proven entries give.
func (c *Client) Query(ctx context.Context, path string, prove bool) (*QueryResult, error) {
	a, err := c.Fetch(ctx, path, prove)
	if err != nil {
		return nil, err
	}
	if !prove {
		return a.Result()
	}
	return c.Verify(ctx, a)
}

// Answer is a query's answer as the node sent it, not yet verified.
type Answer struct {
	Path     string
	Code     types.Code
	Log      string
	Value    []byte
	Height   int64 // the state height the node read it at
	ProofOps *cmtcrypto.ProofOps
	// Head is the highest header height the client knew of when it asked
	// (proven fetches): Verify refuses the answer when its state is more
	// than the light client's MaxLag blocks behind it.
	Head int64
}

// Result is the unverified answer as a QueryResult or a QueryError.
func (a *Answer) Result() (*QueryResult, error) {
	if a.Code != 0 {
		return nil, &QueryError{Code: a.Code, Log: a.Log}
	}
	return &QueryResult{Value: a.Value, Height: a.Height}, nil
}

// Fetch asks path (with proofs when prove) without verifying: a caller
// that needs several answers from one state height fetches them all, then
// verifies each (Verify), so waiting for headers does not let the state
// move on between them.
func (c *Client) Fetch(ctx context.Context, path string, prove bool) (*Answer, error) {
	var head int64
	if prove && c.verifier != nil {
		head = c.verifier.refreshHead(ctx, c.RPC)
	}
	res, err := c.RPC.ABCIQueryWithOptions(ctx, path, nil, rpcclient.ABCIQueryOptions{Prove: prove})
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", path, err)
	}
	r := res.Response
	return &Answer{Path: path, Code: types.Code(r.Code), Log: r.Log, Value: r.Value, Height: r.Height, ProofOps: r.ProofOps, Head: head}, nil
}

// Verify checks a fetched answer against the light-client-verified header
// after its height: that its state is fresh (at most MaxLag blocks behind
// the latest header known when it was fetched, which is then verified),
// every proof through the app's proof operator, and that the answer is
// exactly what the proven entries give. A "not found" carries the proofs
// of what was read, the missing record's absence included, and is checked
// the same way: the QueryError then has Verified set.
func (c *Client) Verify(ctx context.Context, a *Answer) (*QueryResult, error) {
	if a.Code != 0 && a.Code != types.CodeNotFound {
		return nil, &QueryError{Code: a.Code, Log: a.Log}
	}
	if c.verifier == nil {
		return nil, ErrNoTrustRoot
	}
	if err := c.checkFresh(ctx, a.Path, a.Height, a.Head); err != nil {
		return nil, err
	}
	v, err := c.verifiedAppHash(ctx, a.Height)
	if err != nil {
		return nil, err
	}
	v.Latest = max(a.Head, v.Height)
	proofs, err := abci.VerifyProofOps(c.verifier.prt, a.ProofOps, v.AppHash)
	if err != nil {
		return nil, &VerificationError{What: a.Path, Err: err}
	}
	if a.Code == types.CodeNotFound {
		if err := app.CheckAbsence(a.Path, proofs); err != nil {
			return nil, &VerificationError{What: a.Path + " (not found)", Err: err}
		}
		return nil, &QueryError{Code: a.Code, Log: a.Log, Verified: v}
	}
	if err := app.CheckAnswer(a.Path, a.Value, proofs); err != nil {
		return nil, &VerificationError{What: a.Path, Err: err}
	}
	return &QueryResult{Value: a.Value, Height: a.Height, Proofs: proofs, Verified: v}, nil
}

// Decode is a convenience for typed answers.
func Decode[T any, PT interface {
	*T
	Unmarshal([]byte) error
}](q *QueryResult) (*T, error) {
	var v T
	if err := PT(&v).Unmarshal(q.Value); err != nil {
		return nil, err
	}
	return &v, nil
}

// IsNotFound reports a not_found query error.
func IsNotFound(err error) bool {
	var qe *QueryError
	return errors.As(err, &qe) && qe.Code == types.CodeNotFound
}
