package members

import (
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// The members' records: sellers, their terminals, the signer index (key
// to seller or terminal) and governance proposals. Only this package
// writes them (settle writes a seller's position through PutSeller).

// Seller reads a seller's record.
func Seller(r store.Reader, id string) (*types.SellerRecord, bool) {
	s := &types.SellerRecord{}
	return s, state.Get(r, types.SellerKey(id), s)
}

// PutSeller writes a seller's record.
func PutSeller(kv store.KV, s *types.SellerRecord) { state.Put(kv, types.SellerKey(s.SellerId), s) }

// Sellers returns every seller record in id order.
func Sellers(r store.Reader) []*types.SellerRecord {
	return state.List(r, types.SellerPrefix(), func() *types.SellerRecord { return &types.SellerRecord{} })
}

// Terminal reads one terminal of a seller.
func Terminal(r store.Reader, seller, id string) (*types.Terminal, bool) {
	t := &types.Terminal{}
	return t, state.Get(r, types.TerminalKey(seller, id), t)
}

func putTerminal(kv store.KV, t *types.Terminal) {
	state.Put(kv, types.TerminalKey(t.SellerId, t.TerminalId), t)
}

// Terminals lists a seller's terminals in id order.
func Terminals(r store.Reader, seller string) []*types.Terminal {
	return state.List(r, types.TerminalPrefix(seller), func() *types.Terminal { return &types.Terminal{} })
}

// SignerRef reads what a signing key belongs to.
func SignerRef(r store.Reader, pub []byte) (*types.SignerRef, bool) {
	s := &types.SignerRef{}
	return s, state.Get(r, types.SignerKey(pub), s)
}

func putSigner(kv store.KV, pub []byte, s *types.SignerRef) { state.Put(kv, types.SignerKey(pub), s) }

// Proposal reads a governance proposal.
func Proposal(r store.Reader, id uint64) (*types.Proposal, bool) {
	p := &types.Proposal{}
	return p, state.Get(r, types.ProposalKey(id), p)
}

func putProposal(kv store.KV, p *types.Proposal) { state.Put(kv, types.ProposalKey(p.Id), p) }
