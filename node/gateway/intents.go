package gateway

// Redemption intents: prepare-then-sign at the till, so the customer's own
// wallet can co-sign a redemption over the gateway (SPEC §9, issue 19).
//
// The till asks for an intent (customer, points, bill); the gateway builds
// the redeem's TxBody as the till will sign it, fixes its bytes and answers
// with them. The customer's wallet decodes those bytes itself, shows what
// they say and signs them; the gateway then signs the same bytes with the
// till's key, attaches the wallet's signature and broadcasts. Nothing else
// can be signed: the body is fixed when the intent is made, and a
// signature is checked against the customer's bound wallet key over exactly
// those bytes before anything is sent (the chain checks it again when the
// CRMS asks for verification).
//
// Intents are this gateway's, not consensus state. They are kept in memory
// and written to a JSON file beside the token file on every change, so a
// restart loses none mid-flight (an intent whose redeem was broadcast is
// found again by its tx hash).

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	"github.com/danielgtaylor/huma/v2"
)

// Defaults of the intents' Config fields.
const (
	DefaultIntentTTL = 2 * time.Minute
	// MaxIntentWait bounds a long poll (below the node's write timeout).
	MaxIntentWait = 20 * time.Second
	// intentsKept is how long a finished or expired intent is still
	// answered (then forgotten, and its file entry dropped).
	intentsKept = 24 * time.Hour
)

// IntentState is where an intent is.
type IntentState string

const (
	IntentOpen      IntentState = "open"      // waiting for the wallet's signature
	IntentSubmitted IntentState = "submitted" // signed by both and broadcast; its commit not yet seen
	IntentCommitted IntentState = "committed" // the redeem booked
	IntentFailed    IntentState = "failed"    // the chain (or the till's credential) refused the signed redeem
	IntentRejected  IntentState = "rejected"  // the customer declined in the wallet
	IntentExpired   IntentState = "expired"   // not signed in time
)

func (IntentState) Schema(huma.Registry) *huma.Schema {
	return enumSchema("open: waiting for the wallet's signature; submitted: co-signed and broadcast, commit not yet seen; committed: the redeem booked (see redeem); failed: refused after signing (see error); rejected: the customer declined; expired: not signed in time.",
		[]string{string(IntentOpen), string(IntentSubmitted), string(IntentCommitted), string(IntentFailed), string(IntentRejected), string(IntentExpired)})
}

func (s IntentState) final() bool { return s != IntentOpen && s != IntentSubmitted }

// IntentRequest asks for a redemption the customer's wallet will co-sign.
type IntentRequest struct {
	IdempotencyHeader
	Body struct {
		CustomerID  string `json:"customer_id" maxLength:"64" doc:"The customer's pseudonym (card token); the customer must have a wallet key bound (POST /v1/wallet-bindings)."`
		Points      uint64 `json:"points" doc:"Points to redeem (1 point = Rs 1; at most the bill)."`
		BillAmount  Rupees `json:"bill_amount"`
		TerminalID  string `json:"terminal_id,omitempty" maxLength:"32" doc:"Optional; when given it must be the token's terminal."`
		ContextNano int64  `json:"context_nano,omitempty" doc:"CRMS context multiplier in 1e-9 units; 0 = x1. Checked against the chain's context bounds."`
		ExpiresIn   uint32 `json:"expires_in_seconds,omitempty" doc:"How long the customer has to sign, in seconds; 0 or above the gateway's limit (120 s by default) is the limit. Never beyond the body's valid_until_height."`
	}
}

// Intent is one redemption intent as the till and the wallet see it.
type Intent struct {
	IntentID         string        `json:"intent_id" doc:"32 hex characters; what the wallet's link and the signature route name."`
	Status           IntentState   `json:"status"`
	SellerID         string        `json:"seller_id"`
	TerminalID       string        `json:"terminal_id"`
	CustomerID       string        `json:"customer_id"`
	Points           uint64        `json:"points"`
	BillAmount       Rupees        `json:"bill_amount"`
	ExpiresAt        Time          `json:"expires_at" doc:"After this the signature is refused (expired)."`
	ExpiresAtUnix    int64         `json:"expires_at_unix"`
	ValidUntilHeight uint64        `json:"valid_until_height" doc:"The signed body's last includable height: the intent also expires when the chain reaches it."`
	Height           int64         `json:"height" doc:"The node's last committed height when this was answered."`
	SignBytes        string        `json:"sign_bytes" doc:"Base64 of exactly what the wallet signs with Ed25519: \"bytepoints/tx/v1\" 0x00 then the TxBody protobuf (types.SignBytes). Decode it; do not trust this answer's other fields for what you sign."`
	WalletURL        string        `json:"wallet_url" doc:"The path to open in the customer's wallet (show it as a QR code): /wallet/#intent={intent_id}."`
	WalletPubkey     string        `json:"wallet_pubkey" doc:"Hex of the wallet key bound to the customer when the intent was made."`
	TxHash           string        `json:"tx_hash,omitempty" doc:"The co-signed redeem, once broadcast."`
	Redeem           *RedeemResult `json:"redeem,omitempty" doc:"committed: the redeem's result, as POST /v1/redeem answers it."`
	Error            *Error        `json:"error,omitempty" doc:"failed: why."`
}

// IntentSignature is the wallet's approval.
type IntentSignature struct {
	ID   string `path:"id" maxLength:"32"`
	Body struct {
		Signature string `json:"signature" maxLength:"128" doc:"Base64 (standard or URL alphabet) of the wallet's 64-byte Ed25519 signature over the intent's sign_bytes."`
	}
}

// IntentPath names an intent.
type IntentPath struct {
	ID string `path:"id" maxLength:"32"`
}

// IntentWait polls an intent.
type IntentWait struct {
	ID   string `path:"id" maxLength:"32"`
	Wait uint32 `query:"wait" maximum:"20" doc:"Long poll: wait up to this many seconds (at most 20) for the intent to reach a final state (committed, failed, rejected, expired) before answering."`
}

// intentRec is an intent as kept (and persisted).
type intentRec struct {
	ID          string        `json:"id"`
	TokenID     string        `json:"token_id"`
	SellerID    string        `json:"seller_id"`
	TerminalID  string        `json:"terminal_id"`
	SignerKey   string        `json:"signer"` // hex terminal key: with IdemKey, the idempotency scope
	IdemKey     string        `json:"idempotency_key"`
	CustomerID  string        `json:"customer_id"`
	Points      uint64        `json:"points"`
	BillPaise   uint64        `json:"bill_paise"`
	ContextNano int64         `json:"context_nano,omitempty"`
	Body        []byte        `json:"body"` // the encoded TxBody
	ValidUntil  uint64        `json:"valid_until_height"`
	ExpiresAt   int64         `json:"expires_at_ms"`
	WalletKey   []byte        `json:"wallet_pubkey"`
	Status      IntentState   `json:"status"`
	Tx          []byte        `json:"tx,omitempty"` // the co-signed tx, once signed
	TxHash      []byte        `json:"tx_hash,omitempty"`
	Result      *RedeemResult `json:"result,omitempty"`
	Err         *intentErr    `json:"error,omitempty"`
	Done        int64         `json:"done_ms,omitempty"` // when it became final
	changed     chan struct{}
}

type intentErr struct {
	Status  int        `json:"status"`
	Code    types.Code `json:"code"`
	Message string     `json:"message"`
	TxHash  string     `json:"tx_hash,omitempty"`
}

// intents is the gateway's table of intents.
type intents struct {
	path string // "" = memory only
	mu   sync.Mutex
	m    map[string]*intentRec
	idem map[string]string // signer/idempotency key -> intent id
	// bindings: wallet key (hex) -> customer, for the binds this gateway
	// made (the chain keeps customer -> key only).
	bindings map[string]string
	now      func() time.Time
}

type intentsFile struct {
	Intents  []*intentRec      `json:"intents"`
	Bindings map[string]string `json:"wallet_bindings"`
}

func newIntents(path string, now func() time.Time) (*intents, error) {
	t := &intents{path: path, m: map[string]*intentRec{}, idem: map[string]string{}, bindings: map[string]string{}, now: now}
	if path == "" {
		return t, nil
	}
	bz, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("gateway intents: %w", err)
	}
	var f intentsFile
	if err := json.Unmarshal(bz, &f); err != nil {
		return nil, fmt.Errorf("gateway intents file %s: %w", path, err)
	}
	for _, r := range f.Intents {
		r.changed = make(chan struct{})
		t.m[r.ID] = r
		t.idem[r.SignerKey+"/"+r.IdemKey] = r.ID
	}
	for k, v := range f.Bindings {
		t.bindings[k] = v
	}
	return t, nil
}

// save writes the table (under mu), dropping what is past keeping.
func (t *intents) save() error {
	now := t.now().UnixMilli()
	f := intentsFile{Bindings: t.bindings}
	for id, r := range t.m {
		end := r.Done
		if end == 0 && !r.Status.final() {
			end = r.ExpiresAt
		}
		if r.Status != IntentSubmitted && end > 0 && now-end > intentsKept.Milliseconds() {
			delete(t.m, id)
			delete(t.idem, r.SignerKey+"/"+r.IdemKey)
			continue
		}
		f.Intents = append(f.Intents, r)
	}
	if t.path == "" {
		return nil
	}
	bz, err := json.Marshal(f)
	if err != nil {
		return err
	}
	tmp := t.path + ".tmp"
	if err := os.WriteFile(tmp, bz, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, t.path)
}

// set changes an intent's state (under mu) and wakes its long polls.
func (t *intents) set(r *intentRec, st IntentState) {
	r.Status = st
	if st.final() {
		r.Done = t.now().UnixMilli()
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

func intentsPath(cfg Config) string {
	if cfg.IntentsPath != "" {
		return cfg.IntentsPath
	}
	if cfg.TokensPath == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(cfg.TokensPath), "gateway_intents.json")
}

func (s *Server) registerIntents() {
	booking := []int{http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType,
		http.StatusUnprocessableEntity, http.StatusServiceUnavailable, http.StatusGatewayTimeout}
	op(s, huma.Operation{OperationID: "create-redemption-intent", Method: http.MethodPost, Path: "/v1/redemption-intents", Tags: []string{"wallet"},
		Summary:     "Prepare a redemption for the customer's wallet to co-sign",
		Description: "Builds the redeem this till will sign and answers with its exact sign bytes for the customer's wallet (show wallet_url as a QR code). Idempotent by Idempotency-Key: the same key and body answer the same intent; the same key with another body is 409. The customer must have a wallet key bound.",
		Errors:      []int{http.StatusConflict, http.StatusUnprocessableEntity, http.StatusServiceUnavailable}}, true, s.createIntent)
	op(s, huma.Operation{OperationID: "redemption-intent", Method: http.MethodGet, Path: "/v1/redemption-intents/{id}", Tags: []string{"wallet"},
		Summary:     "An intent's status and sign bytes (public: the id is the capability)",
		Description: "The till polls it (or long-polls with ?wait=); the wallet reads the sign bytes from it.",
		Errors:      []int{http.StatusNotFound}}, false, s.getIntent)
	op(s, huma.Operation{OperationID: "sign-redemption-intent", Method: http.MethodPost, Path: "/v1/redemption-intents/{id}/signature", Tags: []string{"wallet"},
		Summary:     "Approve an intent with the wallet's signature: the till co-signs and the redeem is booked",
		Description: "Public (the wallet has no token). The signature must verify with the customer's bound wallet key over exactly the intent's sign_bytes, else 422 bad_signature. Single use: a signed, rejected or expired intent is refused (409 duplicate, 410 expired). Answers like POST /v1/redeem.",
		Errors:      append(booking, http.StatusNotFound, http.StatusGone)}, false, s.signIntent)
	op(s, huma.Operation{OperationID: "reject-redemption-intent", Method: http.MethodPost, Path: "/v1/redemption-intents/{id}/rejection", Tags: []string{"wallet"},
		Summary: "The customer declines: the intent is abandoned (public)",
		Errors:  []int{http.StatusNotFound, http.StatusConflict, http.StatusGone}}, false, s.rejectIntent)
	s.registerWallets()
}

func newIntentID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

func (s *Server) createIntent(ctx context.Context, in *IntentRequest) (*out[Intent], error) {
	p := principal(ctx)
	b := &in.Body
	if e := first(till(p, b.TerminalID), idemKey(in.IdempotencyKey)); e != nil {
		return nil, e
	}
	if err := types.ValidateCustomerID(b.CustomerID); err != nil {
		return nil, fromCodeError(err)
	}
	bill, e := rupees("bill_amount", b.BillAmount)
	if e != nil {
		return nil, e
	}
	if b.Points == 0 {
		return nil, badRequest("points must be positive")
	}
	if e := s.contextArg("context_nano", b.ContextNano); e != nil {
		return nil, e
	}
	signer := hex.EncodeToString(p.Key.Public().(ed25519.PublicKey))
	t := s.intents
	t.mu.Lock()
	if id, ok := t.idem[signer+"/"+in.IdempotencyKey]; ok {
		r := t.m[id]
		same := r.CustomerID == b.CustomerID && r.Points == b.Points && r.BillPaise == bill && r.ContextNano == b.ContextNano
		t.mu.Unlock()
		if !same {
			return nil, newError(http.StatusConflict, types.CodeIdempotencyConflict,
				fmt.Sprintf("Idempotency-Key %q was used for intent %s with another customer, points, bill or context", clip(in.IdempotencyKey), id))
		}
		return s.intentOut(ctx, id)
	}
	t.mu.Unlock()

	wallet, points, e := s.walletAndPoints(b.CustomerID)
	if e != nil {
		return nil, e
	}
	if wallet == nil {
		return nil, newError(http.StatusUnprocessableEntity, types.CodeCVMRequired,
			fmt.Sprintf("customer %s has no wallet key bound: bind one at a till (POST /v1/wallet-bindings, with a PIN) or verify by PIN", b.CustomerID))
	}
	// Refused now rather than after the customer signed (the chain
	// decides at the block: points may still expire in between).
	if b.Points > points {
		return nil, newError(http.StatusUnprocessableEntity, types.CodeInsufficientPoints,
			fmt.Sprintf("customer %s has %d points, fewer than the %d asked", b.CustomerID, points, b.Points))
	}
	st, err := s.d.RPC.Status(ctx)
	if err != nil {
		return nil, newError(http.StatusServiceUnavailable, types.CodeInternal, "node status: "+err.Error())
	}
	now := time.Now()
	id := newIntentID()
	body := &types.TxBody{ChainId: s.d.ChainID, Signer: p.Key.Public().(ed25519.PublicKey), IdempotencyKey: in.IdempotencyKey,
		ValidUntilHeight: uint64(st.SyncInfo.LatestBlockHeight) + s.cfg.ValidFor, Memo: "wallet intent " + id}
	// The seller is named, not left to the signer's: the wallet shows
	// whom it pays from the bytes it signs.
	if err := body.SetMsg(&types.MsgRedeem{SellerId: p.SellerID, TerminalId: p.TerminalID, CustomerId: b.CustomerID,
		Points: b.Points, BillPaise: bill, ContextNano: b.ContextNano}); err != nil {
		return nil, internal(err.Error())
	}
	bz, err := body.Marshal()
	if err != nil {
		return nil, internal(err.Error())
	}
	ttl := s.cfg.IntentTTL
	if b.ExpiresIn > 0 && time.Duration(b.ExpiresIn)*time.Second < ttl {
		ttl = time.Duration(b.ExpiresIn) * time.Second
	}
	r := &intentRec{ID: id, TokenID: p.TokenID, SellerID: p.SellerID, TerminalID: p.TerminalID, SignerKey: signer, IdemKey: in.IdempotencyKey,
		CustomerID: b.CustomerID, Points: b.Points, BillPaise: bill, ContextNano: b.ContextNano, Body: bz, ValidUntil: body.ValidUntilHeight,
		ExpiresAt: now.Add(ttl).UnixMilli(), WalletKey: wallet, Status: IntentOpen, changed: make(chan struct{})}
	t.mu.Lock()
	if other, ok := t.idem[signer+"/"+in.IdempotencyKey]; ok { // a concurrent duplicate won
		t.mu.Unlock()
		return s.intentOut(ctx, other)
	}
	t.m[id], t.idem[signer+"/"+in.IdempotencyKey] = r, id
	err = t.save()
	t.mu.Unlock()
	if err != nil {
		s.d.LogError("gateway intents file not written", "err", err)
	}
	return s.intentOut(ctx, id)
}

// boundWallet is the customer's wallet key in committed state (nil: none).
func (s *Server) boundWallet(customer string) ([]byte, *Error) {
	k, _, e := s.walletAndPoints(customer)
	return k, e
}

// walletAndPoints is the customer's wallet key (nil: none) and balance in
// committed state.
func (s *Server) walletAndPoints(customer string) ([]byte, uint64, *Error) {
	res, e := s.query("balance", customer)
	if e != nil {
		return nil, 0, e
	}
	var bal types.BalanceResponse
	if err := bal.Unmarshal(res.Value); err != nil {
		return nil, 0, internal(err.Error())
	}
	if len(bal.WalletPubkey) != ed25519.PublicKeySize {
		return nil, bal.Points, nil
	}
	return bal.WalletPubkey, bal.Points, nil
}

// expire marks an open intent expired when its time or its body's last
// height has passed (under mu). height is the last committed height.
func (t *intents) expire(r *intentRec, height int64) bool {
	if r.Status != IntentOpen {
		return false
	}
	// The redeem must still be includable in the next block.
	if t.now().UnixMilli() >= r.ExpiresAt || uint64(height)+1 > r.ValidUntil {
		t.set(r, IntentExpired)
		return true
	}
	return false
}

func (s *Server) intentOut(ctx context.Context, id string) (*out[Intent], error) {
	o, e := s.intentView(ctx, id)
	if e != nil {
		return nil, e
	}
	return &out[Intent]{Body: *o}, nil
}

func (s *Server) intentView(ctx context.Context, id string) (*Intent, *Error) {
	h, _ := s.d.App.Info()
	t := s.intents
	t.mu.Lock()
	r, ok := t.m[id]
	if !ok {
		t.mu.Unlock()
		return nil, newError(http.StatusNotFound, types.CodeNotFound, fmt.Sprintf("no redemption intent %s on this gateway", clip(id)))
	}
	if t.expire(r, h) {
		_ = t.save()
	}
	submitted, hash, tx, until := r.Status == IntentSubmitted, r.TxHash, r.Tx, r.ValidUntil
	t.mu.Unlock()
	if submitted {
		// Broadcast but not seen committed (a 504, or a restart): the
		// chain knows. Not there and still includable: offer it again (a
		// restart between signing and broadcasting); past its last
		// height, it never will be.
		cl := &client.Client{RPC: s.d.RPC, ChainID: s.d.ChainID}
		res, err := cl.LookupTx(ctx, hash)
		switch {
		case err == nil && res != nil:
			s.settleIntent(id, res, nil)
		case err == nil && uint64(h) > until:
			s.settleIntent(id, nil, newError(http.StatusUnprocessableEntity, types.CodeExpired,
				fmt.Sprintf("the co-signed redeem was not committed by its last height %d", until)))
		case err == nil:
			_, _ = s.d.RPC.BroadcastTxSync(ctx, tx)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	o := &Intent{IntentID: r.ID, Status: r.Status, SellerID: r.SellerID, TerminalID: r.TerminalID, CustomerID: r.CustomerID,
		Points: r.Points, BillAmount: Rupees(types.FormatPaise(r.BillPaise)), ExpiresAt: unixTime(r.ExpiresAt / 1000), ExpiresAtUnix: r.ExpiresAt / 1000,
		ValidUntilHeight: r.ValidUntil, Height: h, SignBytes: base64.StdEncoding.EncodeToString(types.SignBytes(r.Body)),
		WalletURL: "/wallet/#intent=" + r.ID, WalletPubkey: hex.EncodeToString(r.WalletKey), Redeem: r.Result}
	if len(r.TxHash) > 0 {
		o.TxHash = hex.EncodeToString(r.TxHash)
	}
	if r.Err != nil {
		o.Error = &Error{Status: r.Err.Status, Code: r.Err.Code, CodeName: r.Err.Code.Name(), Message: r.Err.Message, TxHash: r.Err.TxHash}
	}
	return o, nil
}

func (s *Server) getIntent(ctx context.Context, in *IntentWait) (*out[Intent], error) {
	if in.Wait > 0 {
		wait := min(time.Duration(in.Wait)*time.Second, MaxIntentWait)
		deadline := time.NewTimer(wait)
		defer deadline.Stop()
		for {
			o, e := s.intentView(ctx, in.ID)
			if e != nil {
				return nil, e
			}
			if o.Status.final() {
				return &out[Intent]{Body: *o}, nil
			}
			t := s.intents
			t.mu.Lock()
			r := t.m[in.ID]
			if r == nil {
				t.mu.Unlock()
				return s.intentOut(ctx, in.ID)
			}
			ch, exp := r.changed, time.UnixMilli(r.ExpiresAt)
			t.mu.Unlock()
			// Wake at the change, at the intent's expiry, at each new
			// block (the body's height bound, a broadcast's commit), or
			// at the deadline.
			tick := time.NewTimer(min(time.Until(exp)+time.Millisecond, time.Second))
			select {
			case <-ch:
			case <-tick.C:
			case <-deadline.C:
				tick.Stop()
				return s.intentOut(ctx, in.ID)
			case <-ctx.Done():
				tick.Stop()
				return s.intentOut(context.Background(), in.ID)
			}
			tick.Stop()
		}
	}
	return s.intentOut(ctx, in.ID)
}

// takeOpen checks that an intent can still be acted on, under mu.
func (t *intents) takeOpen(id string, height int64) (*intentRec, *Error) {
	r, ok := t.m[id]
	if !ok {
		return nil, newError(http.StatusNotFound, types.CodeNotFound, fmt.Sprintf("no redemption intent %s on this gateway", clip(id)))
	}
	if t.expire(r, height) {
		_ = t.save()
	}
	switch r.Status {
	case IntentOpen:
		return r, nil
	case IntentExpired:
		return nil, newError(http.StatusGone, types.CodeExpired,
			fmt.Sprintf("redemption intent %s expired at %s (or its body's last height %d passed): ask the till for a new one", r.ID, types.FormatUnix(r.ExpiresAt/1000), r.ValidUntil))
	default:
		return nil, newError(http.StatusConflict, types.CodeDuplicate, fmt.Sprintf("redemption intent %s was already used (%s): an intent is signed once", r.ID, r.Status))
	}
}

func decodeSignature(v string) ([]byte, *Error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if sig, err := enc.DecodeString(v); err == nil {
			if len(sig) != ed25519.SignatureSize {
				return nil, badRequest("signature must be 64 bytes (an Ed25519 signature), not %d", len(sig))
			}
			return sig, nil
		}
	}
	return nil, badRequest("signature must be base64")
}

func (s *Server) signIntent(ctx context.Context, in *IntentSignature) (*bookingOut[RedeemResult], error) {
	sig, e := decodeSignature(in.Body.Signature)
	if e != nil {
		return nil, e
	}
	tx, p, e := s.cosign(in.ID, sig)
	if e != nil {
		return nil, e
	}
	cl := &client.Client{RPC: s.d.RPC, ChainID: s.d.ChainID, Timeout: s.cfg.CommitTimeout}
	res, err := cl.Broadcast(ctx, tx)
	res, err = answer(res, err)
	s.settleIntent(in.ID, res, err)
	if err != nil {
		return nil, err
	}
	return booking(res.Replayed, redeemResult(p, res)), nil
}

// cosign checks the wallet's signature over the intent's bytes, signs the
// same bytes as the till and records the co-signed tx (submitted) before
// it is broadcast: from then on the intent is used.
func (s *Server) cosign(id string, sig []byte) ([]byte, *Principal, *Error) {
	h, _ := s.d.App.Info()
	t := s.intents
	t.mu.Lock()
	r, e := t.takeOpen(id, h)
	if e != nil {
		t.mu.Unlock()
		return nil, nil, e
	}
	body, tokenID, customer := r.Body, r.TokenID, r.CustomerID
	t.mu.Unlock()

	// The key bound now (a lost phone replaced since the intent was made
	// must not sign), over exactly the intent's bytes.
	wallet, e := s.boundWallet(customer)
	if e != nil {
		return nil, nil, e
	}
	if wallet == nil || !types.VerifySignature(wallet, types.SignBytes(body), sig) {
		return nil, nil, newError(http.StatusUnprocessableEntity, types.CodeBadSignature,
			fmt.Sprintf("the signature does not verify with customer %s's bound wallet key over intent %s's sign bytes", customer, id))
	}
	key, e := s.tillKey(tokenID)
	if e != nil {
		return nil, nil, e
	}
	tx, err := (&types.Tx{Body: body, Signature: ed25519.Sign(key, types.SignBytes(body)), WalletSignature: sig}).Marshal()
	if err != nil {
		return nil, nil, internal(err.Error())
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if r, e = t.takeOpen(id, h); e != nil { // a concurrent signature won
		return nil, nil, e
	}
	r.Tx, r.TxHash = tx, types.TxHash(tx)
	t.set(r, IntentSubmitted)
	if err := t.save(); err != nil {
		s.d.LogError("gateway intents file not written", "err", err)
	}
	return tx, &Principal{SellerID: r.SellerID, TerminalID: r.TerminalID}, nil
}

// settleIntent records what became of a submitted intent's redeem.
func (s *Server) settleIntent(id string, res *client.Result, err error) {
	t := s.intents
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.m[id]
	if r == nil || r.Status != IntentSubmitted {
		return
	}
	var ge *Error
	switch {
	case errors.As(err, &ge) && ge.Code == types.CodeNotCommitted:
		return // still submitted: the status route looks again
	case err != nil:
		if ge == nil {
			ge = internal(err.Error())
		}
		r.Err = &intentErr{Status: ge.Status, Code: ge.Code, Message: ge.Message, TxHash: ge.TxHash}
		t.set(r, IntentFailed)
	case res.OK():
		x := redeemResult(&Principal{SellerID: r.SellerID, TerminalID: r.TerminalID}, res)
		r.Result = &x
		t.set(r, IntentCommitted)
	default:
		r.Err = &intentErr{Status: http.StatusUnprocessableEntity, Code: res.Code, Message: res.Log, TxHash: hex.EncodeToString(res.TxHash)}
		t.set(r, IntentFailed)
	}
	if err := t.save(); err != nil {
		s.d.LogError("gateway intents file not written", "err", err)
	}
}

// tillKey is the signing key of the token that made an intent, if the
// token is still active (revoked since: the till can no longer sign).
func (s *Server) tillKey(tokenID string) (ed25519.PrivateKey, *Error) {
	snap := s.tokens.snapshot()
	if snap.err != nil {
		return nil, internal("the gateway cannot read its token file; see the node's log")
	}
	rec, ok := snap.byID[tokenID]
	if !ok {
		return nil, newError(http.StatusUnprocessableEntity, types.CodeUnknownSigner, "the till's token that made this intent was revoked: ask the till for a new intent")
	}
	key, err := s.tokens.key(rec)
	if err != nil {
		return nil, internal("the till's signing key is not in the node's keyring; see the node's log")
	}
	return key, nil
}

func (s *Server) rejectIntent(ctx context.Context, in *IntentPath) (*out[Intent], error) {
	h, _ := s.d.App.Info()
	t := s.intents
	t.mu.Lock()
	r, e := t.takeOpen(in.ID, h)
	if e != nil {
		t.mu.Unlock()
		return nil, e
	}
	t.set(r, IntentRejected)
	if err := t.save(); err != nil {
		s.d.LogError("gateway intents file not written", "err", err)
	}
	t.mu.Unlock()
	return s.intentOut(ctx, in.ID)
}
