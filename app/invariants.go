package app

import (
	"fmt"
	"math/big"

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
	for _, s := range state.Sellers(r) {
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
