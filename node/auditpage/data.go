package auditpage

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
)

// Data is everything the page shows, as /audit/data.json serves it. Every
// group of figures carries its Provenance. Money is integer paise; the
// *_rupees strings are the same amounts formatted for people.
type Data struct {
	SellerID   string          `json:"seller_id"` // the node that served the page
	Status     Status          `json:"status"`
	Validators ValidatorSet    `json:"validators"`
	Members    Members         `json:"members"`
	Totals     Totals          `json:"totals"`
	Statements Statements      `json:"statements"`
	Imports    Imports         `json:"imports"`
	Reputation ReputationChart `json:"reputation"`
	Upgrade    Upgrade         `json:"upgrade"`
	// Errors lists the figures that could not be obtained (the rest of the
	// page is still shown).
	Errors []string `json:"errors,omitempty"`
}

// Provenance says how far a figure can be trusted.
type Provenance struct {
	// Verified: obtained with client.Query(ctx, path, true), the Merkle
	// proofs checked against the app hash of a signed header.
	Verified bool   `json:"verified"`
	By       string `json:"by,omitempty"`   // who checked the proofs: "node"
	Path     string `json:"path,omitempty"` // the query path, for proven figures
	// Height is the state height the answer is from; the app hash that
	// commits to that state is in header HeaderHeight (Height+1).
	Height       int64  `json:"height"`
	HeaderHeight int64  `json:"header_height,omitempty"`
	AppHash      string `json:"app_hash,omitempty"` // hex, upper case as CometBFT prints it
	Signers      int    `json:"signers,omitempty"`
	SignedPower  int64  `json:"signed_power,omitempty"`
	TotalPower   int64  `json:"total_power,omitempty"`
	// Note says, for unproven figures, where they come from.
	Note string `json:"note,omitempty"`
}

// Status is the node's view of the chain.
type Status struct {
	ChainID      string     `json:"chain_id"`
	LatestHeight int64      `json:"latest_height"`
	LatestTime   string     `json:"latest_time"` // RFC 3339, UTC
	AppHash      string     `json:"app_hash"`
	Source       Provenance `json:"source"`
}

// Validator is one entry of CometBFT's validator set.
type Validator struct {
	Address  string `json:"address"`
	PubKey   string `json:"pub_key"`
	Power    int64  `json:"power"`
	SellerID string `json:"seller_id,omitempty"` // matched by validator key against the members
}

// ValidatorSet is the consensus validator set at the latest height.
type ValidatorSet struct {
	Height     int64       `json:"height"`
	Validators []Validator `json:"validators"`
	TotalPower int64       `json:"total_power"`
	Source     Provenance  `json:"source"`
}

// Member is one seller of the coalition, with its settlement position.
type Member struct {
	SellerID       string `json:"seller_id"`
	Name           string `json:"name"`
	Status         string `json:"status"`
	ValidatorPower int64  `json:"validator_power"`
	EarnRateBps    uint32 `json:"earn_rate_bps"`
	JoinedHeight   int64  `json:"joined_height"`
	// PositionPaise is cumulative: negative = the seller owes the escrow.
	PositionPaise  int64  `json:"position_paise"`
	PositionRupees string `json:"position_rupees"`
}

// Members is /sellers.
type Members struct {
	Sellers []Member   `json:"sellers"`
	Source  Provenance `json:"source"`
}

// Totals is /totals, with the proof of its one state entry for the
// browser to check again.
type Totals struct {
	OutstandingPoints uint64     `json:"outstanding_points"`
	EscrowPaise       uint64     `json:"escrow_paise"`
	EscrowRupees      string     `json:"escrow_rupees"`
	IssuedPoints      uint64     `json:"issued_points"`
	RedeemedPoints    uint64     `json:"redeemed_points"`
	ClawedBackPoints  uint64     `json:"clawed_back_points"`
	ExpiredPoints     uint64     `json:"expired_points"`
	Customers         uint64     `json:"customers"`
	Purchases         uint64     `json:"purchases"`
	Redemptions       uint64     `json:"redemptions"`
	Statements        uint64     `json:"statements"`
	Source            Provenance `json:"source"`
	Proof             *Proof     `json:"proof,omitempty"`
}

// Proof is one proven state entry in hex (app/store/proof.go's format).
type Proof struct {
	Key     string `json:"key"`
	Value   string `json:"value"`
	Proof   string `json:"proof"`
	AppHash string `json:"app_hash"`
}

// Line is one seller's line of a statement.
type Line struct {
	SellerID  string `json:"seller_id"`
	NetPaise  int64  `json:"net_paise"`
	NetRupees string `json:"net_rupees"`
	// Direction (types.Directions): "payable" (the seller pays the
	// escrow), "receivable" (the escrow pays the seller) or "none".
	Direction string `json:"direction"`
	// Status (types.LineStatuses): "confirmed", "outstanding" or "nothing-due".
	Status string `json:"status"`
	// Confirmation, a confirmed line's word (types.Direction.Settled):
	// "paid" (payable) or "received" (receivable); "" otherwise.
	Confirmation    string `json:"confirmation,omitempty"`
	BankReference   string `json:"bank_reference,omitempty"`
	ConfirmedHeight int64  `json:"confirmed_height,omitempty"`
}

// Statement is a closed epoch's settlement statement.
type Statement struct {
	Epoch             uint64 `json:"epoch"`
	StartTime         string `json:"start_time"`
	EndTime           string `json:"end_time"`
	ClosedHeight      int64  `json:"closed_height"`
	OutstandingPoints uint64 `json:"outstanding_points"`
	EscrowPaise       uint64 `json:"escrow_paise"`
	EscrowRupees      string `json:"escrow_rupees"`
	OutstandingLines  uint32 `json:"outstanding_lines"`
	Lines             []Line `json:"lines"`
	// NothingDue: every line of the statement is nothing-due.
	NothingDue bool       `json:"nothing_due"`
	Source     Provenance `json:"source"`
}

// Statements is the open epoch and the latest statements; Source is the
// list's, each statement has its own.
type Statements struct {
	OpenEpoch      uint64      `json:"open_epoch"`
	OpenSince      string      `json:"open_since"`
	Statements     []Statement `json:"statements"`
	NothingDueOnly int         `json:"nothing_due_only"` // statements whose every line is nothing-due
	Source         Provenance  `json:"source"`
}

// Bucket is one bar of the reputation chart: cards with Lo ≤ R < Hi (the
// last bucket includes Hi).
type Bucket struct {
	LoNano int64  `json:"lo_nano"`
	HiNano int64  `json:"hi_nano"`
	Label  string `json:"label"`
	Count  uint64 `json:"count"`
}

// ReputationChart is the distribution of the cards' CRMS reputation R at
// the last block's time, computed by this node from its committed state.
type ReputationChart struct {
	Buckets []Bucket `json:"buckets"`
	Cards   uint64   `json:"cards"` // cards counted
	// Truncated: the state holds more cards than MaxCards; the chart counts
	// the first MaxCards in key order (by customer id).
	Truncated bool   `json:"truncated"`
	MaxCards  int    `json:"max_cards"`
	AtRmin    uint64 `json:"at_or_below_rmin"` // cards with no usable reputation (R ≤ Rmin)
	RminNano  int64  `json:"rmin_nano"`
	// AtTime is the last block's time the chart is computed at (RFC 3339
	// UTC), AtTimeMs the same in Unix milliseconds.
	AtTime   string     `json:"at_time"`
	AtTimeMs int64      `json:"at_time_unix_ms"`
	Source   Provenance `json:"source"`
}

// Buckets of the chart and the default bound on cards read per chart.
const (
	NumBuckets      = 10
	DefaultMaxCards = 50_000
)

// Deps is what the page needs from its node.
type Deps struct {
	SellerID string
	ChainID  string
	RPC      rpcclient.Client // the node's own RPC (in process)
	RPCURL   string           // the same over HTTP, for the light client's provider
	// App gives committed state for the reputation chart (read through a
	// store.View; nothing is written).
	App *app.App
	// MaxCards bounds the cards the chart reads (default DefaultMaxCards).
	MaxCards int
	// Timeout bounds gathering one page (default 20 s).
	Timeout time.Duration
	// FailureTTL is how long a failed gathering is served before the next
	// is tried (default DefaultFailureTTL).
	FailureTTL time.Duration
	// Now is the handler's clock for FailureTTL and the light client's
	// expiry (default time.Now).
	Now func() time.Time
}

// gather builds the page's data. Independent figures are fetched in
// parallel: each proven one waits for the header after its state height.
func gather(ctx context.Context, d Deps, cl *client.Client) *Data {
	out := &Data{SellerID: d.SellerID}
	var mu sync.Mutex
	fail := func(what string, err error) {
		mu.Lock()
		out.Errors = append(out.Errors, fmt.Sprintf("%s: %v", what, err))
		mu.Unlock()
	}
	var wg sync.WaitGroup
	run := func(what string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				fail(what, err)
			}
		}()
	}
	run("status", func() error { return status(ctx, d.RPC, &out.Status) })
	var members *types.SellersResponse
	run("members", func() (err error) { members, err = sellers(ctx, cl, &out.Members); return err })
	run("totals", func() error { return totals(ctx, cl, &out.Totals) })
	run("statements", func() error { return statements(ctx, cl, &out.Statements) })
	run("imports", func() error { return importsOf(ctx, cl, &out.Imports) })
	run("validators", func() error { return validators(ctx, d.RPC, &out.Validators) })
	run("reputation", func() error { return reputation(d.App, d.MaxCards, &out.Reputation) })
	run("upgrade", func() error { return upgradeStatus(ctx, cl, &out.Upgrade) })
	wg.Wait()
	if members != nil {
		byKey := map[string]string{}
		for _, s := range members.Sellers {
			byKey[hex.EncodeToString(s.ValidatorPubkey)] = s.SellerId
		}
		for i := range out.Validators.Validators {
			v := &out.Validators.Validators[i]
			v.SellerID = byKey[v.PubKey]
		}
	}
	slices.Sort(out.Errors)
	return out
}

func verified(path string, q *client.QueryResult) Provenance {
	p := Provenance{Path: path, Height: q.Height}
	if v := q.Verified; v != nil {
		p.Verified, p.By = true, "node"
		p.HeaderHeight, p.AppHash = v.Height, hex.EncodeToString(v.AppHash)
		p.Signers, p.SignedPower, p.TotalPower = v.Signers, v.Power, v.Total
	}
	return p
}

func status(ctx context.Context, rpc rpcclient.Client, out *Status) error {
	st, err := rpc.Status(ctx)
	if err != nil {
		return err
	}
	*out = Status{
		ChainID: st.NodeInfo.Network, LatestHeight: st.SyncInfo.LatestBlockHeight,
		LatestTime: types.FormatUnixMs(st.SyncInfo.LatestBlockTime.UnixMilli()), AppHash: hex.EncodeToString(st.SyncInfo.LatestAppHash),
		Source: Provenance{Height: st.SyncInfo.LatestBlockHeight, Note: "reported by this node's CometBFT RPC (/status)"},
	}
	return nil
}

func validators(ctx context.Context, rpc rpcclient.Client, out *ValidatorSet) error {
	page, per := 1, 100
	for {
		res, err := rpc.Validators(ctx, nil, &page, &per)
		if err != nil {
			return err
		}
		out.Height = res.BlockHeight
		for _, v := range res.Validators {
			out.Validators = append(out.Validators, Validator{Address: hex.EncodeToString(v.Address), PubKey: hex.EncodeToString(v.PubKey.Bytes()), Power: v.VotingPower})
			out.TotalPower += v.VotingPower
		}
		if len(out.Validators) >= res.Total || len(res.Validators) == 0 || page >= 100 {
			break
		}
		page++
	}
	out.Source = Provenance{Height: out.Height, Note: "reported by this node's CometBFT RPC (/validators)"}
	return nil
}

func sellers(ctx context.Context, cl *client.Client, out *Members) (*types.SellersResponse, error) {
	const path = "/sellers"
	q, err := cl.Query(ctx, path, true)
	if err != nil {
		return nil, err
	}
	r, err := client.Decode[types.SellersResponse](q)
	if err != nil {
		return nil, err
	}
	out.Source = verified(path, q)
	for _, s := range r.Sellers {
		out.Sellers = append(out.Sellers, Member{
			SellerID: s.SellerId, Name: s.Name, Status: types.SellerStatuses.Name(s.Status),
			ValidatorPower: s.ValidatorPower, EarnRateBps: s.EarnRateBps, JoinedHeight: s.JoinedHeight,
			PositionPaise: s.PositionPaise, PositionRupees: types.FormatSignedPaise(s.PositionPaise),
		})
	}
	return r, nil
}

func totals(ctx context.Context, cl *client.Client, out *Totals) error {
	const path = "/totals"
	q, err := cl.Query(ctx, path, true)
	if err != nil {
		return err
	}
	t, err := client.Decode[types.Totals](q)
	if err != nil {
		return err
	}
	*out = Totals{
		OutstandingPoints: t.OutstandingPoints, EscrowPaise: t.EscrowPaise, EscrowRupees: types.FormatPaise(t.EscrowPaise),
		IssuedPoints: t.IssuedPoints, RedeemedPoints: t.RedeemedPoints, ClawedBackPoints: t.ClawedBackPoints,
		ExpiredPoints: t.ExpiredPoints, Customers: t.Customers, Purchases: t.Purchases, Redemptions: t.Redemptions,
		Statements: t.Statements, Source: verified(path, q),
	}
	// /totals reads one entry, the totals record: the browser can check
	// its proof again against the same app hash.
	if q.Verified != nil && len(q.Proofs) == 1 && q.Proofs[0].Exists {
		e := q.Proofs[0]
		out.Proof = &Proof{Key: hex.EncodeToString(e.Key), Value: hex.EncodeToString(e.Value),
			Proof: hex.EncodeToString(e.Proof), AppHash: hex.EncodeToString(q.Verified.AppHash)}
	}
	return nil
}

func unixUTC(s int64) string { return types.FormatUnix(s) }

// Imports are the import approvals (SPEC §5.6): what members allowed each
// seller to bring in from its existing program, what it used, and by
// which files (SHA-256 digests).
type Imports struct {
	Approvals []ImportApproval `json:"approvals"`
	Rows      uint64           `json:"rows"`
	Points    uint64           `json:"points"`
	Source    Provenance       `json:"source"`
}

// ImportApproval is one seller's allowance, proven by /imports/{seller}.
type ImportApproval struct {
	SellerID        string       `json:"seller_id"`
	MaxPoints       uint64       `json:"max_points"`
	UsedPoints      uint64       `json:"used_points"`
	RemainingPoints uint64       `json:"remaining_points"`
	UntilHeight     int64        `json:"until_height"`
	Rows            uint64       `json:"rows"`
	Files           []ImportFile `json:"files"`
	Source          Provenance   `json:"source"`
}

// ImportFile is what one file booked.
type ImportFile struct {
	Digest     string `json:"digest"`
	FileRows   uint64 `json:"file_rows"`
	BookedRows uint64 `json:"booked_rows"`
	Points     uint64 `json:"points"`
	LastHeight int64  `json:"last_height"`
}

func importsOf(ctx context.Context, cl *client.Client, out *Imports) error {
	const path = "/imports"
	q, err := cl.Query(ctx, path, true)
	if err != nil {
		return err
	}
	r, err := client.Decode[types.ImportsResponse](q)
	if err != nil {
		return err
	}
	out.Source, out.Rows, out.Points = verified(path, q), r.Totals.Rows, r.Totals.Points
	for _, a := range r.Approvals {
		p := "/imports/" + a.SellerId
		q, err := cl.Query(ctx, p, true)
		if err != nil {
			return err
		}
		one, err := client.Decode[types.ImportResponse](q)
		if err != nil {
			return err
		}
		x := one.Approval
		ia := ImportApproval{SellerID: x.SellerId, MaxPoints: x.MaxPoints, UsedPoints: x.UsedPoints,
			RemainingPoints: x.MaxPoints - min(x.UsedPoints, x.MaxPoints), UntilHeight: x.UntilHeight, Rows: x.Rows, Source: verified(p, q)}
		for _, f := range one.Files {
			ia.Files = append(ia.Files, ImportFile{Digest: hex.EncodeToString(f.Digest), FileRows: f.FileRows,
				BookedRows: f.BookedRows, Points: f.Points, LastHeight: f.LastHeight})
		}
		out.Approvals = append(out.Approvals, ia)
	}
	return nil
}

// statements lists the latest statements, proven complete by the statement
// count, and proves each one again by its own point read, shown with its
// own provenance.
func statements(ctx context.Context, cl *client.Client, out *Statements) error {
	const path = "/statements"
	q, err := cl.Query(ctx, path, true)
	if err != nil {
		return err
	}
	r, err := client.Decode[types.StatementsResponse](q)
	if err != nil {
		return err
	}
	out.Source = verified(path, q)
	out.Source.Note = "the newest closed epochs and the open epoch, complete by the proven statement count; each statement is also proven on its own below"
	if r.Open != nil {
		out.OpenEpoch, out.OpenSince = r.Open.Epoch, unixUTC(r.Open.StartTime)
	}
	out.Statements = make([]Statement, len(r.Statements))
	errs := make([]error, len(r.Statements))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, s := range r.Statements {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			p := fmt.Sprintf("/statement/%d", s.Epoch)
			src := Provenance{Path: p, Height: q.Height, Note: "its own proof could not be checked"}
			pq, err := cl.Query(ctx, p, true)
			if err == nil {
				var v *types.Statement
				if v, err = client.Decode[types.Statement](pq); err == nil {
					s, src = v, verified(p, pq)
				}
			}
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", p, err)
			}
			out.Statements[i] = statement(s, src)
		}()
	}
	wg.Wait()
	for _, st := range out.Statements {
		if st.NothingDue {
			out.NothingDueOnly++
		}
	}
	return errors.Join(errs...)
}

func statement(s *types.Statement, src Provenance) Statement {
	st := Statement{
		Epoch: s.Epoch, StartTime: unixUTC(s.StartTime), EndTime: unixUTC(s.EndTime), ClosedHeight: s.ClosedHeight,
		OutstandingPoints: s.OutstandingPoints, EscrowPaise: s.EscrowPaise, EscrowRupees: types.FormatPaise(s.EscrowPaise),
		OutstandingLines: s.OutstandingLines, NothingDue: true, Source: src,
	}
	for _, l := range s.Lines {
		st.Lines = append(st.Lines, line(l))
		st.NothingDue = st.NothingDue && l.Status == types.LineStatus_LINE_STATUS_NOTHING_DUE
	}
	return st
}

func line(l *types.StatementLine) Line {
	out := Line{SellerID: l.SellerId, NetPaise: l.NetPaise, NetRupees: types.FormatSignedPaise(l.NetPaise),
		Direction: types.DirectionName(l.NetPaise), Status: types.LineStatuses.Name(l.Status),
		BankReference: l.BankReference, ConfirmedHeight: l.ConfirmedHeight}
	if l.Status == types.LineStatus_LINE_STATUS_CONFIRMED {
		out.Confirmation = types.DirectionOf(l.NetPaise).Settled()
	}
	return out
}

// reputation counts the cards' reputation R at the last block's time into
// NumBuckets equal buckets of [0, 1]. It reads one committed view (the
// same height throughout) and at most maxCards card records, in key
// order, with the chain's own CRMS engine: the same view gives the same
// chart on every node. Nothing here is proven: an auditor who needs R for
// one card asks /crms/{customer}/{amount}, which the same engine answers.
func reputation(a *app.App, maxCards int, out *ReputationChart) error {
	if a == nil {
		return errors.New("no state to read")
	}
	if maxCards <= 0 {
		maxCards = DefaultMaxCards
	}
	buckets := make([]Bucket, NumBuckets)
	for i := range buckets {
		lo, hi := int64(i)*crms.Nano/NumBuckets, int64(i+1)*crms.Nano/NumBuckets
		buckets[i] = Bucket{LoNano: lo, HiNano: hi, Label: fmt.Sprintf("%.1f–%.1f", float64(lo)/1e9, float64(hi)/1e9)}
	}
	n, err := a.Reputations(maxCards, func(r int64) { buckets[BucketOf(r)].Count++ })
	if n.Height == 0 && err != nil {
		return err // nothing was read
	}
	*out = ReputationChart{Buckets: buckets, Cards: n.Cards, Truncated: n.Truncated, MaxCards: maxCards, AtRmin: n.AtRmin,
		RminNano: n.RminNano, AtTime: types.FormatUnixMs(n.AtMs), AtTimeMs: n.AtMs,
		Source: Provenance{Height: n.Height, Note: "computed by this node from its committed state (card windows, the chain's CRMS engine)"}}
	return err
}

// BucketOf is the chart bucket of a reputation in nano units.
func BucketOf(rNano int64) int {
	i := rNano * NumBuckets / crms.Nano
	switch {
	case i < 0:
		return 0
	case i >= NumBuckets:
		return NumBuckets - 1
	}
	return int(i)
}

// Upgrade is /upgrade: the scheduled software upgrade, if any, the applied
// ones and the app version (docs/upgrades.md).
type Upgrade struct {
	Planned    bool         `json:"planned"`
	Name       string       `json:"name,omitempty"`
	Height     int64        `json:"height,omitempty"`
	Info       string       `json:"info,omitempty"`
	ProposalID uint64       `json:"proposal_id,omitempty"`
	AppVersion uint64       `json:"app_version"`
	Done       []UpgradeRow `json:"done"`
	Source     Provenance   `json:"source"`
}

// UpgradeRow is an applied upgrade.
type UpgradeRow struct {
	Name       string `json:"name"`
	Height     int64  `json:"height"`
	AppVersion uint64 `json:"app_version"`
}

func upgradeStatus(ctx context.Context, cl *client.Client, out *Upgrade) error {
	const path = "/upgrade"
	q, err := cl.Query(ctx, path, true)
	if err != nil {
		return err
	}
	r, err := client.Decode[types.UpgradeStatus](q)
	if err != nil {
		return err
	}
	*out = Upgrade{AppVersion: r.AppVersion, Done: []UpgradeRow{}, Source: verified(path, q)}
	if p := r.Plan; p != nil {
		out.Planned, out.Name, out.Height, out.Info, out.ProposalID = true, p.Name, p.Height, p.Info, p.ProposalId
	}
	for _, d := range r.Done {
		out.Done = append(out.Done, UpgradeRow{Name: d.Name, Height: d.Height, AppVersion: d.AppVersion})
	}
	return nil
}
