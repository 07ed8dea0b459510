package members

import (
	"github.com/bytepoints/bytepoints/app/query"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// The members' queries: sellers, governance proposals, the governed
// parameters, and the peer filter. Each reads state only through r, so a
// client can re-run it on proven entries (app.VerifyQuery).

// SellerTerms fills what other modules say about a seller into its answer
// (open epoch, effective risk maximum and earn rate); package app passes
// it, as members cannot import the modules above it.
type SellerTerms func(r store.Reader, p *types.Params, out *types.SellerResponse)

// SellerQuery answers /seller/{id}: the record, its terminals, and the
// terms other modules add.
func SellerQuery(terms SellerTerms) query.Assembler {
	return func(r store.Reader, args []string) (state.Msg, error) {
		if err := query.ArgN(args, 1, "/seller/{id}"); err != nil {
			return nil, err
		}
		if err := types.ValidateSellerID(args[0]); err != nil {
			return nil, err
		}
		s, ok := Seller(r, args[0])
		if !ok {
			return nil, types.Errorf(types.CodeNotFound, "seller %s does not exist", args[0])
		}
		p, err := query.Params(r)
		if err != nil {
			return nil, err
		}
		out := &types.SellerResponse{Seller: s, Terminals: Terminals(r, args[0])}
		terms(r, p, out)
		// The record counts its terminals: a proof cannot show that no key was
		// left out of a range, but a missing terminal shows here.
		if uint32(len(out.Terminals)) != s.TerminalCount {
			return nil, types.Errorf(types.CodeInternal, "%d terminals of %s listed, its record counts %d", len(out.Terminals), args[0], s.TerminalCount)
		}
		return out, nil
	}
}

// QuerySellers answers /sellers.
func QuerySellers(r store.Reader, _ []string) (state.Msg, error) {
	out := &types.SellersResponse{Sellers: Sellers(r)}
	// Complete by the proven count of seller records.
	if n := state.Totals(r).Sellers; uint64(len(out.Sellers)) != n {
		return nil, types.Errorf(types.CodeInternal, "%d sellers listed, the totals count %d", len(out.Sellers), n)
	}
	return out, nil
}

// QueryParams answers /params.
func QueryParams(r store.Reader, _ []string) (state.Msg, error) {
	return query.Params(r)
}

// QueryProposal answers /proposal/{id}.
func QueryProposal(r store.Reader, args []string) (state.Msg, error) {
	if err := query.ArgN(args, 1, "/proposal/{id}"); err != nil {
		return nil, err
	}
	id, err := query.ParseU64("proposal id", args[0])
	if err != nil {
		return nil, err
	}
	p, ok := Proposal(r, id)
	if !ok {
		return nil, types.Errorf(types.CodeNotFound, "proposal %d does not exist", id)
	}
	return p, nil
}

// maxProposals is how many proposals /proposals lists, newest first.
const maxProposals = 100

// QueryProposals answers /proposals: the newest maxProposals.
func QueryProposals(r store.Reader, _ []string) (state.Msg, error) {
	out := &types.ProposalsResponse{}
	// Ids run 1..next-1 and proposals are never deleted: point reads from
	// the proven counter down make the list complete.
	next := state.Totals(r).NextProposalId
	for id := next - 1; next > 0 && id >= 1 && len(out.Proposals) < maxProposals; id-- {
		p, ok := Proposal(r, id)
		if !ok {
			return nil, types.Errorf(types.CodeInternal, "proposal %d is missing", id)
		}
		out.Proposals = append(out.Proposals, p)
	}
	return out, nil
}

// PeerAllowed reports whether a node id (CometBFT node id or libp2p peer
// id) is an active member's node: only those may connect (SPEC §7).
func PeerAllowed(r store.Reader, id string) bool {
	for _, s := range Active(r) {
		if s.NodeId == id || s.PeerId == id {
			return true
		}
	}
	return false
}
