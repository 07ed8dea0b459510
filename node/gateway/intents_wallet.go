package gateway

// The wallet's other routes: binding a wallet key at a till (with the
// key's proof of possession and a verified PIN) and the wallet's public,
// proven reads of its own customer's balance and history.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/types"
	"github.com/danielgtaylor/huma/v2"
)

// possessionDomain separates a wallet's proof of possession from any
// transaction signature (types.SignBytes has its own domain).
const possessionDomain = "bytepoints/wallet-pop/v1"

// PossessionBytes are what a wallet signs to prove it holds its key:
// "bytepoints/wallet-pop/v1" 0x00 chain id 0x00 public key. The wallet
// app signs the same bytes (node/wallet/app.js).
func PossessionBytes(chainID string, pub []byte) []byte {
	out := append([]byte(possessionDomain), 0)
	out = append(out, chainID...)
	out = append(out, 0)
	return append(out, pub...)
}

// BindRequest binds a customer's wallet key at a till.
type BindRequest struct {
	IdempotencyHeader
	Body struct {
		CustomerID   string `json:"customer_id" maxLength:"64"`
		WalletPubkey string `json:"wallet_pubkey" minLength:"64" maxLength:"64" doc:"Hex of the wallet's Ed25519 public key (what the wallet app's QR code shows)."`
		Proof        string `json:"proof" maxLength:"128" doc:"Base64 of the wallet's Ed25519 signature over \"bytepoints/wallet-pop/v1\" 0x00 chain id 0x00 public key: proof that the phone holds the key."`
		TerminalID   string `json:"terminal_id,omitempty" maxLength:"32"`
		Flow         Flow   `json:"flow" doc:"Must show a verified PIN (pin-online or pin-offline, approved): the customer proves the card is theirs."`
	}
}

// WalletBinding answers a bind and a wallet's lookup.
type WalletBinding struct {
	WalletPubkey string `json:"wallet_pubkey"`
	CustomerID   string `json:"customer_id"`
	Height       int64  `json:"height"`
	TxHash       string `json:"tx_hash,omitempty" doc:"The bind (POST only)."`
	Replayed     bool   `json:"replayed,omitempty"`
}

// WalletPath names a wallet by its public key.
type WalletPath struct {
	Pubkey string `path:"pubkey" minLength:"64" maxLength:"64" doc:"Hex of the wallet's public key."`
}

// WalletHistoryPath pages a wallet's history.
type WalletHistoryPath struct {
	Pubkey string `path:"pubkey" minLength:"64" maxLength:"64"`
	Page   uint64 `query:"page" doc:"0 = newest."`
	Limit  uint64 `query:"limit" default:"20" minimum:"1" maximum:"100"`
}

// ProvenEntry is one state entry with its Merkle proof (app/store/proof.go's format), hex.
type ProvenEntry struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Exists bool   `json:"exists"`
	Proof  string `json:"proof"`
}

// Proven is a query answer with the proofs of every state entry it read,
// against the app hash the node committed at height.
type Proven struct {
	CustomerID string        `json:"customer_id"`
	Path       string        `json:"path" doc:"The node query answered (app/query.go)."`
	Height     int64         `json:"height"`
	AppHash    string        `json:"app_hash" doc:"The node's committed state root at height (hex). That it is the chain's is the node's word: its validators' signatures are checked by the auditor's page and bytepointsd query --prove, not by this answer."`
	Value      string        `json:"value" doc:"Base64 of the answer's protobuf (BalanceResponse or HistoryResponse), for clients that decode it; the wallet app decodes the proven entries instead."`
	Entries    []ProvenEntry `json:"entries"`
}

func (s *Server) registerWallets() {
	op(s, huma.Operation{OperationID: "bind-wallet", Method: http.MethodPost, Path: "/v1/wallet-bindings", Tags: []string{"wallet"},
		Summary:     "Bind a customer's wallet key to their card (PIN-verified at this till)",
		Description: "The wallet app shows its public key and a proof of possession as a QR code; the till sends them with the PIN-verified flow. Binding again replaces the key (a lost phone).",
		Errors:      []int{http.StatusConflict, http.StatusUnprocessableEntity, http.StatusServiceUnavailable, http.StatusGatewayTimeout}}, true, s.bindWallet)
	op(s, huma.Operation{OperationID: "wallet", Method: http.MethodGet, Path: "/v1/wallets/{pubkey}", Tags: []string{"wallet"},
		Summary: "Which customer a wallet key is bound to (public; binds made through this gateway)",
		Errors:  []int{http.StatusNotFound}}, false, s.wallet)
	op(s, huma.Operation{OperationID: "wallet-balance", Method: http.MethodGet, Path: "/v1/wallets/{pubkey}/balance", Tags: []string{"wallet"},
		Summary: "The wallet's customer's balance and lots, with Merkle proofs (public)",
		Errors:  []int{http.StatusNotFound}}, false, s.walletBalance)
	op(s, huma.Operation{OperationID: "wallet-history", Method: http.MethodGet, Path: "/v1/wallets/{pubkey}/history", Tags: []string{"wallet"},
		Summary: "The wallet's customer's history, newest first, with Merkle proofs (public)",
		Errors:  []int{http.StatusNotFound}}, false, s.walletHistory)
}

func (s *Server) bindWallet(ctx context.Context, in *BindRequest) (*out[WalletBinding], error) {
	p := principal(ctx)
	b := &in.Body
	if e := first(till(p, b.TerminalID), idemKey(in.IdempotencyKey)); e != nil {
		return nil, e
	}
	if err := types.ValidateCustomerID(b.CustomerID); err != nil {
		return nil, fromCodeError(err)
	}
	pub, err := hex.DecodeString(b.WalletPubkey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, badRequest("wallet_pubkey must be 64 hex characters (an Ed25519 public key)")
	}
	proof, e := decodeSignature(b.Proof)
	if e != nil {
		return nil, badRequest("proof: %s", e.Message)
	}
	if !types.VerifySignature(pub, PossessionBytes(s.d.ChainID, pub), proof) {
		return nil, newError(http.StatusUnprocessableEntity, types.CodeBadSignature,
			"the proof of possession does not verify with wallet_pubkey: scan the wallet's QR code again")
	}
	flow, e := flowOf(&b.Flow)
	if e != nil {
		return nil, e
	}
	res, err := s.book(ctx, p, in.IdempotencyKey, &types.MsgBindWallet{SellerId: p.SellerID, TerminalId: p.TerminalID,
		CustomerId: b.CustomerID, WalletPubkey: pub, Flow: flow})
	if err != nil {
		return nil, err
	}
	t := s.intents
	t.mu.Lock()
	t.bindings[hex.EncodeToString(pub)] = b.CustomerID
	if err := t.save(); err != nil {
		s.d.LogError("gateway intents file not written", "err", err)
	}
	t.mu.Unlock()
	return &out[WalletBinding]{Body: WalletBinding{WalletPubkey: hex.EncodeToString(pub), CustomerID: b.CustomerID, Height: res.Height,
		TxHash: hex.EncodeToString(res.TxHash), Replayed: res.Replayed}}, nil
}

// walletCustomer is the customer a wallet key is bound to: known to this
// gateway from its binds, and still bound in committed state.
func (s *Server) walletCustomer(pubHex string) (string, *Error) {
	pub, err := hex.DecodeString(pubHex)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return "", badRequest("pubkey must be 64 hex characters")
	}
	s.intents.mu.Lock()
	c, ok := s.intents.bindings[hex.EncodeToString(pub)]
	s.intents.mu.Unlock()
	notFound := newError(http.StatusNotFound, types.CodeNotFound,
		"this wallet key is not bound through this gateway: show its QR code at a till of this seller to bind it (with your PIN)")
	if !ok {
		return "", notFound
	}
	bound, e := s.boundWallet(c)
	if e != nil {
		return "", e
	}
	if !bytes.Equal(bound, pub) {
		return "", notFound // bound again since, to another key
	}
	return c, nil
}

func (s *Server) wallet(_ context.Context, in *WalletPath) (*out[WalletBinding], error) {
	c, e := s.walletCustomer(in.Pubkey)
	if e != nil {
		return nil, e
	}
	h, _ := s.d.App.Info()
	return &out[WalletBinding]{Body: WalletBinding{WalletPubkey: in.Pubkey, CustomerID: c, Height: h}}, nil
}

// proven answers a node query with proofs against the root of the same
// committed height, and checks them itself before answering.
func (s *Server) proven(customer, path string) (*Proven, *Error) {
	for range 5 {
		h, root := s.d.App.Info()
		res := s.d.App.Query(path, true)
		if res.Code != types.CodeOK {
			return nil, fromCodeError(types.Errorf(res.Code, "%s", res.Log))
		}
		if res.Height != h {
			continue // a block committed between the two reads
		}
		if err := app.VerifyQuery(path, res.Value, res.Proofs, root); err != nil {
			return nil, internal("the node's own proof does not verify: " + err.Error())
		}
		o := &Proven{CustomerID: customer, Path: path, Height: h, AppHash: hex.EncodeToString(root),
			Value: base64.StdEncoding.EncodeToString(res.Value), Entries: []ProvenEntry{}}
		for _, p := range res.Proofs {
			o.Entries = append(o.Entries, ProvenEntry{Key: hex.EncodeToString(p.Key), Value: hex.EncodeToString(p.Value), Exists: p.Exists, Proof: hex.EncodeToString(p.Proof)})
		}
		return o, nil
	}
	return nil, newError(http.StatusServiceUnavailable, types.CodeInternal, "blocks committed faster than the proof could be read; retry")
}

func (s *Server) walletBalance(_ context.Context, in *WalletPath) (*out[Proven], error) {
	c, e := s.walletCustomer(in.Pubkey)
	if e != nil {
		return nil, e
	}
	o, e := s.proven(c, "/balance/"+c)
	if e != nil {
		return nil, e
	}
	return &out[Proven]{Body: *o}, nil
}

func (s *Server) walletHistory(_ context.Context, in *WalletHistoryPath) (*out[Proven], error) {
	c, e := s.walletCustomer(in.Pubkey)
	if e != nil {
		return nil, e
	}
	o, e := s.proven(c, fmt.Sprintf("/history/%s/%s/%s", c, strconv.FormatUint(in.Page, 10), strconv.FormatUint(in.Limit, 10)))
	if e != nil {
		return nil, e
	}
	return &out[Proven]{Body: *o}, nil
}
