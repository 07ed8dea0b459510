// Package tiers owns the coalition's tier table and each customer's spend
// buckets (SPEC §5.8). It imports only state and types, so governance
// (package members) can validate and install a table and the ledger and
// package program can read tiers without an import cycle.
package tiers

import (
	"sort"

	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// BucketSeconds is one spend bucket: 365/12 days of block time.
const BucketSeconds = 365 * 86400 / 12

// Buckets is how many buckets count: the current one and the 11 before
// it, never more than 365 days back.
const Buckets = 12

// MaxNameLen bounds a tier's name.
const MaxNameLen = 16

// Table reads the tier table (empty when none was ever set).
func Table(r store.Reader) *types.TierTable {
	t := &types.TierTable{}
	state.Get(r, types.TiersKey(), t)
	return t
}

// Validate checks a proposed table: at most maxTiers tiers, names of
// [a-z0-9-] and unique, thresholds positive and strictly ascending. An
// empty table removes tiers.
func Validate(t *types.TierTable, maxTiers uint32) error {
	if t == nil {
		return types.Errorf(types.CodeInvalidArgument, "set-tiers proposal without a table")
	}
	if len(t.Tiers) > int(maxTiers) {
		return types.Errorf(types.CodeInvalidArgument, "%d tiers proposed; the governed maximum is %d", len(t.Tiers), maxTiers)
	}
	var last uint64
	seen := map[string]bool{}
	for i, x := range t.Tiers {
		if err := ValidateName(x.Name); err != nil {
			return err
		}
		if seen[x.Name] {
			return types.Errorf(types.CodeInvalidArgument, "tier %q is named twice", x.Name)
		}
		seen[x.Name] = true
		if x.ThresholdPaise == 0 || (i > 0 && x.ThresholdPaise <= last) {
			return types.Errorf(types.CodeInvalidAmount, "tier %q begins at %s: thresholds must be positive and ascending", x.Name, types.RupeesText(x.ThresholdPaise))
		}
		last = x.ThresholdPaise
	}
	return nil
}

// ValidateName accepts 1-16 characters of [a-z0-9-], not starting with -.
func ValidateName(n string) error {
	ok := len(n) > 0 && len(n) <= MaxNameLen && n[0] != '-'
	for i := 0; ok && i < len(n); i++ {
		c := n[i]
		ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
	}
	if !ok {
		return types.Errorf(types.CodeInvalidArgument, "tier name %q must be 1 to %d characters of a-z, 0-9 and -", n, MaxNameLen)
	}
	return nil
}

// Install replaces the tier table (a passed proposal).
func Install(c *state.Ctx, t *types.TierTable) {
	state.Put(c.KV, types.TiersKey(), t)
	c.Emit(types.EventMembership, "action", "tiers_changed", "tiers", state.U(uint64(len(t.Tiers))), "actor", c.Actor)
}

// Rank is the position of tier name in t (0 = the lowest tier), or -1.
func Rank(t *types.TierTable, name string) int {
	for i, x := range t.Tiers {
		if x.Name == name {
			return i
		}
	}
	return -1
}

// Bucket is the spend bucket of block time now.
func Bucket(now int64) uint64 {
	if now < 0 {
		return 0
	}
	return uint64(now / BucketSeconds)
}

func spend(r store.Reader, customer string) *types.CustomerSpend {
	s := &types.CustomerSpend{}
	state.Get(r, types.SpendKey(customer), s)
	return s
}

// Counted is the spend counted at time now: the buckets within the window.
func Counted(s *types.CustomerSpend, now int64) uint64 {
	cur := Bucket(now)
	var sum uint64
	for _, b := range s.Buckets {
		if b.Bucket+Buckets > cur && b.Bucket <= cur {
			sum += b.Paise // at most 12 × maxBucketPaise: no overflow
		}
	}
	return sum
}

// maxBucketPaise caps one bucket, so the sum of 12 never overflows
// (10^17 paise: far above any real customer's spend).
const maxBucketPaise = 100_000_000_000_000_000

// Add counts paise of spend at time t for customer (a purchase), dropping
// buckets that left the window.
func Add(kv store.KV, customer string, t int64, paise uint64) {
	s := spend(kv, customer)
	prune(s, t)
	b := Bucket(t)
	i := sort.Search(len(s.Buckets), func(i int) bool { return s.Buckets[i].Bucket >= b })
	if i == len(s.Buckets) || s.Buckets[i].Bucket != b {
		s.Buckets = append(s.Buckets, nil)
		copy(s.Buckets[i+1:], s.Buckets[i:])
		s.Buckets[i] = &types.SpendBucket{Bucket: b}
	}
	s.Buckets[i].Paise = min(maxBucketPaise, s.Buckets[i].Paise+min(paise, maxBucketPaise))
	state.Put(kv, types.SpendKey(customer), s)
}

// Subtract takes a refunded amount off the bucket of the purchase's time
// (booked at t), if that bucket still counts at now; never below zero.
func Subtract(kv store.KV, customer string, t, now int64, paise uint64) {
	s := spend(kv, customer)
	prune(s, now)
	b := Bucket(t)
	for _, x := range s.Buckets {
		if x.Bucket == b {
			x.Paise -= min(x.Paise, paise)
		}
	}
	state.Put(kv, types.SpendKey(customer), s)
}

func prune(s *types.CustomerSpend, now int64) {
	cur := Bucket(now)
	kept := s.Buckets[:0]
	for _, b := range s.Buckets {
		if b.Bucket+Buckets > cur {
			kept = append(kept, b)
		}
	}
	s.Buckets = kept
}

// StatusOf is customer's tier at block time now.
func StatusOf(r store.Reader, customer string, now int64) *types.TierStatus {
	t := Table(r)
	out := &types.TierStatus{SpendPaise: Counted(spend(r, customer), now)}
	for _, x := range t.Tiers {
		if out.SpendPaise >= x.ThresholdPaise {
			out.Tier = x.Name
			continue
		}
		out.NextTier, out.NextTierNeedsPaise = x.Name, x.ThresholdPaise-out.SpendPaise
		break
	}
	return out
}
