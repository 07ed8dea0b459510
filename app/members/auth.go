package members

import (
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// Authorisation (SPEC §3): named checks that return who acts instead of
// filling in the message. A message's seller_id may be empty (the signer's
// seller); its terminal_id names the till.

// Till is who acts at a till: the seller and the terminal (empty only when
// the seller's operator acts for the shop itself).
type Till struct {
	Seller   *types.SellerRecord
	Terminal string
}

// Actor names the till in events: "seller" or "seller/terminal".
func (t Till) Actor() string {
	if t.Terminal != "" {
		return t.Seller.SellerId + "/" + t.Terminal
	}
	return t.Seller.SellerId
}

// AuthorizeTill resolves who performs a till operation (purchase,
// redemption, refund, void, wallet binding). The signer must belong to
// sellerID (empty: the signer's seller), which must be active. A terminal
// key acts only as itself; the operator key may act for the shop (no
// terminal) or name one of its terminals. Whoever signs, a named terminal
// must be an active terminal of that seller.
func AuthorizeTill(r store.Reader, s *Signer, sellerID, terminalID string) (Till, error) {
	seller, err := authorizeSeller(s, sellerID, false)
	if err != nil {
		return Till{}, err
	}
	if s.Terminal != "" {
		if terminalID != "" && terminalID != s.Terminal {
			return Till{}, types.Errorf(types.CodeUnauthorized, "terminal %s may not act as terminal %s", s.Actor(), terminalID)
		}
		return Till{Seller: seller, Terminal: s.Terminal}, nil // Resolve checked it is active
	}
	if terminalID == "" {
		return Till{Seller: seller}, nil
	}
	if err := types.ValidateTerminalID(terminalID); err != nil {
		return Till{}, err
	}
	t, ok := Terminal(r, seller.SellerId, terminalID)
	if !ok {
		return Till{}, types.Errorf(types.CodeNotFound, "terminal %s is not registered to seller %s", terminalID, seller.SellerId)
	}
	if t.Status != types.TerminalStatus_TERMINAL_STATUS_ACTIVE {
		return Till{}, types.Errorf(types.CodeUnauthorized, "terminal %s/%s was revoked at height %d", seller.SellerId, terminalID, t.RevokedHeight)
	}
	return Till{Seller: seller, Terminal: terminalID}, nil
}

// AuthorizeOperator resolves the seller for an operator-only message of an
// active seller (terminals, configuration, governance).
func AuthorizeOperator(s *Signer, sellerID string) (*types.SellerRecord, error) {
	seller, err := authorizeSeller(s, sellerID, false)
	if err != nil {
		return nil, err
	}
	if !s.IsOperator() {
		return nil, types.Errorf(types.CodeUnauthorized, "only the operator key of %s may do this, not terminal %s", seller.SellerId, s.Terminal)
	}
	return seller, nil
}

// AuthorizeSettlement resolves the seller confirming its settlement line:
// its operator key, also while the seller is suspended (money owed is owed
// whatever the membership status).
func AuthorizeSettlement(s *Signer, sellerID string) (*types.SellerRecord, error) {
	seller, err := authorizeSeller(s, sellerID, true)
	if err != nil {
		return nil, err
	}
	if !s.IsOperator() {
		return nil, types.Errorf(types.CodeUnauthorized, "only the operator key of %s may confirm a settlement, not terminal %s", seller.SellerId, s.Terminal)
	}
	return seller, nil
}

// authorizeSeller checks that s acts for sellerID (empty: its own seller)
// and that the seller is active (or suspended, when allowed).
func authorizeSeller(s *Signer, sellerID string, allowSuspended bool) (*types.SellerRecord, error) {
	if sellerID == "" {
		sellerID = s.Seller.SellerId
	}
	if err := types.ValidateSellerID(sellerID); err != nil {
		return nil, err
	}
	if sellerID != s.Seller.SellerId {
		return nil, types.Errorf(types.CodeUnauthorized, "%s may not act for seller %s", s.Actor(), sellerID)
	}
	if s.Seller.Status != types.SellerStatus_SELLER_STATUS_ACTIVE && !allowSuspended {
		return nil, types.Errorf(types.CodeUnauthorized, "seller %s is suspended", sellerID)
	}
	return s.Seller, nil
}
