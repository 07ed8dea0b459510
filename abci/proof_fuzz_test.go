package abci_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/bytepoints/bytepoints/abci"
	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/apptest"
	"github.com/bytepoints/bytepoints/types"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
)

// provenAnswer is one query's true, proven answer.
type provenAnswer struct {
	path  string
	found bool   // code 0; else code not_found, proven absent
	value []byte // the answer (found)
	ops   []cmtcrypto.ProofOp
}

// proofFixture is committed state with a table of proven answers, built
// once per fuzz process.
type proofFixture struct {
	c       *apptest.Chain
	appHash []byte
	answers []provenAnswer
}

func newProofFixture(f *testing.F) *proofFixture {
	c := apptest.New(f, []string{"seller-a", "seller-b", "seller-c"}, nil)
	a, b := apptest.Operator("seller-a"), apptest.Operator("seller-b")
	apptest.MustOK(f, c.Do(a, &types.MsgRegisterTerminal{TerminalId: "till-1", Pubkey: apptest.Pub("seller-a/till-1")}))
	r := c.Block(5,
		c.Tx("seller-a/till-1", &types.MsgPurchase{CustomerId: "alice", AmountPaise: 10000, Flow: apptest.Flow()}),
		c.Tx(b, &types.MsgPurchase{CustomerId: "alice", AmountPaise: 5050, Flow: apptest.Flow()}),
		c.Tx(b, &types.MsgPurchase{CustomerId: "bob", AmountPaise: 9999, Flow: apptest.Flow()}),
	)
	buy := apptest.MustOK(f, r[0]).GetPurchase().PurchaseId
	red := apptest.MustOK(f, c.Do(b, &types.MsgRedeem{CustomerId: "alice", Points: 30, BillPaise: 8000, Flow: apptest.Flow()})).GetRedeem().RedemptionId
	apptest.MustOK(f, c.Do(a, &types.MsgPropose{Action: &types.MsgPropose_SetParams{SetParams: app.DefaultParams()}}))
	c.Block(86400) // closes epoch 0
	c.Block(5, c.Tx(b, &types.MsgPurchase{CustomerId: "carol", AmountPaise: 2000, Flow: apptest.Flow()}))
	_, hash := c.App.Info()
	fx := &proofFixture{c: c, appHash: hash}
	unknown := strings.Repeat("ab", 32)
	for _, path := range []string{
		"/balance/alice", "/balance/nobody", "/history/alice", "/history/alice/1/1", "/seller/seller-a",
		"/seller/seller-x", "/sellers", "/statement/0", "/statement/9", "/statements", "/totals", "/params",
		"/purchase/" + hex.EncodeToString(buy), "/purchase/" + unknown, "/redemption/" + hex.EncodeToString(red),
		"/redemption/" + unknown, "/proposal/1", "/proposal/7", "/proposals", "/crms/alice/1000",
		"/crms/alice/250000/seller-b/1500000000", "/crms/alice/1000/seller-x",
	} {
		q := c.App.Query(path, true)
		if q.Code != types.CodeOK && q.Code != types.CodeNotFound {
			f.Fatalf("%s: code %s: %s", path, q.Code.Name(), q.Log)
		}
		pa := provenAnswer{path: path, found: q.Code == types.CodeOK, value: q.Value}
		for _, e := range q.Proofs {
			pa.ops = append(pa.ops, abci.SMTOp{Entry: e}.ProofOp())
		}
		// The untouched answer verifies both ways, or the fuzz target
		// would pass on a verifier that refuses everything.
		if err := fx.verifyApp(pa.path, pa.found, pa.value, pa.ops, hash); err != nil {
			f.Fatalf("%s: the true answer does not verify: %v", path, err)
		}
		if err := fx.verifyRuntime(pa.path, pa.found, pa.value, pa.ops, hash); err != nil {
			f.Fatalf("%s: the true answer does not verify through the proof runtime: %v", path, err)
		}
		fx.answers = append(fx.answers, pa)
	}
	return fx
}

// verifyApp is the app's verifier (VerifyQuery / VerifyAbsence) on the
// entries the ops carry.
func (fx *proofFixture) verifyApp(path string, found bool, value []byte, ops []cmtcrypto.ProofOp, appHash []byte) error {
	entries, err := abci.ProvenEntries(&cmtcrypto.ProofOps{Ops: ops})
	if err != nil {
		return err
	}
	if found {
		return app.VerifyQuery(path, value, entries, appHash)
	}
	return app.VerifyAbsence(path, entries, appHash)
}

// verifyRuntime is what node/client does: every op through CometBFT's
// proof runtime with the app's operator, then the answer checked against
// the entries the runtime verified.
func (fx *proofFixture) verifyRuntime(path string, found bool, value []byte, ops []cmtcrypto.ProofOp, appHash []byte) error {
	entries, err := abci.VerifyProofOps(abci.ProofRuntime(), &cmtcrypto.ProofOps{Ops: ops}, appHash)
	if err != nil {
		return err
	}
	if found {
		return app.CheckAnswer(path, value, entries)
	}
	return app.CheckAbsence(path, entries)
}

// truth is the committed value of key (nil: absent).
func (fx *proofFixture) truth(key []byte) []byte {
	v := fx.c.DB.View()
	defer v.Discard()
	return v.Get(key)
}

// fuzzBytes hands out a fuzz input's bytes as choices, zero when spent.
type fuzzBytes struct{ b []byte }

func (r *fuzzBytes) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	x := r.b[0]
	r.b = r.b[1:]
	return x
}

func (r *fuzzBytes) intn(n int) int {
	if n <= 0 {
		return 0
	}
	return (int(r.byte())<<8 | int(r.byte())) % n
}

func (r *fuzzBytes) empty() bool { return len(r.b) == 0 }

// FuzzProof tampers with true proven answers (proof bytes, values, keys,
// presence, the entry list, the answer, the op's wire form, the app hash,
// the path asked) and verifies the result through the app's verifier and
// through CometBFT's proof runtime with the app's registered operator.
// Whatever verifies must be true: each entry the committed state, the
// answer the true answer for the path asked; nothing panics.
func FuzzProof(f *testing.F) {
	fx := newProofFixture(f)
	for i := range fx.answers {
		f.Add(uint8(i), []byte{})
		for op := range byte(16) {
			f.Add(uint8(i), []byte{op, 0, 0, 0, 17, 0, 3, 0, 1})
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, mut []byte) {
		orig := fx.answers[int(which)%len(fx.answers)]
		asked := orig
		in := &fuzzBytes{b: mut}
		ops := make([]cmtcrypto.ProofOp, len(orig.ops))
		for i, op := range orig.ops {
			ops[i] = cmtcrypto.ProofOp{Type: op.Type, Key: bytes.Clone(op.Key), Data: bytes.Clone(op.Data)}
		}
		value := bytes.Clone(orig.value)
		appHash := bytes.Clone(fx.appHash)
		for n := 0; !in.empty() && n < 8; n++ {
			ops, value, appHash, asked = tamper(t, fx, in, ops, value, appHash, asked)
		}

		for _, v := range []struct {
			name   string
			verify func(string, bool, []byte, []cmtcrypto.ProofOp, []byte) error
		}{{"app verifier", fx.verifyApp}, {"proof runtime", fx.verifyRuntime}} {
			for _, found := range []bool{true, false} {
				err := v.verify(asked.path, found, value, ops, appHash)
				if err != nil {
					if len(mut) == 0 && found == orig.found {
						t.Fatalf("%s: the untouched answer of %s does not verify: %v", v.name, orig.path, err)
					}
					continue
				}
				// It verified: it must be the truth.
				if !bytes.Equal(appHash, fx.appHash) {
					t.Fatalf("%s: %s verified against app hash %X, not the chain's", v.name, asked.path, appHash)
				}
				if found != asked.found {
					t.Fatalf("%s: %s verified as found=%v; it is found=%v", v.name, asked.path, found, asked.found)
				}
				if found && !bytes.Equal(value, asked.value) {
					t.Fatalf("%s: %s verified with answer %x; the true answer is %x", v.name, asked.path, value, asked.value)
				}
				checkEntriesTrue(t, fx, v.name, ops)
			}
		}
		// Each op alone through the runtime, against its own key path
		// and against the other ops' key paths.
		prt := abci.ProofRuntime()
		for i := range ops {
			op, err := prt.Decode(ops[i])
			if err != nil {
				continue
			}
			smt := op.(abci.SMTOp)
			one := &cmtcrypto.ProofOps{Ops: ops[i : i+1]}
			for j := range ops {
				key := smt.Entry.Key
				if j != i {
					e, err := abci.ProvenEntries(&cmtcrypto.ProofOps{Ops: ops[j : j+1]})
					if err != nil {
						continue
					}
					key = e[0].Key
				}
				kp := abci.KeyPath(key)
				if prt.VerifyValue(one, appHash, kp, smt.Entry.Value) == nil {
					if got := fx.truth(key); !bytes.Equal(got, smt.Entry.Value) || got == nil || !bytes.Equal(appHash, fx.appHash) {
						t.Fatalf("op %d verified %x = %x under %X; the state holds %x", i, key, smt.Entry.Value, appHash, got)
					}
				}
				if prt.VerifyAbsence(one, appHash, kp) == nil {
					if got := fx.truth(key); got != nil || !bytes.Equal(appHash, fx.appHash) {
						t.Fatalf("op %d verified %x absent under %X; the state holds %x", i, key, appHash, got)
					}
				}
			}
		}
	})
}

// checkEntriesTrue: every entry of a verified answer is what the
// committed state holds.
func checkEntriesTrue(t *testing.T, fx *proofFixture, who string, ops []cmtcrypto.ProofOp) {
	t.Helper()
	entries, err := abci.ProvenEntries(&cmtcrypto.ProofOps{Ops: ops})
	if err != nil {
		t.Fatalf("%s: an answer verified with ops that do not decode: %v", who, err)
	}
	for _, e := range entries {
		got := fx.truth(e.Key)
		if e.Exists != (got != nil) || (e.Exists && !bytes.Equal(got, e.Value)) {
			t.Fatalf("%s: verified entry %x exists=%v value=%x; the state holds %x", who, e.Key, e.Exists, e.Value, got)
		}
	}
}

// tamper applies one mutation chosen by the input.
func tamper(t *testing.T, fx *proofFixture, in *fuzzBytes, ops []cmtcrypto.ProofOp, value, appHash []byte, asked provenAnswer) ([]cmtcrypto.ProofOp, []byte, []byte, provenAnswer) {
	t.Helper()
	kind := in.byte() % 16
	if len(ops) == 0 && kind < 12 {
		kind = 12 + kind%4
	}
	i := in.intn(len(ops))
	// Entry-level edits decode op i, change the entry, and encode it back.
	edit := func(change func(e *types.ProvenEntry)) {
		es, err := abci.ProvenEntries(&cmtcrypto.ProofOps{Ops: ops[i : i+1]})
		if err != nil {
			return
		}
		change(es[0])
		ops[i] = abci.SMTOp{Entry: es[0]}.ProofOp()
	}
	flip := func(b []byte) {
		if len(b) > 0 {
			b[in.intn(len(b))] ^= 1 << (in.byte() % 8)
		}
	}
	switch kind {
	case 0: // a bit of the proof
		edit(func(e *types.ProvenEntry) { flip(e.Proof) })
	case 1: // the proof cut short
		edit(func(e *types.ProvenEntry) { e.Proof = e.Proof[:in.intn(len(e.Proof)+1)] })
	case 2: // bytes appended to the proof
		edit(func(e *types.ProvenEntry) { e.Proof = append(e.Proof, in.byte(), in.byte()) })
	case 3: // a bit of the value, or a value for an absence
		edit(func(e *types.ProvenEntry) {
			if len(e.Value) == 0 {
				e.Value = []byte{in.byte()}
			} else {
				flip(e.Value)
			}
		})
	case 4: // presence claimed or denied
		edit(func(e *types.ProvenEntry) { e.Exists = !e.Exists })
	case 5: // value dropped (claims absence with the presence proof)
		edit(func(e *types.ProvenEntry) { e.Value, e.Exists = nil, false })
	case 6: // a bit of the key
		edit(func(e *types.ProvenEntry) { flip(e.Key) })
	case 7: // another entry's key, value or proof
		j := in.intn(len(ops))
		es, err := abci.ProvenEntries(&cmtcrypto.ProofOps{Ops: ops[j : j+1]})
		if err != nil {
			break
		}
		o := es[0]
		switch in.byte() % 3 {
		case 0:
			edit(func(e *types.ProvenEntry) { e.Key = bytes.Clone(o.Key) })
		case 1:
			edit(func(e *types.ProvenEntry) { e.Value, e.Exists = bytes.Clone(o.Value), o.Exists })
		case 2:
			edit(func(e *types.ProvenEntry) { e.Proof = bytes.Clone(o.Proof) })
		}
	case 8: // an entry dropped
		ops = append(ops[:i:i], ops[i+1:]...)
	case 9: // an entry twice
		ops = append(ops[:i+1:i+1], ops[i:]...)
	case 10: // two entries swapped
		j := in.intn(len(ops))
		ops[i], ops[j] = ops[j], ops[i]
	case 11: // the op's wire form: its data, its key or its type
		switch in.byte() % 3 {
		case 0:
			flip(ops[i].Data)
			if len(ops[i].Data) > 0 && in.byte()%2 == 0 {
				ops[i].Data = ops[i].Data[:in.intn(len(ops[i].Data))]
			}
		case 1:
			flip(ops[i].Key)
		case 2:
			ops[i].Type = fmt.Sprintf("%s%c", ops[i].Type[:len(ops[i].Type)/2], in.byte())
		}
	case 12: // a bit of the answer
		if len(value) == 0 {
			value = []byte{in.byte()}
		} else {
			flip(value)
		}
	case 13: // the answer cut short or extended
		if in.byte()%2 == 0 {
			value = value[:in.intn(len(value)+1)]
		} else {
			value = append(value, in.byte())
		}
	case 14: // another app hash
		flip(appHash)
	case 15: // asked under another path: the answer must be that path's
		asked = fx.answers[in.intn(len(fx.answers))]
	}
	return ops, value, appHash, asked
}
