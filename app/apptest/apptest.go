// Package apptest drives the state machine directly, without a node: a
// chain of in-memory blocks with deterministic keys, for tests at the app
// level (handlers, invariants, golden app hashes, property tests).
package apptest

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// ChainID of test chains.
const ChainID = "bytepoints-test"

// Key derives a deterministic Ed25519 key from a name (memoised: deriving
// one costs as much as a signature).
func Key(name string) ed25519.PrivateKey {
	if k, ok := keys.Load(name); ok {
		return k.(ed25519.PrivateKey)
	}
	seed := sha256.Sum256([]byte("apptest/" + name))
	k := ed25519.NewKeyFromSeed(seed[:])
	keys.Store(name, k)
	return k
}

var keys sync.Map // name -> ed25519.PrivateKey

// Pub is Key(name)'s public key.
func Pub(name string) []byte { return Key(name).Public().(ed25519.PublicKey) }

// GenesisTime is the genesis block time: 2026-01-01T00:00:00Z.
const GenesisTime int64 = 1767225600

// TB is what Chain needs of a test (testing.TB and *rapid.T both fit).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Fatal(args ...any)
}

// Chain is an app over an in-memory store with a block clock.
type Chain struct {
	T       TB
	App     *app.App
	DB      *store.DB
	Height  int64
	Time    int64 // Unix seconds of the last block
	Sellers []string
	Results []app.TxResult // of the last block
	Events  []types.Event  // block-level events of the last block
	Check   bool           // check invariants after every block
	Pending [][]byte
	seq     int
}

// Genesis returns app_state for the given sellers (keys from names).
func Genesis(sellers []string, params *types.Params) []byte {
	g := app.Genesis{}
	if params != nil {
		bz, err := app.MarshalParamsJSON(params)
		if err != nil {
			panic(err)
		}
		g.Params = bz
	}
	for _, s := range sellers {
		g.Sellers = append(g.Sellers, app.GenesisSeller{
			SellerID: s, OperatorPubKey: hex.EncodeToString(Pub(s + "/operator")),
			ValidatorPubKey: hex.EncodeToString(Pub(s + "/validator")),
		})
	}
	bz, err := json.Marshal(g)
	if err != nil {
		panic(err)
	}
	return bz
}

// New starts a chain with the sellers and params (nil = defaults).
func New(t testing.TB, sellers []string, params *types.Params) *Chain {
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return NewOn(t, db, sellers, params)
}

// NewOn starts a chain on db whose app checks the invariants after every
// block (as a node with --check-invariants does).
func NewOn(t testing.TB, db *store.DB, sellers []string, params *types.Params) *Chain {
	return NewOnConfig(t, db, sellers, params, app.Config{ChainID: ChainID, CheckInvariants: true})
}

// NewOnConfig starts a chain on db with the app configured by cfg.
func NewOnConfig(t testing.TB, db *store.DB, sellers []string, params *types.Params, cfg app.Config) *Chain {
	a := app.New(db, cfg)
	var vals []app.Validator
	for _, s := range sellers {
		vals = append(vals, app.Validator{PubKey: Pub(s + "/validator"), Power: app.ValidatorPower})
	}
	if _, err := a.InitChain(ChainID, GenesisTime*1e9, Genesis(sellers, params), vals); err != nil {
		t.Fatal(err)
	}
	return &Chain{T: t, App: a, DB: db, Time: GenesisTime, Sellers: sellers, Check: true}
}

// Body starts a tx body signed by signer with a fresh idempotency key.
func (c *Chain) Body(signer string, msg any) *types.TxBody {
	c.seq++
	b := &types.TxBody{
		ChainId: ChainID, Signer: Pub(signer), IdempotencyKey: fmt.Sprintf("k%d", c.seq),
		ValidUntilHeight: uint64(c.Height + 100),
	}
	if err := b.SetMsg(msg); err != nil {
		panic(err)
	}
	return b
}

// Sign encodes and signs body with the named key.
func Sign(body *types.TxBody, signer string) []byte {
	bz, err := types.SignTx(body, Key(signer))
	if err != nil {
		panic(err)
	}
	return bz
}

// Tx builds a signed transaction of msg by signer.
func (c *Chain) Tx(signer string, msg any) []byte { return Sign(c.Body(signer, msg), signer) }

// Block executes one block of txs dt seconds after the last and commits it.
func (c *Chain) Block(dt int64, txs ...[]byte) []app.TxResult {
	c.T.Helper()
	c.Height++
	c.Time += dt
	res, err := c.App.FinalizeBlock(app.Block{Height: c.Height, TimeNs: c.Time * 1e9, Txs: txs})
	if err != nil {
		c.T.Fatalf("block %d: %v", c.Height, err)
	}
	if err := c.App.Commit(); err != nil {
		c.T.Fatalf("commit %d: %v", c.Height, err)
	}
	if c.Check {
		v := c.DB.View()
		defer v.Discard()
		if err := app.CheckInvariants(v); err != nil {
			c.T.Fatalf("after block %d: %v", c.Height, err)
		}
	}
	c.Results, c.Events = res.TxResults, res.Events
	return res.TxResults
}

// Do runs msg signed by signer in its own block and returns its result.
func (c *Chain) Do(signer string, msg any) app.TxResult {
	c.T.Helper()
	return c.Block(5, c.Tx(signer, msg))[0]
}

// MustOK fails the test unless r succeeded, and decodes its data.
func MustOK(t TB, r app.TxResult) *types.TxResultData {
	t.Helper()
	if r.Code != types.CodeOK {
		t.Fatalf("tx failed: code %d (%s): %s", r.Code, r.Code.Name(), r.Log)
	}
	var d types.TxResultData
	if err := d.Unmarshal(r.Data); err != nil {
		t.Fatal(err)
	}
	return &d
}

// Flow is a PIN-verified, approved contactless payment.
func Flow() *types.PaymentFlow {
	return &types.PaymentFlow{ReadType: types.ReadType_READ_TYPE_CONTACTLESS_EMV, Cvm: types.CVM_CVM_PIN_ONLINE_OK, Auth: types.AuthResult_AUTH_RESULT_APPROVED}
}

// Operator names a seller's operator key.
func Operator(seller string) string { return seller + "/operator" }

func sign(name string, body []byte) []byte { return ed25519.Sign(Key(name), types.SignBytes(body)) }
