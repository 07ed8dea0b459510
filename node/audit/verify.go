package audit

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"

	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
)

// Check is one thing audit verify established, or failed to.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Verified is what audit verify checked, all of it from answers verified
// against light-client-verified headers.
type Verified struct {
	ChainID      string   `json:"chain_id"`
	TrustHeight  int64    `json:"trust_height"`
	TrustHash    string   `json:"trust_hash"`
	Witnesses    []string `json:"witnesses"`
	LatestHeight int64    `json:"latest_header_height"`
	LatestHash   string   `json:"latest_header_hash"`
	StateHeight  int64    `json:"state_height"` // the snapshot totals and sellers were read at
	AppHash      string   `json:"app_hash"`     // of that state, from header state_height+1
	// MaxLag is how far behind the latest header known an answer's state
	// may be (--max-lag); an answer further behind was refused.
	MaxLag        int64   `json:"max_lag"`
	Sellers       int     `json:"sellers"`
	Statements    int     `json:"statements"`
	OpenEpoch     uint64  `json:"open_epoch"`
	ProvenEntries int     `json:"proven_entries"`
	Checks        []Check `json:"checks"`
}

// Failed lists the checks that failed.
func (v *Verified) Failed() []Check {
	var out []Check
	for _, c := range v.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

func (v *Verified) check(name string, ok bool, format string, a ...any) {
	v.Checks = append(v.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, a...)})
}

// snapshotAttempts bounds how often the snapshot is re-read when the chain
// moved between its answers.
const snapshotAttempts = 20

// Verify walks cl's light client to the latest header, reads the totals,
// every seller and every statement with proofs, and re-checks the
// conservation rules (docs/protocol.md, "Conservation") from those verified
// answers only. An error is returned when something could not be read or
// verified (a tampered answer, a header that does not verify); a rule that
// does not hold is a failed Check. progress, if set, hears each stage.
func Verify(ctx context.Context, cl *client.Client, progress func(string)) (*Verified, error) {
	say := func(f string, a ...any) {
		if progress != nil {
			progress(fmt.Sprintf(f, a...))
		}
	}
	out := &Verified{ChainID: cl.ChainID}
	lb, err := cl.VerifyLatest(ctx)
	if err != nil {
		return nil, err
	}
	out.LatestHeight, out.LatestHash = lb.Height, hex.EncodeToString(lb.Hash())
	say("headers: verified to height %d (%s)", lb.Height, out.LatestHash)

	// Totals and every seller at one state height: the escrow identity
	// needs them together.
	snap, err := snapshot(ctx, cl, say)
	if err != nil {
		return nil, err
	}
	v := snap.totalsQ.Verified
	out.TrustHeight, out.TrustHash = v.TrustHeight, hex.EncodeToString(v.TrustHash)
	out.Witnesses = v.Witnesses
	out.StateHeight, out.AppHash = snap.totalsQ.Height, hex.EncodeToString(v.AppHash)
	out.MaxLag = v.MaxLag
	// The client refused any answer further behind; say how far this one was.
	out.check("answers-fresh", v.Latest-v.StateHeight <= v.MaxLag,
		"state height %d is %d blocks behind the latest header known when it was read (%d); at most %d allowed (--max-lag)",
		v.StateHeight, max(v.Latest-v.StateHeight, 0), v.Latest, v.MaxLag)
	out.Sellers = len(snap.sellers)
	out.ProvenEntries = snap.entries
	t := snap.totals

	escrow, err := types.MulU64("escrow", t.OutstandingPoints, 100)
	out.check("escrow-backs-outstanding", err == nil && t.EscrowPaise == escrow,
		"escrow Rs %s for %d outstanding points (100 paise each)", types.FormatPaise(t.EscrowPaise), t.OutstandingPoints)
	flows := new(big.Int).SetUint64(t.IssuedPoints)
	flows.Sub(flows, new(big.Int).SetUint64(t.RedeemedPoints))
	flows.Sub(flows, new(big.Int).SetUint64(t.ClawedBackPoints))
	flows.Sub(flows, new(big.Int).SetUint64(t.ExpiredPoints))
	out.check("outstanding-from-flows", flows.Cmp(new(big.Int).SetUint64(t.OutstandingPoints)) == 0,
		"issued %d - redeemed %d - clawed back %d - expired %d = %s, outstanding %d",
		t.IssuedPoints, t.RedeemedPoints, t.ClawedBackPoints, t.ExpiredPoints, flows, t.OutstandingPoints)
	sum := new(big.Int)
	for _, s := range snap.sellers {
		sum.Add(sum, big.NewInt(s.Seller.PositionPaise))
	}
	total := new(big.Int).Add(sum, new(big.Int).SetUint64(t.EscrowPaise))
	out.check("positions-plus-escrow-zero", total.Sign() == 0,
		"sum of %d sellers' positions %s paise + escrow %d paise = %s", len(snap.sellers), sum, t.EscrowPaise, total)

	// Every statement, newest first, in pages through the closing-order
	// index; each page is complete by the proven count.
	var sts []*types.Statement
	before := t.Statements
	for first := true; first || before > 0; first = false {
		// The first page also says the open epoch; with no statement it is
		// the empty page /statements/0.
		q, err := cl.Query(ctx, fmt.Sprintf("/statements/%d", before), true)
		if err != nil {
			return nil, err
		}
		r, err := client.Decode[types.StatementsResponse](q)
		if err != nil {
			return nil, err
		}
		if first && r.Open != nil {
			out.OpenEpoch = r.Open.Epoch
		}
		if before > 0 && len(r.Statements) == 0 {
			return nil, fmt.Errorf("the statements page before %d is empty, though the proven statement count leaves %d to read", before, before)
		}
		out.ProvenEntries += len(q.Proofs)
		sts = append(sts, r.Statements...)
		before -= uint64(len(r.Statements))
		say("statements: %d of %d", len(sts), t.Statements)
	}
	out.Statements = len(sts)
	out.check("statement-count", uint64(len(sts)) == t.Statements, "%d statements read, %d closed", len(sts), t.Statements)

	// Oldest first: each statement's nets and the escrow's change balance.
	positions := map[string]*big.Int{}
	prevEscrow := uint64(0)
	bad := 0
	for i := len(sts) - 1; i >= 0; i-- {
		s := sts[i]
		nets := new(big.Int)
		outstanding := uint32(0)
		for _, l := range s.Lines {
			nets.Add(nets, big.NewInt(l.NetPaise))
			if positions[l.SellerId] == nil {
				positions[l.SellerId] = new(big.Int)
			}
			positions[l.SellerId].Add(positions[l.SellerId], big.NewInt(l.NetPaise))
			if l.Status == types.LineStatus_LINE_STATUS_OUTSTANDING {
				outstanding++
			}
		}
		change := new(big.Int).Sub(new(big.Int).SetUint64(s.EscrowPaise), new(big.Int).SetUint64(prevEscrow))
		if bal := new(big.Int).Add(nets, change); bal.Sign() != 0 {
			out.check(fmt.Sprintf("statement-%d-balances", s.Epoch), false,
				"nets %s paise + escrow change %s = %s", nets, change, bal)
			bad++
		}
		if e, err := types.MulU64("escrow", s.OutstandingPoints, 100); err != nil || e != s.EscrowPaise {
			out.check(fmt.Sprintf("statement-%d-escrow", s.Epoch), false,
				"escrow %d paise at close for %d outstanding points", s.EscrowPaise, s.OutstandingPoints)
			bad++
		}
		if outstanding != s.OutstandingLines {
			out.check(fmt.Sprintf("statement-%d-outstanding-lines", s.Epoch), false,
				"%d lines await confirmation, the statement says %d", outstanding, s.OutstandingLines)
			bad++
		}
		prevEscrow = s.EscrowPaise
	}
	if bad == 0 {
		out.check("statements-balance", true, "in each of %d statements: nets + escrow change = 0, escrow = 100 x outstanding, outstanding lines counted", len(sts))
	}

	// Each seller's position is its statements' nets plus its open epoch's.
	mism := 0
	openNets := new(big.Int)
	for _, s := range snap.sellers {
		want := new(big.Int)
		if p := positions[s.Seller.SellerId]; p != nil {
			want.Set(p)
		}
		if s.OpenEpoch != nil {
			want.Add(want, big.NewInt(s.OpenEpoch.NetPaise))
			openNets.Add(openNets, big.NewInt(s.OpenEpoch.NetPaise))
		}
		if want.Cmp(big.NewInt(s.Seller.PositionPaise)) != 0 {
			out.check("position-"+s.Seller.SellerId, false, "position %d paise, statements and open epoch give %s",
				s.Seller.PositionPaise, want)
			mism++
		}
	}
	if mism == 0 {
		out.check("positions-from-statements", true, "each of %d sellers' position = its statements' nets + its open epoch's net", len(snap.sellers))
	}
	// The statements walked are those closed as of the snapshot (the
	// count bounded the walk), so the newest one's escrow starts the open
	// epoch the sellers' open-epoch nets belong to.
	change := new(big.Int).Sub(new(big.Int).SetUint64(t.EscrowPaise), new(big.Int).SetUint64(prevEscrow))
	bal := new(big.Int).Add(openNets, change)
	out.check("open-epoch-balances", bal.Sign() == 0, "open epoch: sellers' nets %s paise + escrow change %s = %s",
		openNets, change, bal)
	return out, nil
}

type snap struct {
	totalsQ *client.QueryResult
	totals  *types.Totals
	sellers []*types.SellerResponse
	entries int
}

// snapshot fetches totals, the seller list and every seller from one state
// height, then verifies each answer; it starts again when a block
// committed between the answers.
func snapshot(ctx context.Context, cl *client.Client, say func(string, ...any)) (*snap, error) {
	for attempt := 0; attempt < snapshotAttempts; attempt++ {
		ta, err := cl.Fetch(ctx, "/totals", true)
		if err != nil {
			return nil, err
		}
		la, err := cl.Fetch(ctx, "/sellers", true)
		if err != nil {
			return nil, err
		}
		if la.Height != ta.Height || la.Code != 0 {
			if la.Code != 0 {
				return nil, fmt.Errorf("/sellers: %s", la.Log)
			}
			continue
		}
		// Which sellers to fetch comes from the list as sent; the list is
		// verified with the rest below, before anything is believed.
		var sl types.SellersResponse
		if err := sl.Unmarshal(la.Value); err != nil {
			return nil, fmt.Errorf("/sellers: %w", err)
		}
		answers := make([]*client.Answer, 0, len(sl.Sellers))
		moved := false
		for _, s := range sl.Sellers {
			a, err := cl.Fetch(ctx, "/seller/"+s.SellerId, true)
			if err != nil {
				return nil, err
			}
			if a.Height != ta.Height {
				moved = true
				break
			}
			answers = append(answers, a)
		}
		if moved {
			say("state moved on while reading sellers; reading again")
			continue
		}
		list, err := cl.Verify(ctx, la)
		if err != nil {
			return nil, err
		}
		tq, err := cl.Verify(ctx, ta)
		if err != nil {
			return nil, err
		}
		t, err := client.Decode[types.Totals](tq)
		if err != nil {
			return nil, err
		}
		out := &snap{totalsQ: tq, totals: t, entries: len(tq.Proofs) + len(list.Proofs)}
		for i, a := range answers {
			q, err := cl.Verify(ctx, a)
			if err != nil {
				return nil, err
			}
			r, err := client.Decode[types.SellerResponse](q)
			if err != nil {
				return nil, err
			}
			out.sellers = append(out.sellers, r)
			out.entries += len(q.Proofs)
			say("sellers: %d of %d (state height %d)", i+1, len(answers), ta.Height)
		}
		return out, nil
	}
	return nil, errors.New("the chain moved on during every attempt to read totals and sellers at one height; try again, or against a node that is not under load")
}
