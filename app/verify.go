package app

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/bytepoints/bytepoints/app/query"
	"github.com/bytepoints/bytepoints/app/risk"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// The client side of proven queries: a light client (node/client) checks
// a proven answer by re-running the path's assembler on the proven
// entries alone. Nothing here reads a node's state.

// VerifyQuery checks a proven answer against an app hash: every entry's
// proof, and that the answer is exactly what the proven entries give. The
// answer is re-assembled from the proven entries alone: a read of a key no
// entry proves (present or absent) fails, so an omitted proof can never
// pass for an absent record. List answers are complete by construction:
// they point-read entries by a proven count or sequence, or check that
// what a prefix holds matches a proven count (docs/protocol.md, Queries).
func VerifyQuery(path string, value []byte, proofs []*types.ProvenEntry, appHash []byte) error {
	if err := verifyEntries(proofs, appHash); err != nil {
		return err
	}
	return CheckAnswer(path, value, proofs)
}

// CheckAnswer is VerifyQuery for entries already verified against the app
// hash (by CometBFT's proof runtime, node/client): the answer must be
// exactly what the proven entries give.
func CheckAnswer(path string, value []byte, proven []*types.ProvenEntry) error {
	msg, err := reassemble(path, proven)
	if err != nil {
		return err
	}
	bz, err := msg.Marshal()
	if err != nil {
		return err
	}
	if !bytes.Equal(bz, value) {
		return fmt.Errorf("the answer differs from what the proven entries give")
	}
	return nil
}

// VerifyAbsence checks a "not found" answer (code CodeNotFound, e.g.
// /seller/x for no seller x, /statement/N for an epoch without a
// statement, /purchase/h, /proposal/N) against an app hash: the proofs
// the answer carries must verify, and the proven entries must give "not
// found" for path, e.g. the proven absence of the record.
func VerifyAbsence(path string, proofs []*types.ProvenEntry, appHash []byte) error {
	if err := verifyEntries(proofs, appHash); err != nil {
		return err
	}
	return CheckAbsence(path, proofs)
}

// CheckAbsence is VerifyAbsence for entries already verified against the
// app hash.
func CheckAbsence(path string, proven []*types.ProvenEntry) error {
	if len(proven) == 0 {
		return fmt.Errorf("the answer carries no proofs")
	}
	_, err := reassemble(path, proven)
	var refused *assembleError
	switch {
	case err == nil:
		return fmt.Errorf("the proven entries give an answer for %s: it is not missing", path)
	case errors.As(err, &refused) && types.CodeOf(refused.err) == types.CodeNotFound:
		return nil
	}
	return err
}

// assembleError is an assembler's refusal on proven entries.
type assembleError struct{ err error }

func (e *assembleError) Error() string {
	return fmt.Sprintf("the proven entries do not support the answer: %v", e.err)
}
func (e *assembleError) Unwrap() error { return e.err }

// verifyEntries checks every entry's proof against appHash.
func verifyEntries(proofs []*types.ProvenEntry, appHash []byte) error {
	for _, e := range proofs {
		if err := store.VerifyEntry(e, appHash); err != nil {
			return err
		}
	}
	return nil
}

// reassemble runs path's assembler on the (verified) proven entries only.
func reassemble(path string, proofs []*types.ProvenEntry) (state.Msg, error) {
	name, args := splitPath(path)
	// A fresh engine cache: the verifier keeps no state between answers.
	asm, ok := assemblers(&risk.Keeper{})[name]
	if !ok {
		return nil, fmt.Errorf("path %q cannot be verified", path)
	}
	pr := &provenReader{kv: store.NewMemKV(), proven: make(map[string]bool, len(proofs))}
	for _, e := range proofs {
		pr.proven[string(e.Key)] = true
		if e.Exists {
			pr.kv.Set(e.Key, e.Value)
		}
	}
	msg, err := query.Run(asm, pr, args)
	if pr.unproven != nil {
		if len(proofs) == 0 {
			return nil, fmt.Errorf("the answer carries no proofs")
		}
		return nil, fmt.Errorf("the answer depends on key %x, for which it carries no proof", pr.unproven)
	}
	if err != nil {
		return nil, &assembleError{err: err}
	}
	if len(proofs) == 0 {
		// Only an answer that read no state at all gets here; none does.
		return nil, fmt.Errorf("the answer carries no proofs")
	}
	return msg, nil
}

// provenReader is state as far as a proven answer shows it. Reading a key
// that no entry proves is refused (the assembler stops); iteration yields
// the proven present keys, and the assemblers check those against proven
// counts.
type provenReader struct {
	kv       *store.MemKV
	proven   map[string]bool
	unproven []byte
}

func (p *provenReader) Get(k []byte) []byte {
	if !p.proven[string(k)] {
		p.unproven = append([]byte(nil), k...)
		panic(store.Fault{Err: fmt.Errorf("no proof for key %x", k)})
	}
	return p.kv.Get(k)
}

func (p *provenReader) Iterator(s, e []byte) store.Iterator { return p.kv.Iterator(s, e) }

func (p *provenReader) ReverseIterator(s, e []byte) store.Iterator {
	return p.kv.ReverseIterator(s, e)
}
