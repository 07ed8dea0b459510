package sim

import "github.com/bytepoints/bytepoints/app/crms"

// dayMs is the settlement epoch (SPEC §5.4): the UTC day.
const dayMs = 86_400_000

// epochOf is the UTC day of an instant (floor division, also for negatives).
func epochOf(ms int64) int64 {
	d := ms / dayMs
	if ms%dayMs < 0 {
		d--
	}
	return d
}

// book holds every card's history window, indexed by a dense card number;
// the only map goes from token to number. Both Simulate and Replayer keep
// histories here, with the same insertion rule as the ledger (crms.Insert
// semantics: placed by time, later of equal times last, truncated to N).
type book struct {
	n     int
	ids   map[string]int32
	cards []string
	hist  [][]crms.Flow
}

func newBook(n int) *book {
	return &book{n: n, ids: make(map[string]int32, 1<<16)}
}

// id returns the card's number, adding the card when it is new.
func (b *book) id(card string) (int32, bool) {
	if id, ok := b.ids[card]; ok {
		return id, false
	}
	id := int32(len(b.cards))
	b.ids[card] = id
	b.cards = append(b.cards, card)
	b.hist = append(b.hist, nil)
	return id, true
}

// idDense returns the card's number when the caller already numbers cards
// densely in order of first appearance (a Reader does): no map at all.
func (b *book) idDense(id int32, card string) (int32, bool) {
	if int(id) < len(b.cards) {
		return id, false
	}
	b.cards = append(b.cards, card)
	b.hist = append(b.hist, nil)
	return id, true
}

// record inserts f into the card's window. Capacity grows to N+1 at most, so
// that InsertInPlace on a full window appends within capacity and never
// allocates: most cards pay once or twice and keep a tiny slice.
func (b *book) record(id int32, f crms.Flow) {
	h := b.hist[id]
	if len(h) == cap(h) {
		c := min(max(2*cap(h), 2), b.n+1)
		if c > cap(h) {
			nh := make([]crms.Flow, len(h), c)
			copy(nh, h)
			h = nh
		}
	}
	b.hist[id] = crms.InsertInPlace(h, f, b.n)
}

// budgets tracks each shop's used risk in its current epoch, for k Risk_max
// values side by side. A shop's counters restart when a payment of a later
// UTC day arrives; a payment of an earlier day (possible only for unsorted
// input to a Replayer) is charged to the shop's current epoch, as the chain
// charges a late offline payment to the epoch open when it is recorded.
type budgets struct {
	k    int
	ids  map[string]int32
	day  []int64
	used []int64
}

func newBudgets(k int) *budgets {
	return &budgets{k: k, ids: make(map[string]int32)}
}

// slot returns the k counters of shop for the epoch of tMs.
func (b *budgets) slot(shop string, tMs int64) []int64 {
	id, ok := b.ids[shop]
	if !ok {
		id = int32(len(b.day))
		b.ids[shop] = id
		b.day = append(b.day, epochOf(tMs))
		b.used = append(b.used, make([]int64, b.k)...)
	}
	s := b.used[int(id)*b.k : int(id+1)*b.k]
	if d := epochOf(tMs); d > b.day[id] {
		b.day[id] = d
		clear(s)
	}
	return s
}
