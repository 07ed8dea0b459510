package app

import (
	"fmt"
	"math/big"

	"github.com/bytepoints/bytepoints/app/imports"
	"github.com/bytepoints/bytepoints/app/ledger"
	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/program"
	"github.com/bytepoints/bytepoints/app/program/tiers"
	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// Invariant is a named conservation law of SPEC §5.5.
type Invariant struct {
	Name  string
	Check func(r store.Reader) error
}

// Invariants are checked after every block in tests and, with
// --check-invariants, by the node (which halts naming the broken one).
var Invariants = []Invariant{
	{"balances-equal-lots", checkBalancesEqualLots},
	{"escrow-backs-outstanding", checkEscrow},
	{"expiry-index-matches-lots", checkExpiryIndex},
	{"list-counts-match", checkListCounts},
	{"pending-matches-lots", checkPending},
	{"campaigns-within-budget", checkCampaigns},
	{"tiers-and-referrals-bounded", checkTiersAndReferrals},
	{"retention-index-matches-records", ledger.CheckRetentionIndex},
	{"imports-match-approvals", imports.CheckInvariant},
}

// CheckInvariants runs every invariant; the error names the first broken one.
func CheckInvariants(r store.Reader) error {
	for _, inv := range Invariants {
		if err := inv.Check(r); err != nil {
			return fmt.Errorf("invariant %s broken: %w", inv.Name, err)
		}
	}
	return nil
}

// checkBalancesEqualLots: every customer's balance is the sum of its lots,
// no lot is empty or above its original size, and Σ balances = Σ lot points
// = the outstanding points total.
func checkBalancesEqualLots(r store.Reader) error {
	totals := state.Totals(r)
	lotSum := map[string]uint64{}
	lotCount := map[string]uint32{}
	var allLots, nLots uint64
	var err error
	store.Each(r, []byte{types.PrefixLot}, func(k, v []byte) bool {
		var l types.Lot
		if e := l.Unmarshal(v); e != nil {
			err = e
			return false
		}
		cust := string(k[2 : 2+int(k[1])])
		if l.Points == 0 {
			err = fmt.Errorf("customer %s has an empty lot %d", cust, l.Seq)
			return false
		}
		if l.Points > l.OriginalPoints {
			err = fmt.Errorf("customer %s lot %d holds %d points, more than the %d issued", cust, l.Seq, l.Points, l.OriginalPoints)
			return false
		}
		lotSum[cust] += l.Points
		lotCount[cust]++
		allLots += l.Points
		nLots++
		return true
	})
	if err != nil {
		return err
	}
	var balances, customers uint64
	store.Each(r, types.CustomerPrefix(), func(k, v []byte) bool {
		var c types.Customer
		state.Decode(k, v, &c)
		customers++
		balances += c.Points
		if lotSum[c.CustomerId] != c.Points {
			err = fmt.Errorf("customer %s balance %d but lots hold %d", c.CustomerId, c.Points, lotSum[c.CustomerId])
			return false
		}
		if lotCount[c.CustomerId] != c.LotCount {
			err = fmt.Errorf("customer %s records %d lots but has %d", c.CustomerId, c.LotCount, lotCount[c.CustomerId])
			return false
		}
		delete(lotSum, c.CustomerId)
		return true
	})
	if err != nil {
		return err
	}
	for cust, pts := range lotSum {
		return fmt.Errorf("lots of %d points belong to %s, who has no account", pts, cust)
	}
	if balances != allLots || balances != totals.OutstandingPoints {
		return fmt.Errorf("Σ balances %d, Σ lots %d, outstanding total %d differ", balances, allLots, totals.OutstandingPoints)
	}
	if nLots != totals.Lots {
		return fmt.Errorf("%d lots exist but the total records %d", nLots, totals.Lots)
	}
	if customers != totals.Customers {
		return fmt.Errorf("%d customers exist but the total records %d", customers, totals.Customers)
	}
	return nil
}

// checkEscrow: the escrow holds exactly 100 × outstanding points, and it is
// the negated sum of all sellers' cumulative positions.
func checkEscrow(r store.Reader) error {
	totals := state.Totals(r)
	want, err := types.MulU64("escrow", totals.OutstandingPoints, 100)
	if err != nil {
		return err
	}
	if totals.EscrowPaise != want {
		return fmt.Errorf("escrow holds %d paise but outstanding points are worth %d", totals.EscrowPaise, want)
	}
	// Summed in big integers: partial sums of int64 positions may overflow
	// even when the total is small.
	sum := new(big.Int)
	for _, s := range members.Sellers(r) {
		sum.Add(sum, big.NewInt(s.PositionPaise))
	}
	if sum.Add(sum, new(big.Int).SetUint64(want)).Sign() != 0 {
		return fmt.Errorf("Σ seller positions + escrow %d = %s ≠ 0", want, sum)
	}
	return nil
}

// checkExpiryIndex: every lot has exactly one expiry-index entry and back.
func checkExpiryIndex(r store.Reader) error {
	var err error
	n := 0
	store.Each(r, []byte{types.PrefixExpiry}, func(k, _ []byte) bool {
		exp, cust, seq, e := types.ParseExpiryKey(k)
		if e != nil {
			err = e
			return false
		}
		if !store.Has(r, types.LotKey(cust, exp, seq)) {
			err = fmt.Errorf("expiry entry for missing lot %s/%d", cust, seq)
			return false
		}
		n++
		return true
	})
	if err != nil {
		return err
	}
	if uint64(n) != state.Totals(r).Lots {
		return fmt.Errorf("%d expiry entries for %d lots", n, state.Totals(r).Lots)
	}
	return nil
}

// checkListCounts: the counters that make proven list answers complete
// (docs/protocol.md, Queries) match what state holds: the seller count,
// each seller's terminal count, the statement index (one entry per closed
// statement, in closing order, each naming a stored statement) and the
// proposal ids 1..next-1.
func checkListCounts(r store.Reader) error {
	totals := state.Totals(r)
	sellers := members.Sellers(r)
	if uint64(len(sellers)) != totals.Sellers {
		return fmt.Errorf("%d seller records but the total records %d", len(sellers), totals.Sellers)
	}
	for _, s := range sellers {
		if n := len(members.Terminals(r, s.SellerId)); uint32(n) != s.TerminalCount {
			return fmt.Errorf("seller %s has %d terminals but its record counts %d", s.SellerId, n, s.TerminalCount)
		}
	}
	var stored uint64
	store.Each(r, types.StatementPrefix(), func(_, _ []byte) bool { stored++; return true })
	if stored != totals.Statements {
		return fmt.Errorf("%d statements stored but the total records %d", stored, totals.Statements)
	}
	var last uint64
	for i := uint64(0); i < totals.Statements; i++ {
		e, ok := settle.StatementEpoch(r, i)
		if !ok {
			return fmt.Errorf("statement index entry %d is missing", i)
		}
		if i > 0 && e <= last {
			return fmt.Errorf("statement index entry %d (epoch %d) does not follow epoch %d", i, e, last)
		}
		if !store.Has(r, types.StatementKey(e)) {
			return fmt.Errorf("statement index entry %d names epoch %d, which has no statement", i, e)
		}
		last = e
	}
	if _, ok := settle.StatementEpoch(r, totals.Statements); ok {
		return fmt.Errorf("statement index has an entry beyond the %d statements", totals.Statements)
	}
	var proposals uint64
	store.Each(r, types.ProposalPrefix(), func(_, _ []byte) bool { proposals++; return true })
	if totals.NextProposalId == 0 || proposals != totals.NextProposalId-1 {
		return fmt.Errorf("%d proposals stored but the next proposal id is %d", proposals, totals.NextProposalId)
	}
	for id := uint64(1); id < totals.NextProposalId; id++ {
		if !store.Has(r, types.ProposalKey(id)) {
			return fmt.Errorf("proposal %d is missing", id)
		}
	}
	return nil
}

// checkPending: each customer's pending points are the sum of its pending
// lots (never more than its balance), and the release index holds exactly
// one entry per pending lot, keyed by its pending_until (SPEC §5.9).
func checkPending(r store.Reader) error {
	pending := map[string]uint64{}
	var pendingLots int
	var err error
	store.Each(r, []byte{types.PrefixLot}, func(k, v []byte) bool {
		var l types.Lot
		state.Decode(k, v, &l)
		if l.PendingUntil == 0 {
			return true
		}
		cust := string(k[2 : 2+int(k[1])])
		pending[cust] += l.Points
		pendingLots++
		if !store.Has(r, types.ReleaseKey(l.PendingUntil, cust, l.ExpiresAt, l.Seq)) {
			err = fmt.Errorf("pending lot %s/%d has no release entry", cust, l.Seq)
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	store.Each(r, types.CustomerPrefix(), func(k, v []byte) bool {
		var c types.Customer
		state.Decode(k, v, &c)
		if c.PendingPoints != pending[c.CustomerId] || c.PendingPoints > c.Points {
			err = fmt.Errorf("customer %s records %d pending points of %d, its pending lots hold %d",
				c.CustomerId, c.PendingPoints, c.Points, pending[c.CustomerId])
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	n := 0
	store.Each(r, []byte{types.PrefixRelease}, func(_, _ []byte) bool { n++; return true })
	if n != pendingLots {
		return fmt.Errorf("%d release entries for %d pending lots", n, pendingLots)
	}
	return nil
}

// checkCampaigns: no campaign has issued more than its budget, and each
// seller's active index holds exactly its active campaigns, as many as
// its program record counts.
func checkCampaigns(r store.Reader) error {
	active := map[string]uint32{}
	var err error
	store.Each(r, []byte{types.PrefixCampaign}, func(k, v []byte) bool {
		var x types.Campaign
		state.Decode(k, v, &x)
		if x.SpentPoints > x.BudgetPoints {
			err = fmt.Errorf("campaign %s/%d issued %d bonus points, above its budget of %d", x.SellerId, x.Id, x.SpentPoints, x.BudgetPoints)
			return false
		}
		indexed := store.Has(r, types.ActiveCampaignKey(x.SellerId, x.Id))
		if indexed != (x.Status == types.CampaignStatus_CAMPAIGN_STATUS_ACTIVE) {
			err = fmt.Errorf("campaign %s/%d is %s but indexed as active: %v", x.SellerId, x.Id, x.Status, indexed)
			return false
		}
		if indexed {
			active[x.SellerId]++
		}
		return true
	})
	if err != nil {
		return err
	}
	var indexed uint32
	store.Each(r, []byte{types.PrefixActiveCampaign}, func(_, _ []byte) bool { indexed++; return true })
	var counted uint32
	store.Each(r, []byte{types.PrefixProgram}, func(k, v []byte) bool {
		var p types.SellerProgram
		state.Decode(k, v, &p)
		if p.ActiveCampaigns != active[p.SellerId] {
			err = fmt.Errorf("seller %s's program counts %d active campaigns, %d are", p.SellerId, p.ActiveCampaigns, active[p.SellerId])
			return false
		}
		counted += p.ActiveCampaigns
		return true
	})
	if err != nil {
		return err
	}
	if indexed != counted {
		return fmt.Errorf("%d active-index entries, programs count %d", indexed, counted)
	}
	return nil
}

// checkTiersAndReferrals: each customer's spend record holds at most the
// counted buckets, in ascending order (bounded state, SPEC §5.8); every
// referral code resolves to a customer whose code it is; every referral
// links two different customers with accounts.
func checkTiersAndReferrals(r store.Reader) error {
	var err error
	store.Each(r, []byte{types.PrefixSpend}, func(k, v []byte) bool {
		var s types.CustomerSpend
		state.Decode(k, v, &s)
		if len(s.Buckets) > tiers.Buckets {
			err = fmt.Errorf("spend record %x holds %d buckets, more than %d", k, len(s.Buckets), tiers.Buckets)
			return false
		}
		for i := 1; i < len(s.Buckets); i++ {
			if s.Buckets[i].Bucket <= s.Buckets[i-1].Bucket {
				err = fmt.Errorf("spend record %x: buckets out of order", k)
				return false
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	store.Each(r, []byte{types.PrefixReferralCode}, func(k, v []byte) bool {
		cust := string(v)
		if string(k[2:]) != program.Code(cust) || !store.Has(r, types.CustomerKey(cust)) {
			err = fmt.Errorf("referral code %s names %q, whose code or account does not match", k[2:], cust)
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	store.Each(r, []byte{types.PrefixReferral}, func(k, v []byte) bool {
		var x types.Referral
		state.Decode(k, v, &x)
		if x.Referee == x.Referrer || !store.Has(r, types.CustomerKey(x.Referee)) || !store.Has(r, types.CustomerKey(x.Referrer)) {
			err = fmt.Errorf("referral of %s by %s links no two customers", x.Referee, x.Referrer)
			return false
		}
		return true
	})
	return err
}
