package state

import (
	"fmt"
	"strconv"

	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// Msg is a generated protobuf message.
type Msg interface {
	Marshal() ([]byte, error)
	Unmarshal([]byte) error
	Reset()
}

// Get decodes the record at key into m; false when absent. A record that
// does not decode is state corruption, never a user error.
func Get(r store.Reader, key []byte, m Msg) bool {
	bz := r.Get(key)
	if bz == nil {
		return false
	}
	Decode(key, bz, m)
	return true
}

// Decode decodes a stored record value (as iterators yield it) into m.
func Decode(key, bz []byte, m Msg) {
	m.Reset()
	if len(bz) == 1 && bz[0] == emptyRecord[0] {
		return
	}
	if err := m.Unmarshal(bz); err != nil {
		panic(store.Fault{Err: fmt.Errorf("decode record %x: %w", key, err)})
	}
}

// List decodes every record under prefix, in key order, each into a new
// M from newM.
func List[M Msg](r store.Reader, prefix []byte, newM func() M) []M {
	var out []M
	store.Each(r, prefix, func(k, v []byte) bool {
		m := newM()
		Decode(k, v, m)
		out = append(out, m)
		return true
	})
	return out
}

// Put encodes m under key.
func Put(kv store.KV, key []byte, m Msg) {
	bz, err := m.Marshal()
	if err != nil {
		panic(fmt.Sprintf("encode record %x: %v", key, err))
	}
	if len(bz) == 0 {
		bz = emptyRecord // an all-default record still exists
	}
	kv.Set(key, bz)
}

// Mark sets an index entry: a key whose presence is all it says.
func Mark(kv store.KV, key []byte) { kv.Set(key, marker) }

// The store keeps no empty values (the trie cannot tell them from absence):
// index entries hold marker, and a record whose protobuf encoding is empty
// is stored as emptyRecord, a byte that is never a valid protobuf encoding.
var (
	marker      = []byte{0x01}
	emptyRecord = []byte{0x00}
)

// Ctx is what a handler sees: the state branch it writes into, the block's
// height and time (never a clock), the parameters, and where its events go.
type Ctx struct {
	KV     store.KV
	Height int64
	Time   int64 // block time, Unix seconds
	TimeMs int64 // block time, Unix milliseconds
	Params *types.Params
	TxHash []byte
	Actor  string // seller id (and terminal) acting, or types.ActorChain
	// Admission is set for mempool admission (CheckTx): a handler may stop
	// once it knows the transaction would be accepted, without booking
	// what the block will book anyway. What it writes is dropped.
	Admission bool
	events    []types.Event
}

// Emit records an event. Attribute values are given as key, value pairs.
func (c *Ctx) Emit(typ string, kv ...string) {
	ev := types.Event{Type: typ}
	for i := 0; i+1 < len(kv); i += 2 {
		ev.Attrs = append(ev.Attrs, types.Attr{Key: kv[i], Value: kv[i+1]})
	}
	c.events = append(c.events, ev)
}

// Events returns the events emitted so far.
func (c *Ctx) Events() []types.Event { return c.events }

// ResetEvents drops events (a failed transaction emits none).
func (c *Ctx) ResetEvents() { c.events = nil }

// U and I format integers for events.
func U(v uint64) string { return strconv.FormatUint(v, 10) }
func I(v int64) string  { return strconv.FormatInt(v, 10) }
