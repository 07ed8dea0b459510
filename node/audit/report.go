// Package audit turns verified answers of a node into an auditor's export:
// settlement statement rows, per-seller liabilities and confirmations, as
// CSV and JSON, each row carrying the height and app hash it was proven at,
// a chart of the net positions per seller and a manifest.
//
// It reads only through Querier, the prove=true query of node/client, and
// refuses an answer that does not say what it was verified against (a
// header CometBFT's light client verified from the auditor's trust root,
// recorded in the manifest). Everything
// after the queries is pure functions from verified answers to rows and
// files, testable without a node.
package audit

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
)

// Querier is what the report reads through: (*client.Client).Query.
type Querier interface {
	Query(ctx context.Context, path string, prove bool) (*client.QueryResult, error)
}

// Proof says where a row's data was proven: the state height the answer
// was read at, the header whose app hash the proofs were checked against,
// and that app hash (lowercase hex).
type Proof struct {
	StateHeight  int64  `json:"state_height"`
	ProvenHeight int64  `json:"proven_height"`
	AppHash      string `json:"app_hash"`
}

// ProofOf is the proof of a verified answer; an answer the client did not
// verify is an error, never a row.
func ProofOf(path string, q *client.QueryResult) (Proof, error) {
	if q == nil || q.Verified == nil || len(q.Verified.AppHash) == 0 {
		return Proof{}, fmt.Errorf("audit: the answer to %s was not verified", path)
	}
	return Proof{StateHeight: q.Height, ProvenHeight: q.Verified.Height, AppHash: hex.EncodeToString(q.Verified.AppHash)}, nil
}

// TrustRoot is the header the auditor trusted, and the witnesses that
// cross-checked the headers verified from it.
type TrustRoot struct {
	Height    int64    `json:"height"`
	Hash      string   `json:"hash"`
	Witnesses []string `json:"witnesses"`
}

// ProvenStatement is a closed epoch's statement with its proof.
type ProvenStatement struct {
	Statement *types.Statement
	Proof     Proof
}

// ProvenSeller is a seller's record and open-epoch activity with its proof.
type ProvenSeller struct {
	Seller *types.SellerResponse
	Proof  Proof
}

// Report is everything one export read from the node, all of it verified.
type Report struct {
	ChainID    string
	RPC        string
	From, To   uint64
	Statements []ProvenStatement // epochs From..To that have a statement, ascending
	// Missing lists the epochs in range without a statement: no block was
	// committed in them (the chain stood still), so nothing happened.
	Missing []uint64
	// EscrowBefore is the escrow at the close of epoch From-1, when that
	// statement exists (or 0 when From is the chain's first epoch): the
	// baseline of From's escrow change.
	EscrowBefore *uint64
	Sellers      []ProvenSeller
	Totals       *types.Totals
	// Trust is the root the light client verified every header from.
	Trust       *TrustRoot
	TotalsProof Proof
	GeneratedAt time.Time
}

// Options of Collect.
type Options struct {
	ChainID, RPC string
	From, To     uint64
	// Dates: From or To was given as a UTC date, which names a daily
	// epoch; Collect refuses it on a chain whose epochs are not days.
	Dates bool
	// Progress, when set, is called after each epoch of the range is read.
	Progress func(done, total int, epoch uint64, p *Proof)
	// Now stamps the report (default time.Now); the rows never depend on it.
	Now func() time.Time
}

// Collect reads the statements of epochs From..To, every seller and the
// totals, each with prove=true, and checks the range: From ≤ To and To
// closed.
func Collect(ctx context.Context, q Querier, o Options) (*Report, error) {
	if o.From > o.To {
		return nil, types.Errorf(types.CodeInvalidArgument, "--from-epoch %d is after --to-epoch %d", o.From, o.To)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	r := &Report{ChainID: o.ChainID, RPC: o.RPC, From: o.From, To: o.To, GeneratedAt: now().UTC()}
	if o.Dates {
		var p types.Params
		if _, err := get(ctx, q, "/params", &p); err != nil {
			return nil, err
		}
		if p.EpochSeconds != 86400 {
			return nil, types.Errorf(types.CodeInvalidArgument, "a date names a daily epoch, and this chain's epochs last %d s: give epoch numbers (see `query statements`)", p.EpochSeconds)
		}
	}
	// An epoch not closed yet is refused before anything else is read,
	// from the proven open epoch (a typed field, not the node's message).
	var open types.StatementsResponse
	if _, err := get(ctx, q, "/statements/0", &open); err != nil {
		return nil, err
	}
	if open.Open != nil && o.To >= open.Open.Epoch {
		return nil, types.Errorf(types.CodeInvalidArgument, "--to-epoch %d is not closed yet (open epoch is %d)", o.To, open.Open.Epoch)
	}
	last := &types.Statement{}
	lastProof, lastErr := get(ctx, q, fmt.Sprintf("/statement/%d", o.To), last)
	if lastErr != nil && !client.IsNotFound(lastErr) {
		return nil, lastErr
	}
	if o.From > 0 {
		var prev types.Statement
		if _, err := get(ctx, q, fmt.Sprintf("/statement/%d", o.From-1), &prev); err == nil {
			r.EscrowBefore = &prev.EscrowPaise
		} else if !client.IsNotFound(err) {
			return nil, err
		}
	}
	total := int(o.To - o.From + 1)
	for e := o.From; ; e++ {
		s, p, err := last, lastProof, lastErr
		if e != o.To {
			s = &types.Statement{}
			p, err = get(ctx, q, fmt.Sprintf("/statement/%d", e), s)
		}
		switch {
		case err == nil:
			r.Statements = append(r.Statements, ProvenStatement{Statement: s, Proof: p})
		case client.IsNotFound(err):
			r.Missing = append(r.Missing, e)
		default:
			return nil, err
		}
		if o.Progress != nil {
			var pp *Proof
			if err == nil {
				pp = &p
			}
			o.Progress(int(e-o.From)+1, total, e, pp)
		}
		if e == o.To {
			break
		}
	}
	if len(r.Statements) == 0 {
		return nil, types.Errorf(types.CodeNotFound, "no statement in epochs %d to %d (the chain's first statements: `query statements`)", o.From, o.To)
	}
	// The chain's first epoch starts from an empty escrow.
	if r.EscrowBefore == nil && r.Statements[0].Statement.Epoch == o.From && r.Statements[0].Statement.StartHeight <= 1 {
		zero := uint64(0)
		r.EscrowBefore = &zero
	}

	var sellers types.SellersResponse
	if _, err := get(ctx, q, "/sellers", &sellers); err != nil {
		return nil, err
	}
	for _, s := range sellers.Sellers {
		var sr types.SellerResponse
		p, err := get(ctx, q, "/seller/"+s.SellerId, &sr)
		if err != nil {
			return nil, err
		}
		r.Sellers = append(r.Sellers, ProvenSeller{Seller: &sr, Proof: p})
	}
	res, err := q.Query(ctx, "/totals", true)
	if err != nil {
		return nil, err
	}
	p, err := ProofOf("/totals", res)
	if err != nil {
		return nil, err
	}
	var t types.Totals
	if err := t.Unmarshal(res.Value); err != nil {
		return nil, fmt.Errorf("audit: decode /totals: %w", err)
	}
	r.Totals, r.TotalsProof = &t, p
	if v := res.Verified; v.TrustHeight > 0 {
		r.Trust = &TrustRoot{Height: v.TrustHeight, Hash: hex.EncodeToString(v.TrustHash), Witnesses: v.Witnesses}
	}
	return r, nil
}

// get asks path with proofs and decodes the verified answer into v.
func get(ctx context.Context, q Querier, path string, v interface{ Unmarshal([]byte) error }) (Proof, error) {
	res, err := q.Query(ctx, path, true)
	if err != nil {
		return Proof{}, err
	}
	p, err := ProofOf(path, res)
	if err != nil {
		return Proof{}, err
	}
	if err := v.Unmarshal(res.Value); err != nil {
		return Proof{}, fmt.Errorf("audit: decode %s: %w", path, err)
	}
	return p, nil
}
