package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/settle"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
	"github.com/cosmos/gogoproto/jsonpb"
)

// Genesis is the app_state of the chain's genesis file.
type Genesis struct {
	Params  json.RawMessage `json:"params,omitempty"` // types.Params in protobuf JSON
	Sellers []GenesisSeller `json:"sellers"`
	// Export, instead of params and sellers: a chain restarted from the
	// whole state of another (app/export.go).
	Export *Export `json:"export,omitempty"`
}

// GenesisSeller is a founding member. Keys are hex.
type GenesisSeller struct {
	SellerID        string `json:"seller_id"`
	Name            string `json:"name,omitempty"`
	OperatorPubKey  string `json:"operator_pubkey"`
	ValidatorPubKey string `json:"validator_pubkey"`
	NodeID          string `json:"node_id,omitempty"`
	PeerID          string `json:"peer_id,omitempty"`
	P2PAddress      string `json:"p2p_address,omitempty"`
	EarnRateBps     uint32 `json:"earn_rate_bps,omitempty"`
	Power           int64  `json:"power,omitempty"`
}

// ValidatorPower is every member's equal voting power.
const ValidatorPower = 10

// MarshalParamsJSON renders params as protobuf JSON for a genesis file.
func MarshalParamsJSON(p *types.Params) (json.RawMessage, error) {
	var buf bytes.Buffer
	m := jsonpb.Marshaler{OrigName: true, EmitDefaults: true, Indent: "  "}
	if err := m.Marshal(&buf, p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ParseGenesis decodes and validates app_state.
func ParseGenesis(appState []byte) (*types.Params, []*types.SellerRecord, error) {
	var g Genesis
	dec := json.NewDecoder(bytes.NewReader(appState))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return nil, nil, fmt.Errorf("genesis app_state: %w", err)
	}
	params := DefaultParams()
	if len(g.Params) > 0 {
		params = &types.Params{}
		if err := jsonpb.Unmarshal(bytes.NewReader(g.Params), params); err != nil {
			return nil, nil, fmt.Errorf("genesis params: %w", err)
		}
	}
	if err := ValidateParams(params); err != nil {
		return nil, nil, fmt.Errorf("genesis params: %w", err)
	}
	if len(g.Sellers) == 0 {
		return nil, nil, fmt.Errorf("genesis names no sellers")
	}
	var out []*types.SellerRecord
	for i, gs := range g.Sellers {
		op, err := hex.DecodeString(gs.OperatorPubKey)
		if err != nil {
			return nil, nil, fmt.Errorf("genesis seller %d (%s): operator_pubkey: %w", i, gs.SellerID, err)
		}
		val, err := hex.DecodeString(gs.ValidatorPubKey)
		if err != nil {
			return nil, nil, fmt.Errorf("genesis seller %d (%s): validator_pubkey: %w", i, gs.SellerID, err)
		}
		power := gs.Power
		if power == 0 {
			power = ValidatorPower
		}
		s := &types.SellerRecord{
			SellerId: gs.SellerID, Name: gs.Name, OperatorPubkey: op, ValidatorPubkey: val,
			NodeId: gs.NodeID, PeerId: gs.PeerID, P2PAddress: gs.P2PAddress,
			Status: types.SellerStatus_SELLER_STATUS_ACTIVE, EarnRateBps: gs.EarnRateBps,
			ValidatorPower: power,
		}
		if err := members.ValidateSeller(s); err != nil {
			return nil, nil, fmt.Errorf("genesis seller %d: %w", i, err)
		}
		out = append(out, s)
	}
	return params, out, nil
}

// initGenesis writes the genesis state.
func initGenesis(c *state.Ctx, params *types.Params, sellers []*types.SellerRecord) error {
	state.PutParams(c.KV, params)
	state.PutTotals(c.KV, &types.Totals{NextProposalId: 1})
	for _, s := range sellers {
		if err := members.AddSeller(c.KV, s); err != nil {
			return fmt.Errorf("genesis: %w", err)
		}
	}
	settle.Open(c)
	return nil
}

// ValidatorAddress is CometBFT's address of an Ed25519 validator key: the
// first 20 bytes of its SHA-256.
func ValidatorAddress(pub []byte) []byte {
	h := sha256.Sum256(pub)
	return h[:20]
}
