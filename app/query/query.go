// Package query is the plumbing every module's queries share: the answer
// type, the assembler signature, argument parsers and the read recorder
// that lets a proven answer carry a proof for each key it read. It sits
// below the modules (app -> module -> query -> state), so a module's
// query.go and the router in package app use it without a circle.
package query

import (
	"encoding/hex"
	"strconv"

	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// Result answers an abci_query.
type Result struct {
	Code   types.Code
	Log    string
	Value  []byte
	Height int64
	Proofs []*types.ProvenEntry // with prove: one per state key the answer read
}

// An Assembler builds a query's answer from state. The node runs it on
// committed state; a client runs the same function on the proven entries
// to check that the answer follows from them (app.VerifyQuery).
type Assembler func(r store.Reader, args []string) (state.Msg, error)

// Run runs asm, turning a storage fault or a panic into an error.
func Run(asm Assembler, r store.Reader, args []string) (m state.Msg, err error) {
	defer func() {
		if x := recover(); x != nil {
			if f, ok := x.(store.Fault); ok {
				err = f
				return
			}
			err = types.Errorf(types.CodeInternal, "query failed: %v", x)
		}
	}()
	return asm(r, args)
}

// ArgN refuses fewer than n arguments, showing usage.
func ArgN(args []string, n int, usage string) error {
	if len(args) < n {
		return types.Errorf(types.CodeInvalidArgument, "usage: %s", usage)
	}
	return nil
}

// ParseU64 reads a non-negative decimal argument.
func ParseU64(what, s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, types.Errorf(types.CodeInvalidArgument, "%s %q is not a non-negative integer", what, s)
	}
	return v, nil
}

// ParseTxID reads a transaction hash argument (64 hex characters).
func ParseTxID(what, s string) ([]byte, error) {
	id, err := hex.DecodeString(s)
	if err != nil || len(id) != 32 {
		return nil, types.Errorf(types.CodeInvalidArgument, "%s must be 64 hex characters (a tx hash)", what)
	}
	return id, nil
}

// Params reads the governed parameters, or refuses with "not found"
// before genesis.
func Params(r store.Reader) (*types.Params, error) {
	p := state.Params(r)
	if p == nil {
		return nil, types.Errorf(types.CodeNotFound, "chain not initialised")
	}
	return p, nil
}

// Recorder notes every key a query reads, so each can be proven.
type Recorder struct {
	store.Reader
	seen map[string]bool
	keys [][]byte
}

// NewRecorder records the reads made through it from r.
func NewRecorder(r store.Reader) *Recorder {
	return &Recorder{Reader: r, seen: map[string]bool{}}
}

// Keys are the keys read so far, in first-read order.
func (r *Recorder) Keys() [][]byte { return r.keys }

func (r *Recorder) note(k []byte) {
	if !r.seen[string(k)] {
		r.seen[string(k)] = true
		r.keys = append(r.keys, append([]byte(nil), k...))
	}
}

func (r *Recorder) Get(k []byte) []byte { r.note(k); return r.Reader.Get(k) }

func (r *Recorder) Iterator(s, e []byte) store.Iterator {
	return &recIter{Iterator: r.Reader.Iterator(s, e), r: r}
}

func (r *Recorder) ReverseIterator(s, e []byte) store.Iterator {
	return &recIter{Iterator: r.Reader.ReverseIterator(s, e), r: r}
}

type recIter struct {
	store.Iterator
	r *Recorder
}

func (i *recIter) Key() []byte { k := i.Iterator.Key(); i.r.note(k); return k }
