package ledger

import (
	"bytes"
	"fmt"

	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// Retention of per-booking records (issue 20). Every purchase, redemption
// and history entry is indexed by its booking time (types.RetentionKey);
// once a record is older than the governed record_retention_seconds it is
// deleted from state, oldest first and at most
// max_record_prunes_per_block per block, like lot expiry. What was booked
// stays in the blocks (CometBFT's block store) and in the back-office
// database; consensus state keeps a bounded window, so at a constant
// booking rate it stops growing once the chain is older than the retention.
//
// A refund or void is decided by time, not by whether pruning has reached
// the record yet (a backlog after a halt drains over later blocks), so
// every validator refuses the same transactions: a record booked longer
// ago than the retention is past it, present or not (CodeRecordPruned).

// markRetained indexes a record under its booking time. Rewriting a
// record (a refund updates its purchase) marks the same key again.
func markRetained(kv store.KV, bookedAt int64, recordKey []byte) {
	state.Mark(kv, types.RetentionKey(bookedAt, recordKey))
}

// retentionOn is false for parameters written before the retention
// existed (a state carried over from an earlier release, whose params have
// no record_retention_seconds): such a chain keeps every record, as it did,
// until governance sets a retention (ValidateParams refuses 0, so every
// set-params proposal sets one).
func retentionOn(c *state.Ctx) bool { return c.Params.RecordRetentionSeconds > 0 }

// retentionCutoff is the booking time before which records are past the
// retention at block time now.
func retentionCutoff(c *state.Ctx) int64 { return c.Time - c.Params.RecordRetentionSeconds }

// pastRetention reports whether a record booked at bookedAt is past the
// retention at the context's time.
func pastRetention(c *state.Ctx, bookedAt int64) bool {
	return retentionOn(c) && bookedAt < retentionCutoff(c)
}

// PrunedTo is the booking time of the newest record pruned so far, and
// false when nothing was ever pruned.
func PrunedTo(r store.Reader) (int64, bool) {
	bz := r.Get(types.PrunedToKey())
	if bz == nil {
		return 0, false
	}
	t, err := types.DecodeTime(bz)
	if err != nil {
		panic(fmt.Sprintf("ledger: %v", err))
	}
	return t, true
}

// PruneRecords deletes per-booking records booked before block time minus
// the retention, oldest first (booking time, then record key), at most
// limit of them. It runs at block end. It returns how many it deleted.
func PruneRecords(c *state.Ctx, limit int) int {
	if limit <= 0 || !retentionOn(c) {
		return 0
	}
	var keys [][]byte
	it := c.KV.Iterator([]byte{types.PrefixRetention}, types.RetentionBound(retentionCutoff(c)))
	for ; it.Valid() && len(keys) < limit; it.Next() {
		keys = append(keys, bytes.Clone(it.Key()))
	}
	it.Close()
	var newest int64
	for _, k := range keys {
		at, rec, err := types.ParseRetentionKey(k)
		if err != nil {
			panic(fmt.Sprintf("ledger: %v", err))
		}
		if !store.Has(c.KV, rec) {
			panic(fmt.Sprintf("ledger: retention index points at a missing record %x", rec))
		}
		c.KV.Delete(rec)
		c.KV.Delete(k)
		newest = at // keys come in time order
	}
	if len(keys) > 0 {
		if old, ok := PrunedTo(c.KV); !ok || newest > old {
			c.KV.Set(types.PrunedToKey(), types.EncodeTime(newest))
		}
	}
	return len(keys)
}

// prunedError is the refusal of a refund or void of a record past the
// retention. bookedAt is the record's booking time when it is still in
// state (awaiting pruning), or nil when it is gone.
func prunedError(c *state.Ctx, what string, id []byte, bookedAt *int64) error {
	days := types.SecondsText(c.Params.RecordRetentionSeconds)
	if bookedAt != nil {
		return types.Errorf(types.CodeRecordPruned,
			"%s %x was booked on %s, more than the record retention of %s before this block (%s): it can no longer be refunded or voided; its booking stays in the blocks and the back office",
			what, id, types.TimeText(*bookedAt), days, types.TimeText(c.Time))
	}
	prunedTo, _ := PrunedTo(c.KV)
	return types.Errorf(types.CodeRecordPruned,
		"%s %x is not in state: records booked before %s (the record retention of %s before this block) are pruned, up to bookings of %s so far; if it was booked then, it is past the retention and can no longer be refunded or voided (its booking stays in the blocks and the back office), otherwise no such %s exists",
		what, id, types.TimeText(retentionCutoff(c)), days, types.TimeText(prunedTo), what)
}

// missingRecord is the refusal of a refund or void whose record is not in
// state: not_found while nothing was ever pruned, else record_pruned (the
// chain keeps no list of pruned ids: that is what keeps state flat).
func missingRecord(c *state.Ctx, what string, id []byte) error {
	if _, ok := PrunedTo(c.KV); !ok {
		return types.Errorf(types.CodeNotFound, "%s %x does not exist", what, id)
	}
	return prunedError(c, what, id, nil)
}

// CheckRetentionIndex is the invariant of the retention index: every
// purchase, redemption and history entry has exactly one index entry, at
// its booking time, and every index entry names a stored record; each
// customer's history entries in state are the newest ones, consecutive up
// to its history count (pruning takes a customer's oldest first).
func CheckRetentionIndex(r store.Reader) error {
	var err error
	indexed := 0
	store.Each(r, []byte{types.PrefixRetention}, func(k, _ []byte) bool {
		at, rec, e := types.ParseRetentionKey(k)
		if e != nil {
			err = e
			return false
		}
		bz := r.Get(rec)
		if bz == nil {
			err = fmt.Errorf("retention entry for missing record %x", rec)
			return false
		}
		t, e := bookedAt(rec, bz)
		if e != nil {
			err = e
			return false
		}
		if t != at {
			err = fmt.Errorf("record %x booked at %d is indexed at %d", rec, t, at)
			return false
		}
		indexed++
		return true
	})
	if err != nil {
		return err
	}
	records := 0
	count := func(prefix byte) {
		store.Each(r, []byte{prefix}, func(_, _ []byte) bool { records++; return true })
	}
	count(types.PrefixPurchase)
	count(types.PrefixRedemption)
	// History: per customer, the stored sequence numbers are first..count-1.
	var cust string
	var next uint64
	var started bool
	flush := func() error {
		if !started {
			return nil
		}
		c, _ := Customer(r, cust)
		if next != c.HistoryCount {
			return fmt.Errorf("customer %s history ends at entry %d but its count is %d", cust, next, c.HistoryCount)
		}
		return nil
	}
	store.Each(r, []byte{types.PrefixHistory}, func(k, v []byte) bool {
		records++
		n := int(k[1])
		id := string(k[2 : 2+n])
		var e types.HistoryEntry
		state.Decode(k, v, &e)
		if !started || id != cust {
			if err = flush(); err != nil {
				return false
			}
			cust, next, started = id, e.Seq, true
		}
		if e.Seq != next {
			err = fmt.Errorf("customer %s history has a gap before entry %d", id, e.Seq)
			return false
		}
		next++
		return true
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	if records != indexed {
		return fmt.Errorf("%d purchases, redemptions and history entries but %d retention entries", records, indexed)
	}
	return nil
}

// bookedAt is the booking time of a stored per-booking record.
func bookedAt(key, value []byte) (int64, error) {
	switch key[0] {
	case types.PrefixPurchase:
		var p types.Purchase
		state.Decode(key, value, &p)
		return p.Time, nil
	case types.PrefixRedemption:
		var x types.Redemption
		state.Decode(key, value, &x)
		return x.Time, nil
	case types.PrefixHistory:
		var e types.HistoryEntry
		state.Decode(key, value, &e)
		return e.Time, nil
	}
	return 0, fmt.Errorf("retention entry names %x, which is no per-booking record", key)
}
