package members

import (
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// Signer is the resolved holder of a transaction's key.
type Signer struct {
	Kind     types.SignerKind
	Seller   *types.SellerRecord
	Terminal string // terminal id when Kind is terminal
}

// IsOperator reports whether the key is the seller's operator key.
func (s *Signer) IsOperator() bool { return s.Kind == types.SignerKind_SIGNER_KIND_OPERATOR }

// Actor names the signer in events: "seller" or "seller/terminal".
func (s *Signer) Actor() string {
	if s.Terminal != "" {
		return s.Seller.SellerId + "/" + s.Terminal
	}
	return s.Seller.SellerId
}

// Resolve finds who holds pub. A key nobody registered, a revoked terminal,
// and any key of a removed seller are unknown signers; a suspended seller's
// keys resolve but may only confirm settlement (see AuthorizeSettlement).
func Resolve(r store.Reader, pub []byte) (*Signer, error) {
	ref, ok := SignerRef(r, pub)
	if !ok {
		return nil, types.Errorf(types.CodeUnknownSigner, "key %x is not registered to any seller or terminal", short(pub))
	}
	seller, ok := Seller(r, ref.SellerId)
	if !ok || seller.Status == types.SellerStatus_SELLER_STATUS_REMOVED {
		return nil, types.Errorf(types.CodeUnknownSigner, "key %x belongs to %s, which is no longer a member", short(pub), ref.SellerId)
	}
	s := &Signer{Kind: ref.Kind, Seller: seller}
	if ref.Kind == types.SignerKind_SIGNER_KIND_TERMINAL {
		t, ok := Terminal(r, ref.SellerId, ref.TerminalId)
		if !ok || t.Status != types.TerminalStatus_TERMINAL_STATUS_ACTIVE {
			return nil, types.Errorf(types.CodeUnknownSigner, "terminal %s/%s has been revoked", ref.SellerId, ref.TerminalId)
		}
		s.Terminal = ref.TerminalId
	}
	return s, nil
}

func short(pub []byte) []byte {
	if len(pub) > 8 {
		return pub[:8]
	}
	return pub
}

// RegisterTerminal adds a terminal key to a seller.
func RegisterTerminal(c *state.Ctx, seller, terminal string, pub []byte) error {
	if err := types.ValidateTerminalID(terminal); err != nil {
		return err
	}
	if err := types.ValidatePubKey("terminal key", pub); err != nil {
		return err
	}
	if ref, ok := SignerRef(c.KV, pub); ok {
		return types.Errorf(types.CodeInvalidArgument, "key is already registered (to %s %s/%s); use a fresh key per terminal",
			ref.Kind, ref.SellerId, ref.TerminalId)
	}
	t, known := Terminal(c.KV, seller, terminal)
	if known && t.Status == types.TerminalStatus_TERMINAL_STATUS_ACTIVE {
		return types.Errorf(types.CodeInvalidArgument, "terminal %s/%s is already registered; revoke it first to change its key", seller, terminal)
	}
	if !known {
		// The seller record counts its terminal records (proven lists).
		s, ok := Seller(c.KV, seller)
		if !ok {
			return types.Errorf(types.CodeNotFound, "seller %s does not exist", seller)
		}
		s.TerminalCount++
		PutSeller(c.KV, s)
	}
	putTerminal(c.KV, &types.Terminal{
		SellerId: seller, TerminalId: terminal, Pubkey: pub,
		Status: types.TerminalStatus_TERMINAL_STATUS_ACTIVE, RegisteredHeight: c.Height,
	})
	putSigner(c.KV, pub, &types.SignerRef{Kind: types.SignerKind_SIGNER_KIND_TERMINAL, SellerId: seller, TerminalId: terminal})
	c.Emit(types.EventTerminal, "seller", seller, "terminal", terminal, "action", "registered", "actor", c.Actor)
	return nil
}

// RevokeTerminal stops a terminal's key for good.
func RevokeTerminal(c *state.Ctx, seller, terminal string) error {
	if err := types.ValidateTerminalID(terminal); err != nil {
		return err
	}
	t, ok := Terminal(c.KV, seller, terminal)
	if !ok {
		return types.Errorf(types.CodeNotFound, "terminal %s/%s does not exist", seller, terminal)
	}
	if t.Status != types.TerminalStatus_TERMINAL_STATUS_ACTIVE {
		return types.Errorf(types.CodeInvalidArgument, "terminal %s/%s is already revoked (height %d)", seller, terminal, t.RevokedHeight)
	}
	t.Status = types.TerminalStatus_TERMINAL_STATUS_REVOKED
	t.RevokedHeight = c.Height
	putTerminal(c.KV, t)
	c.Emit(types.EventTerminal, "seller", seller, "terminal", terminal, "action", "revoked", "actor", c.Actor)
	return nil
}

// SetSellerConfig changes a seller's earn rate and risk appetite within the
// governed bounds. riskMaxDefault forgets the seller's own Risk_max: its
// decisions follow the governed default again, also when governance
// changes it later.
func SetSellerConfig(c *state.Ctx, seller string, earnRate uint32, riskMax int64, riskMaxDefault bool) error {
	s, _ := Seller(c.KV, seller)
	if earnRate != 0 {
		if earnRate < c.Params.MinEarnRateBps || earnRate > c.Params.MaxEarnRateBps {
			return types.Errorf(types.CodeInvalidAmount, "earn rate %s is outside the governed bounds [%s, %s]",
				types.EarnRateText(earnRate), types.EarnRateText(c.Params.MinEarnRateBps), types.EarnRateText(c.Params.MaxEarnRateBps))
		}
		s.EarnRateBps = earnRate
	}
	if riskMax != 0 {
		cp := c.Params.Crms
		if riskMax < cp.MinRiskMaxNano || riskMax > cp.MaxRiskMaxNano {
			return types.Errorf(types.CodeInvalidAmount, "Risk_max %s is outside the governed bounds [%s, %s]",
				types.DecimalText(riskMax), types.DecimalText(cp.MinRiskMaxNano), types.DecimalText(cp.MaxRiskMaxNano))
		}
		s.RiskMaxNano = riskMax
	}
	if riskMaxDefault {
		if riskMax != 0 {
			return types.Errorf(types.CodeInvalidArgument, "give a risk_max or ask for the governed default, not both")
		}
		s.RiskMaxNano = 0
	}
	if earnRate == 0 && riskMax == 0 && !riskMaxDefault {
		return types.Errorf(types.CodeInvalidArgument, "nothing to change: give an earn rate, a Risk_max, or ask for the governed default Risk_max")
	}
	PutSeller(c.KV, s)
	c.Emit(types.EventSellerConfig, "seller", seller, "earn_rate_bps", state.U(uint64(s.EarnRateBps)),
		"risk_max_nano", state.I(s.RiskMaxNano), "actor", c.Actor)
	return nil
}

// AddSeller writes a new member and indexes its operator key.
func AddSeller(kv store.KV, s *types.SellerRecord) error {
	if err := ValidateSeller(s); err != nil {
		return err
	}
	if _, ok := Seller(kv, s.SellerId); ok {
		return types.Errorf(types.CodeInvalidArgument, "seller %s already exists", s.SellerId)
	}
	if ref, ok := SignerRef(kv, s.OperatorPubkey); ok {
		return types.Errorf(types.CodeInvalidArgument, "operator key of %s is already registered to %s", s.SellerId, ref.SellerId)
	}
	for _, o := range Sellers(kv) {
		if string(o.ValidatorPubkey) == string(s.ValidatorPubkey) {
			return types.Errorf(types.CodeInvalidArgument, "validator key of %s is already used by %s", s.SellerId, o.SellerId)
		}
	}
	PutSeller(kv, s)
	putSigner(kv, s.OperatorPubkey, &types.SignerRef{Kind: types.SignerKind_SIGNER_KIND_OPERATOR, SellerId: s.SellerId})
	// Totals counts seller records, so that a proven seller list is complete.
	t := state.Totals(kv)
	t.Sellers++
	state.PutTotals(kv, t)
	return nil
}

// ValidateSeller checks a seller record's fields.
func ValidateSeller(s *types.SellerRecord) error {
	if err := types.ValidateSellerID(s.SellerId); err != nil {
		return err
	}
	if err := types.ValidatePubKey("operator key", s.OperatorPubkey); err != nil {
		return err
	}
	if err := types.ValidatePubKey("validator key", s.ValidatorPubkey); err != nil {
		return err
	}
	if err := types.ValidateText("seller name", s.Name, 128); err != nil {
		return err
	}
	if err := types.ValidateText("node id", s.NodeId, 128); err != nil {
		return err
	}
	if err := types.ValidateText("peer id", s.PeerId, 128); err != nil {
		return err
	}
	return types.ValidateText("p2p address", s.P2PAddress, 256)
}

// Active returns the active sellers in id order.
func Active(r store.Reader) []*types.SellerRecord {
	var out []*types.SellerRecord
	for _, s := range Sellers(r) {
		if s.Status == types.SellerStatus_SELLER_STATUS_ACTIVE {
			out = append(out, s)
		}
	}
	return out
}
