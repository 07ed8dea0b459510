package crms

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Flow is one past payment of a card as the reputation needs it: when it
// happened and how it rated. The rating is frozen when the flow is recorded
// (SPEC §6.1 "each flow has a constant rating"), so a later change of the
// rating table does not rewrite history.
type Flow struct {
	TimeMs     int64 // payment time, ms since the Unix epoch (terminal time, §6.5)
	RatingNano int64 // in [0, 1e9]
}

// before is the canonical order of a history: by time, and among equal times
// the higher rating first, so the lower-rated flow counts as the more recent
// (rank 0 weighs most) — the conservative reading of a tie.
func before(a, b Flow) bool {
	if a.TimeMs != b.TimeMs {
		return a.TimeMs < b.TimeMs
	}
	return a.RatingNano > b.RatingNano
}

// upperBound returns the index after the last flow with TimeMs ≤ t in a
// history sorted by time.
func upperBound(h []Flow, t int64) int {
	lo, hi := 0, len(h)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if h[mid].TimeMs <= t {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// Insert returns a new slice holding history (sorted by time) with f placed
// by its time — a late payment from an offline terminal lands among the flows
// it preceded; on equal times f goes after the existing ones — truncated to
// the n most recent flows. It never writes to history's backing array, and
// the result never shares it, so a history loaded from state can be kept as
// is. n ≤ 0 yields an empty (non-nil) slice.
func Insert(history []Flow, f Flow, n int) []Flow {
	if n <= 0 {
		return []Flow{}
	}
	pos := upperBound(history, f.TimeMs)
	total := len(history) + 1
	skip := max(total-n, 0)
	out := make([]Flow, 0, total-skip)
	// The merged sequence is history[:pos], f, history[pos:]; drop its first
	// skip elements.
	if skip < pos {
		out = append(out, history[skip:pos]...)
		out = append(out, f)
		out = append(out, history[pos:]...)
	} else {
		if skip == pos {
			out = append(out, f)
		}
		from := max(skip-1, pos)
		out = append(out, history[from:]...)
	}
	return out
}

// InsertInPlace is Insert that reuses history's backing array: the caller
// must own history and not use the old slice afterwards. It allocates only
// when history is at capacity. For the simulator, which keeps one history per
// card in memory.
func InsertInPlace(history []Flow, f Flow, n int) []Flow {
	if n <= 0 {
		return history[:0]
	}
	pos := upperBound(history, f.TimeMs)
	history = append(history, Flow{})
	copy(history[pos+1:], history[pos:])
	history[pos] = f
	if over := len(history) - n; over > 0 {
		copy(history, history[over:])
		history = history[:n]
	}
	return history
}

// History encoding, for storing a card's window as one value: a uvarint
// count, then per flow the time as a uvarint delta from the previous flow
// (from 0 for the first; computed modulo 2^64, which is a bijection, so
// out-of-order or negative times round-trip exactly) and the rating as a
// uvarint. A 20-flow window of a typical card takes ~6 + 20·(4+5) ≈ 190
// bytes. Decoding is strict: canonical varints only, no trailing bytes,
// ratings in range, count ≤ MaxHistoryEncoded — so one history has exactly
// one encoding and the app hash cannot depend on an encoder's whims.

// MaxHistoryEncoded bounds the number of flows DecodeHistory accepts.
const MaxHistoryEncoded = MaxN

// ErrBadHistory wraps every DecodeHistory failure.
var ErrBadHistory = errors.New("crms: bad history encoding")

// AppendHistory appends the encoding of h to dst.
func AppendHistory(dst []byte, h []Flow) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(h)))
	prev := uint64(0)
	for _, f := range h {
		t := uint64(f.TimeMs)
		dst = binary.AppendUvarint(dst, t-prev)
		dst = binary.AppendUvarint(dst, uint64(f.RatingNano))
		prev = t
	}
	return dst
}

// DecodeHistory decodes b, appending the flows to dst[:0].
func DecodeHistory(b []byte, dst []Flow) ([]Flow, error) {
	dst = dst[:0]
	n, b, err := readUvarint(b)
	if err != nil {
		return nil, err
	}
	if n > MaxHistoryEncoded {
		return nil, fmt.Errorf("%w: %d flows, max %d", ErrBadHistory, n, MaxHistoryEncoded)
	}
	prev := uint64(0)
	for i := uint64(0); i < n; i++ {
		var d, r uint64
		if d, b, err = readUvarint(b); err != nil {
			return nil, err
		}
		if r, b, err = readUvarint(b); err != nil {
			return nil, err
		}
		if r > uint64(Nano) {
			return nil, fmt.Errorf("%w: flow %d rating %d > %d", ErrBadHistory, i, r, Nano)
		}
		prev += d
		dst = append(dst, Flow{TimeMs: int64(prev), RatingNano: int64(r)})
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrBadHistory, len(b))
	}
	return dst, nil
}

func readUvarint(b []byte) (uint64, []byte, error) {
	v, k := binary.Uvarint(b)
	if k <= 0 {
		return 0, nil, fmt.Errorf("%w: truncated or overlong varint", ErrBadHistory)
	}
	if k > 1 && b[k-1] == 0 {
		return 0, nil, fmt.Errorf("%w: non-canonical varint", ErrBadHistory)
	}
	return v, b[k:], nil
}
