package loadgen

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"

	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
)

// GenOptions configure GeneratePurchases.
type GenOptions struct {
	// Homes are seller homes; their operators register the benchmark's
	// terminals and the purchases are spread over every seller's terminals.
	Homes []string
	// RPC is a node's RPC URL (default: the first home's).
	RPC                string
	Count              int    // purchases to write
	TerminalsPerSeller int    // default 4
	Customers          int    // customer pool, default 50,000
	ValidFor           uint64 // blocks a transaction stays valid, default 900
	Seed               uint64 // varies customers, amounts and idempotency keys
	// Progress, when set, is told how many transactions are written.
	Progress func(done, total int)
}

// GenStats describes what GeneratePurchases wrote.
type GenStats struct {
	Txs        int    `json:"txs"`
	Sellers    int    `json:"sellers"`
	Terminals  int    `json:"terminals"`
	Registered int    `json:"terminals_registered"` // newly registered on chain
	ValidUntil uint64 `json:"valid_until_height"`
	ChainID    string `json:"chain_id"`
}

// terminalName is the keyring name and terminal id of benchmark terminal i.
func terminalName(i int) string { return "bench-t" + strconv.Itoa(i) }

// GeneratePurchases makes sure every home's seller has TerminalsPerSeller
// active terminals (keys in its keyring, registered on chain by its
// operator when missing), then writes Count purchases signed by those
// terminals, round robin over sellers and terminals, as hex lines to w.
// Each has its own idempotency key, a PIN-verified flow and a customer and
// amount drawn from Seed; all stay valid until the same height.
func GeneratePurchases(ctx context.Context, o GenOptions, w io.Writer) (*GenStats, error) {
	if len(o.Homes) == 0 || o.Count <= 0 {
		return nil, fmt.Errorf("need at least one home and a positive count")
	}
	if o.TerminalsPerSeller <= 0 {
		o.TerminalsPerSeller = 4
	}
	if o.Customers <= 0 {
		o.Customers = 50_000
	}
	if o.ValidFor == 0 {
		o.ValidFor = 900
	}
	if o.RPC == "" {
		conf, err := node.LoadCometConfig(o.Homes[0])
		if err != nil {
			return nil, err
		}
		o.RPC = node.RPCURL(conf.RPC.ListenAddress)
	}
	type signer struct {
		seller, terminal string
		key              ed25519.PrivateKey
	}
	var signers []signer
	st := &GenStats{Sellers: len(o.Homes)}
	var cl *client.Client
	var pending [][]byte // terminal registrations in flight
	for _, home := range o.Homes {
		acfg, err := node.LoadAppConfig(home)
		if err != nil {
			return nil, err
		}
		op, err := node.LoadKey(home, node.OperatorKey)
		if err != nil {
			return nil, err
		}
		if cl, err = client.Dial(ctx, o.RPC, op); err != nil {
			return nil, err
		}
		q, err := cl.Query(ctx, "/seller/"+acfg.SellerID, false)
		if err != nil {
			return nil, fmt.Errorf("seller %s: %w", acfg.SellerID, err)
		}
		sr, err := client.Decode[types.SellerResponse](q)
		if err != nil {
			return nil, err
		}
		active := map[string]bool{}
		for _, t := range sr.Terminals {
			active[t.TerminalId] = t.Status == types.TerminalStatus_TERMINAL_STATUS_ACTIVE
		}
		for i := 0; i < o.TerminalsPerSeller; i++ {
			name := terminalName(i)
			if !node.HasKey(home, name) {
				if _, err := node.AddKey(home, name); err != nil {
					return nil, err
				}
			}
			key, err := node.LoadKey(home, name)
			if err != nil {
				return nil, err
			}
			if !active[name] {
				tx, err := cl.Build(ctx, &types.MsgRegisterTerminal{TerminalId: name, Pubkey: key.Public().(ed25519.PublicKey)}, client.Options{})
				if err != nil {
					return nil, err
				}
				res, err := cl.RPC.BroadcastTxSync(ctx, tx)
				if err != nil {
					return nil, fmt.Errorf("register terminal %s/%s: %w", acfg.SellerID, name, err)
				}
				if res.Code != 0 {
					return nil, fmt.Errorf("register terminal %s/%s: %s: %s", acfg.SellerID, name, types.Code(res.Code), res.Log)
				}
				pending = append(pending, tx)
			}
			signers = append(signers, signer{acfg.SellerID, name, key})
		}
	}
	for _, tx := range pending { // broadcast together: they commit in a block or two
		r, err := cl.WaitTx(ctx, types.TxHash(tx))
		if err != nil {
			return nil, fmt.Errorf("register a benchmark terminal: %w", err)
		}
		if !r.OK() {
			return nil, fmt.Errorf("register a benchmark terminal: %s: %s", r.Code, r.Log)
		}
		st.Registered++
	}
	st.Terminals, st.ChainID = len(signers), cl.ChainID
	status, err := cl.RPC.Status(ctx)
	if err != nil {
		return nil, err
	}
	st.ValidUntil = uint64(status.SyncInfo.LatestBlockHeight) + o.ValidFor
	flow := &types.PaymentFlow{ReadType: types.ReadType_READ_TYPE_CONTACTLESS_EMV, Cvm: types.CVM_CVM_PIN_ONLINE_OK, Auth: types.AuthResult_AUTH_RESULT_APPROVED}
	bw := bufio.NewWriterSize(w, 1<<20)
	r := newRand(o.Seed)
	for i := 0; i < o.Count; i++ {
		s := signers[i%len(signers)]
		body := &types.TxBody{
			ChainId: st.ChainID, Signer: s.key.Public().(ed25519.PublicKey),
			IdempotencyKey:   fmt.Sprintf("bench-%d-%d", o.Seed, i),
			ValidUntilHeight: st.ValidUntil,
		}
		cust := fmt.Sprintf("%064x", r.next()%uint64(o.Customers)*0x9e3779b97f4a7c15)
		amount := 100 + r.next()%500_000 // Rs 1 to Rs 5,000
		if err := body.SetMsg(&types.MsgPurchase{SellerId: s.seller, TerminalId: s.terminal, CustomerId: cust, AmountPaise: amount, Flow: flow}); err != nil {
			return nil, err
		}
		tx, err := types.SignTx(body, s.key)
		if err != nil {
			return nil, err
		}
		if _, err := fmt.Fprintln(bw, hex.EncodeToString(tx)); err != nil {
			return nil, err
		}
		st.Txs++
		if o.Progress != nil && (i+1)%10_000 == 0 {
			o.Progress(i+1, o.Count)
		}
	}
	return st, bw.Flush()
}

// GenerateKVStore writes count transactions for CometBFT's kvstore example
// application ("key=value", unique keys, values the size of a purchase's
// envelope) as hex lines: the baseline of the network benchmark.
func GenerateKVStore(w io.Writer, count int, seed uint64, valueBytes int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	r := newRand(seed)
	val := make([]byte, valueBytes)
	for i := 0; i < count; i++ {
		for j := range val {
			val[j] = 'a' + byte(r.next()%26)
		}
		tx := fmt.Sprintf("bench-%d-%d=%s", seed, i, val)
		if _, err := fmt.Fprintln(bw, hex.EncodeToString([]byte(tx))); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// xorshift: deterministic, fast, good enough for load shapes.
type xorshift struct{ s uint64 }

func newRand(seed uint64) *xorshift { return &xorshift{s: seed*0x9e3779b97f4a7c15 + 1} }

func (x *xorshift) next() uint64 {
	x.s ^= x.s << 13
	x.s ^= x.s >> 7
	x.s ^= x.s << 17
	return x.s
}
