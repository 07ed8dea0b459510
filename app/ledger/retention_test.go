package ledger

import (
	"strings"
	"testing"

	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// retained lists the record keys the retention index holds, in its order.
func retained(kv store.Reader) []string {
	var out []string
	store.Each(kv, []byte{types.PrefixRetention}, func(k, _ []byte) bool {
		_, rec, err := types.ParseRetentionKey(k)
		if err != nil {
			panic(err)
		}
		out = append(out, string(rec))
		return true
	})
	return out
}

// Pruning takes the oldest records first (booking time, then key), at most
// the limit per call, never one inside the retention, and keeps the index
// and each customer's history consistent.
func TestPruneRecordsOrderAndBound(t *testing.T) {
	const retention = 400 * day
	type booking struct {
		at   int64 // days after the start
		cust string
	}
	bookings := []booking{{0, "b"}, {0, "a"}, {1, "a"}, {2, "c"}, {3, "b"}, {10, "a"}}
	cases := []struct {
		name  string
		now   int64 // days after the start
		limit int
		want  int // records pruned by the call
	}{
		{"nothing past retention", 400, 100, 0},
		{"the first day's records", 401, 100, 4}, // 2 purchases + 2 history entries at day 0
		{"bounded per call", 403, 3, 3},
		{"the backlog drains in the next call", 403, 100, 1},
		{"records inside the retention stay", 403, 100, 0},
		{"the next day past the retention", 409, 100, 2},
		{"zero limit prunes nothing", 500, 0, 0},
		{"the rest", 500, 100, 2},
	}
	e := newEnv(t)
	e.c.Params.RecordRetentionSeconds = retention
	start := e.c.Time
	for _, b := range bookings {
		e.c.Time = start + b.at*day
		e.issue("seller-a", b.cust, 10000)
	}
	if n := len(retained(e.kv)); n != 2*len(bookings) {
		t.Fatalf("%d records indexed, want a purchase and a history entry per booking (%d)", n, 2*len(bookings))
	}
	for _, tc := range cases {
		e.c.Time = start + tc.now*day
		before := retained(e.kv)
		got := PruneRecords(e.c, tc.limit)
		after := retained(e.kv)
		if got != tc.want || len(before)-len(after) != tc.want {
			t.Fatalf("%s: pruned %d (index %d -> %d), want %d", tc.name, got, len(before), len(after), tc.want)
		}
		// What was pruned is the head of the time-ordered index, and gone.
		for _, rec := range before[:got] {
			if store.Has(e.kv, []byte(rec)) {
				t.Fatalf("%s: record %x pruned from the index but still stored", tc.name, rec)
			}
		}
		if strings.Join(after, "|") != strings.Join(before[got:], "|") {
			t.Fatalf("%s: pruning did not take the oldest first", tc.name)
		}
		// No record inside the retention went.
		cutoff := e.c.Time - retention
		store.Each(e.kv, []byte{types.PrefixRetention}, func(k, _ []byte) bool {
			at, _, _ := types.ParseRetentionKey(k)
			if at < cutoff && tc.limit > got {
				t.Fatalf("%s: a record booked at %d is past the cutoff %d but kept", tc.name, at, cutoff)
			}
			return true
		})
		if err := CheckRetentionIndex(e.kv); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	if len(retained(e.kv)) != 0 {
		t.Fatal("records left after every booking passed the retention")
	}
	// Customers, their counts and their balances are untouched by pruning.
	a, _ := Customer(e.kv, "a")
	if a.HistoryCount != 3 {
		t.Fatalf("customer a's history count %d, want 3", a.HistoryCount)
	}
}

// A refund or void of a record past the retention is refused with
// record_pruned, whether pruning has reached it yet or not; inside the
// retention it works; an unknown id is not_found until anything is pruned.
func TestRefundAndVoidPastRetention(t *testing.T) {
	const retention = 400 * day
	e := newEnv(t)
	e.c.Params.RecordRetentionSeconds = retention
	start := e.c.Time
	old := e.issue("seller-a", "c", 10000).PurchaseId
	redID := e.tx()
	if _, err := Redeem(e.c, Redemption{SellerID: "seller-a", CustomerID: "c", Points: 10, BillPaise: 1000}, 0); err != nil {
		t.Fatal(err)
	}
	e.c.Time = start + 300*day
	recent := e.issue("seller-a", "c", 10000).PurchaseId
	unknown := make([]byte, 32)
	unknown[0] = 0xee

	type step struct {
		name    string
		now     int64 // days after start
		prune   bool  // run the block-end pruning first
		refund  []byte
		void    []byte
		code    types.Code
		mention []string // the log names these
	}
	steps := []step{
		{"unknown purchase before any pruning", 1, false, unknown, nil, types.CodeNotFound, nil},
		{"inside the retention", 400, false, old, nil, types.CodeOK, nil},
		{"past the retention, still awaiting pruning", 401, false, old, nil, types.CodeRecordPruned,
			[]string{"booked on 2026-01-01T00:00:00Z", "400 days"}},
		{"void past the retention, awaiting pruning", 401, false, nil, redID, types.CodeRecordPruned,
			[]string{"redemption", "booked on 2026-01-01T00:00:00Z", "400 days"}},
		{"past the retention and pruned", 401, true, old, nil, types.CodeRecordPruned,
			[]string{"not in state", "400 days", "2026-01-01T00:00:00Z"}},
		{"void of a pruned redemption", 401, false, nil, redID, types.CodeRecordPruned, []string{"redemption", "400 days"}},
		{"a recent purchase still refunds", 401, false, recent, nil, types.CodeOK, nil},
		{"unknown id once records were pruned", 401, false, unknown, nil, types.CodeRecordPruned, []string{"otherwise no such purchase exists"}},
	}
	for _, s := range steps {
		e.c.Time = start + s.now*day
		if s.prune {
			if n := PruneRecords(e.c, 100); n == 0 {
				t.Fatalf("%s: nothing pruned", s.name)
			}
		}
		e.tx()
		var err error
		if s.refund != nil {
			_, err = Refund(e.c, "seller-a", s.refund, 100)
		} else {
			_, err = Void(e.c, "seller-a", s.void, 0)
		}
		if types.CodeOf(err) != s.code {
			t.Fatalf("%s: got %v, want %s", s.name, err, s.code.Name())
		}
		for _, m := range s.mention {
			if !strings.Contains(err.Error(), m) {
				t.Fatalf("%s: log %q does not name %q", s.name, err, m)
			}
		}
		if err := CheckRetentionIndex(e.kv); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
}

// Parameters written before the retention existed (0) keep every record.
func TestRetentionOffKeepsRecords(t *testing.T) {
	e := newEnv(t)
	id := e.issue("seller-a", "c", 10000).PurchaseId
	e.c.Time += 3650 * day
	if n := PruneRecords(e.c, 100); n != 0 {
		t.Fatalf("pruned %d with no retention set", n)
	}
	if _, ok := PurchaseRecord(e.kv, id); !ok {
		t.Fatal("purchase gone")
	}
}
