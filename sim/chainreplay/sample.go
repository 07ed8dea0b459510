package chainreplay

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/sim"
	"github.com/bytepoints/bytepoints/types"
)

// Row is one sale of the sample.
type Row struct {
	Trace sim.Trace
	Line  int64  // line in the trace file
	Key   string // idempotency key: the same in every run over the same file
	At    int64  // mapped payment time t', ms (set by the time map)
}

// IsFlow7 reports whether the row claims "no CVM granted by the CRMS": the
// chain re-checks it against the card's history and the seller's budget.
func (r *Row) IsFlow7() bool { return r.Trace.Flow().CVM == crms.CVMNoCVMByCRMS }

// Sample is the rows a replay submits, in time order.
type Sample struct {
	Rows          []Row
	Read          int64 // rows read from the file
	Refunds, Zero int64 // refunds and zero-amount sales left out
	Cards         []string
	PerCard       map[string]int
	FirstMs       int64 // trace time of the oldest and newest row
	LastMs        int64
}

// SampleOptions select the rows.
type SampleOptions struct {
	Limit     int           // at most this many rows (0: all)
	Cards     int           // only the rows of the first Cards cards of the file (0: all)
	UTCOffset time.Duration // of the traces' local clock
}

// LoadSample reads a trace file (the sim format) and selects its sample; see
// the package documentation. name is for messages.
func LoadSample(r io.Reader, name string, o SampleOptions) (*Sample, error) {
	rd, err := sim.NewReader(r)
	if err != nil {
		return nil, err
	}
	rd.SetUTCOffset(o.UTCOffset)
	s := &Sample{PerCard: map[string]int{}}
	keep := map[string]bool{}
	seen := map[[32]byte]int{} // rows of the current second: repeats are counted
	var second int64 = -1
	var t sim.Trace
	for o.Limit <= 0 || len(s.Rows) < o.Limit {
		if err := rd.Read(&t); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		s.Read++
		// The key hashes the row's fields and counts identical rows, so it
		// is the same in every run over the same file and survives unrelated
		// edits. Identical rows share their second and the file is in time
		// order, so only the current second's rows are remembered (identical
		// rows far apart in an unsorted file would share a key: the second
		// comes back replayed and the card's payment count shows it).
		if t.TimeMs != second {
			clear(seen)
			second = t.TimeMs
		}
		h := rowHash(&t)
		occ := seen[h]
		seen[h] = occ + 1
		if o.Cards > 0 && !keep[t.Card] {
			if len(keep) >= o.Cards {
				continue
			}
			keep[t.Card] = true
		}
		if t.Type != sim.TxSale {
			s.Refunds++
			continue
		}
		if t.AmountPaise == 0 {
			s.Zero++
			continue
		}
		if err := types.ValidateCustomerID(t.Card); err != nil {
			return nil, fmt.Errorf("traces: line %d: card token cannot be a customer id: %v", rd.Line(), err)
		}
		if _, ok := s.PerCard[t.Card]; !ok {
			s.Cards = append(s.Cards, t.Card)
		}
		s.PerCard[t.Card]++
		s.Rows = append(s.Rows, Row{Trace: t, Line: rd.Line(), Key: "simreplay-" + hex.EncodeToString(h[:20]) + "-" + strconv.Itoa(occ)})
	}
	if len(s.Rows) == 0 {
		return nil, fmt.Errorf("%s: no sale to replay (read %d rows: %d refunds, %d of amount 0)", name, s.Read, s.Refunds, s.Zero)
	}
	slices.SortStableFunc(s.Rows, func(a, b Row) int {
		switch {
		case a.Trace.TimeMs < b.Trace.TimeMs:
			return -1
		case a.Trace.TimeMs > b.Trace.TimeMs:
			return 1
		}
		return 0
	})
	s.FirstMs, s.LastMs = s.Rows[0].Trace.TimeMs, s.Rows[len(s.Rows)-1].Trace.TimeMs
	return s, nil
}

func rowHash(t *sim.Trace) [32]byte {
	return sha256.Sum256(fmt.Appendf(nil, "%s,%d,%d,%d,%d,%d,%s,%s,%d,%d,%d", t.Card, t.ReadType, t.Date, t.Clock, t.Type,
		t.AmountPaise, t.Terminal, t.Shop, t.CVM, t.VerifyMs, t.Auth))
}
