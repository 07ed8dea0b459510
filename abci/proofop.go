package abci

import (
	"fmt"

	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
	"github.com/cometbft/cometbft/crypto/merkle"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
)

// SMTOp is the app's Merkle proof as a CometBFT proof operator: one key of
// the state trie, proven present with a value or absent, against the app
// hash. Registered in ProofRuntime under ProofOpType, it lets CometBFT's
// merkle.ProofRuntime (and so light/rpc) check our query answers.
type SMTOp struct {
	Entry *types.ProvenEntry
}

var _ merkle.ProofOperator = SMTOp{}

// Run takes the proven value (one argument) or nothing (an absence proof)
// and returns the root the proof leads to.
func (op SMTOp) Run(args [][]byte) ([][]byte, error) {
	var value []byte
	switch len(args) {
	case 0:
	case 1:
		value = args[0]
		if value == nil {
			value = []byte{}
		}
	default:
		return nil, fmt.Errorf("%s proves one value, not %d", ProofOpType, len(args))
	}
	if (value != nil) != op.Entry.Exists {
		if op.Entry.Exists {
			return nil, fmt.Errorf("proof for %x shows a value, not its absence", op.Entry.Key)
		}
		return nil, fmt.Errorf("proof for %x shows absence, not a value", op.Entry.Key)
	}
	root, err := store.ProofRoot(op.Entry.Key, value, op.Entry.Proof)
	if err != nil {
		return nil, err
	}
	return [][]byte{root}, nil
}

// GetKey is the state key proven.
func (op SMTOp) GetKey() []byte { return op.Entry.Key }

// The proof op codec: a ProvenEntry travels as a ProofOp of type
// ProofOpType, its key the entry's key, its data the entry's encoding.
// encodeProofOp and decodeProofOp are the only two places that know it.

// ProofOp encodes the operator as it travels in ResponseQuery.ProofOps.
func (op SMTOp) ProofOp() cmtcrypto.ProofOp {
	p, err := encodeProofOp(op.Entry)
	if err != nil {
		panic(err) // a ProvenEntry always marshals
	}
	return p
}

func encodeProofOp(e *types.ProvenEntry) (cmtcrypto.ProofOp, error) {
	bz, err := e.Marshal()
	if err != nil {
		return cmtcrypto.ProofOp{}, err
	}
	return cmtcrypto.ProofOp{Type: ProofOpType, Key: e.Key, Data: bz}, nil
}

// DecodeSMTOp decodes a ProofOp of type ProofOpType.
func DecodeSMTOp(p cmtcrypto.ProofOp) (merkle.ProofOperator, error) {
	e, err := decodeProofOp(p)
	if err != nil {
		return nil, err
	}
	return SMTOp{Entry: e}, nil
}

// ProvenEntries decodes the proof ops of a query answer (without checking
// them: VerifyProofOps does).
func ProvenEntries(ops *cmtcrypto.ProofOps) ([]*types.ProvenEntry, error) {
	if ops == nil {
		return nil, nil
	}
	var out []*types.ProvenEntry
	for _, op := range ops.Ops {
		e, err := decodeProofOp(op)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func decodeProofOp(p cmtcrypto.ProofOp) (*types.ProvenEntry, error) {
	if p.Type != ProofOpType {
		return nil, fmt.Errorf("unexpected proof op type %q, want %q", p.Type, ProofOpType)
	}
	var e types.ProvenEntry
	if err := e.Unmarshal(p.Data); err != nil {
		return nil, fmt.Errorf("%s proof op: %w", ProofOpType, err)
	}
	if string(e.Key) != string(p.Key) {
		return nil, fmt.Errorf("%s proof op: key %x does not match its entry's key %x", ProofOpType, p.Key, e.Key)
	}
	return &e, nil
}

// ProofRuntime is CometBFT's proof runtime with the app's operator
// registered.
func ProofRuntime() *merkle.ProofRuntime {
	prt := merkle.NewProofRuntime()
	prt.RegisterOpDecoder(ProofOpType, DecodeSMTOp)
	return prt
}

// KeyPath is the merkle key path of one state key (hex-encoded, as
// merkle.KeyPath writes it), for ProofRuntime.VerifyValue/VerifyAbsence.
func KeyPath(key []byte) string {
	return merkle.KeyPath{}.AppendKey(key, merkle.KeyEncodingHex).String()
}

// VerifyProofOps checks every op of an answer against appHash through the
// proof runtime: each proves its key present with its value, or absent.
// It returns the proven entries.
func VerifyProofOps(prt *merkle.ProofRuntime, ops *cmtcrypto.ProofOps, appHash []byte) ([]*types.ProvenEntry, error) {
	if ops == nil {
		return nil, nil
	}
	out := make([]*types.ProvenEntry, 0, len(ops.Ops))
	for i := range ops.Ops {
		op, err := prt.Decode(ops.Ops[i])
		if err != nil {
			return nil, err
		}
		smt, ok := op.(SMTOp)
		if !ok {
			return nil, fmt.Errorf("proof op %d is not a %s proof", i, ProofOpType)
		}
		one := &cmtcrypto.ProofOps{Ops: ops.Ops[i : i+1]}
		kp := KeyPath(smt.Entry.Key)
		if smt.Entry.Exists {
			err = prt.VerifyValue(one, appHash, kp, smt.Entry.Value)
		} else {
			err = prt.VerifyAbsence(one, appHash, kp)
		}
		if err != nil {
			return nil, fmt.Errorf("proof for state key %x does not verify against app hash %x: %w", smt.Entry.Key, appHash, err)
		}
		out = append(out, smt.Entry)
	}
	return out, nil
}
