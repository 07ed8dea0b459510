package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	"github.com/spf13/cobra"
)

// txFlags are shared by every tx subcommand.
type txFlags struct {
	from     string
	terminal string
	idemKey  string
	validFor uint64
	timeout  time.Duration
	wallet   string
}

func newTxCmd(g *globals) *cobra.Command {
	f := &txFlags{}
	cmd := &cobra.Command{
		Use:   "tx",
		Short: "Sign a transaction with a home's key, broadcast it and wait for its commit",
		Long: `Each tx subcommand signs with a key of --home (the operator key unless --from
or --terminal names another), broadcasts to the home's node (or --node), waits
until the transaction is in a committed block and prints its result. A
rejected transaction prints its code and log and exits with status 1.

Retrying is safe: give the same --idempotency-key and the ledger books the
operation once; the retry prints the original result with "replayed": true.
Every tx command prints the key it used (idempotency_key; without
--idempotency-key a random one is drawn). When the commit is not seen within
--timeout it exits 75 and prints the tx hash, the key, the exact command to
retry with it and the query tx command to look the transaction up.

` + exitStatusHelp,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.from, "from", "", "key to sign with (default: the --terminal's key if the keyring has one, else operator)")
	pf.StringVar(&f.terminal, "terminal", "", "terminal id acting at the till")
	pf.StringVar(&f.idemKey, "idempotency-key", "", "idempotency key (default: random, printed); reuse it when retrying")
	pf.Uint64Var(&f.validFor, "valid-for", 100, "blocks the transaction stays valid (at most the chain's max_valid_ahead_blocks)")
	pf.DurationVar(&f.timeout, "timeout", 30*time.Second, "how long to wait for the commit (then exit status 75: retry with the printed command)")
	pf.StringVar(&f.wallet, "wallet", "", "key of the customer's bound wallet, to co-sign a redemption")
	cmd.AddCommand(
		newTxPurchaseCmd(g, f), newTxRedeemCmd(g, f), newTxRefundCmd(g, f), newTxVoidCmd(g, f),
		newTxRegisterTerminalCmd(g, f), newTxRevokeTerminalCmd(g, f), newTxConfirmCmd(g, f),
		newTxSetConfigCmd(g, f), newTxBindWalletCmd(g, f), newTxProposeCmd(g, f), newTxVoteCmd(g, f),
		newTxProgramConfigCmd(g, f), newTxCampaignCmd(g, f), newTxReferralOfferCmd(g, f),
	)
	return cmd
}

// rpcURL is --node or the home's RPC listen address.
func rpcURL(g *globals) (string, error) {
	if g.node != "" {
		return g.node, nil
	}
	conf, err := node.LoadCometConfig(g.home)
	if err != nil {
		return "", fmt.Errorf("%w (or pass --node http://host:port)", err)
	}
	return node.RPCURL(conf.RPC.ListenAddress), nil
}

func (f *txFlags) signer(g *globals) (ed25519.PrivateKey, error) {
	name := f.from
	if name == "" {
		name = node.OperatorKey
		if f.terminal != "" && node.HasKey(g.home, f.terminal) {
			name = f.terminal
		}
	}
	return loadKey(g, name)
}

func dialSigner(ctx context.Context, g *globals, key ed25519.PrivateKey) (*client.Client, error) {
	url, err := rpcURL(g)
	if err != nil {
		return nil, err
	}
	return client.Dial(ctx, url, key)
}

// submit signs, broadcasts and prints msg's result.
func submit(cmd *cobra.Command, g *globals, f *txFlags, msg any) error {
	key, err := f.signer(g)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	cl, err := dialSigner(ctx, g, key)
	if err != nil {
		return err
	}
	cl.ValidFor, cl.Timeout = f.validFor, f.timeout
	o := client.Options{IdempotencyKey: f.idemKey}
	if f.wallet != "" {
		if o.WalletKey, err = loadKey(g, f.wallet); err != nil {
			return err
		}
	}
	if o.IdempotencyKey == "" {
		// Drawn here, not by the client, so that it is known (and
		// printed) whatever happens next.
		o.IdempotencyKey = client.NewIdempotencyKey()
	}
	res, err := cl.Submit(ctx, msg, o)
	var nc *client.ErrNotCommitted
	if errors.As(err, &nc) {
		if err := printNotCommitted(cmd, g, nc); err != nil {
			return err
		}
		return &exitError{code: exitNotCommitted}
	}
	if err != nil {
		// Whether it reached the node or not, the same key books at most once.
		return fmt.Errorf("%w\nidempotency key %s; retry safely with:\n  %s", err, o.IdempotencyKey, retryCommand(g, o.IdempotencyKey))
	}
	return printTxResult(cmd, g, res)
}

// printTxResult prints a committed or refused transaction's result (a
// refused one with -o json carries "error" like every CLI error) and
// returns exitError 1 for a refusal.
func printTxResult(cmd *cobra.Command, g *globals, res *client.Result) error {
	fields := resultFields(res)
	fields["status"] = "committed"
	if !res.OK() {
		fields["status"] = "refused"
	}
	if !res.OK() {
		msg := res.Log
		if !strings.HasPrefix(msg, res.Code.Name()+":") {
			msg = res.Code.Name() + ": " + msg
		}
		fields["error"] = "refused: " + msg
	}
	if g.output == "json" {
		if err := printJSON(cmd.OutOrStdout(), fields); err != nil {
			return err
		}
	} else {
		printFields(cmd, res, fields)
	}
	if !res.OK() {
		return &exitError{code: exitFailed}
	}
	return nil
}

func printFields(cmd *cobra.Command, res *client.Result, fields map[string]any) {
	w := cmd.OutOrStdout()
	if res.OK() {
		fmt.Fprintf(w, "committed at height %d, tx %x", res.Height, res.TxHash)
		if res.Replayed {
			fmt.Fprint(w, " (replayed: this idempotency key was already used; original result)")
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintf(w, "REJECTED: code %d (%s): %s\n", res.Code, res.Code.Name(), res.Log)
		if res.IdempotencyKey != "" {
			fmt.Fprintf(w, "  idempotency key:       %s\n", res.IdempotencyKey)
		}
		return
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		switch k {
		case "code", "code_name", "tx_hash", "height", "replayed", "expires_at_unix", "status":
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := fields[k]
		// Text speaks rupees: an amount in paise is shown as ₹, under the
		// name without _paise (JSON keeps both).
		if name, ok := strings.CutSuffix(k, "_paise"); ok {
			if p, isInt := v.(uint64); isInt {
				if _, both := fields[name]; both {
					continue
				}
				k, v = name, "₹"+types.FormatPaise(p)
			}
		} else if s, isStr := v.(string); isStr && (k == "seller_payment" || k == "system_payment") {
			v = "₹" + s
		}
		fmt.Fprintf(w, "  %-22s %v\n", strings.ReplaceAll(k, "_", " ")+":", v)
	}
}

// amountFlag parses a rupee amount flag.
func amountFlag(name, v string) (uint64, error) {
	p, err := types.ParseRupees(v)
	if err != nil {
		return 0, usagef("--%s: %v", name, err)
	}
	return p, nil
}

func txIDFlag(name, v string) ([]byte, error) {
	id, err := hex.DecodeString(strings.TrimPrefix(v, "0x"))
	if err != nil || len(id) != 32 {
		return nil, usagef("--%s must be a 64-hex transaction hash (printed as tx_hash when it was committed)", name)
	}
	return id, nil
}

// flowFlags describe the payment flow the terminal observed. Nothing is
// assumed: without --cvm the transaction carries no flow, which verifies
// nothing (SPEC §6.1).
type flowFlags struct {
	readType string
	cvm      string
	auth     string
	ms       uint32
}

func (ff *flowFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&ff.cvm, "cvm", "none", "cardholder verification observed: "+strings.Join(types.CVMNames(), ", ")+
		"; none (the default) records no flow: nothing was verified")
	cmd.Flags().StringVar(&ff.readType, "read-type", "", "how the card was read (required with --cvm): "+strings.Join(types.ReadTypeNames(), ", "))
	cmd.Flags().StringVar(&ff.auth, "auth", "approved", "authorisation result with --cvm: "+strings.Join(types.AuthNames(), ", "))
	cmd.Flags().Uint32Var(&ff.ms, "verification-ms", 0, "measured verification time in ms, with --cvm")
}

// flow returns the flow, or nil for --cvm none.
func (ff *flowFlags) flow() (*types.PaymentFlow, error) {
	if ff.cvm == "none" {
		return nil, nil
	}
	if ff.readType == "" {
		return nil, usagef("--read-type is required with --cvm %s: %s", ff.cvm, strings.Join(types.ReadTypeNames(), ", "))
	}
	rt, err := types.ParseReadType(ff.readType)
	if err != nil {
		return nil, usagef("--read-type: %s", types.Message(err))
	}
	cvm, err := types.ParseCVM(ff.cvm)
	if err != nil {
		return nil, usagef("--cvm: %s, or none", types.Message(err))
	}
	au, err := types.ParseAuth(ff.auth)
	if err != nil {
		return nil, usagef("--auth: %s", types.Message(err))
	}
	return &types.PaymentFlow{ReadType: rt, Cvm: cvm, Auth: au, VerificationMs: ff.ms}, nil
}

func newTxPurchaseCmd(g *globals, f *txFlags) *cobra.Command {
	var customer, amount, payAt, crmsContext, referral string
	var payTime int64
	ff := &flowFlags{}
	cmd := &cobra.Command{
		Use:   "purchase",
		Short: "Book a purchase: the customer earns points, the seller pays their value into the escrow",
		Long: `Books a purchase of --amount rupees by --customer (the card token) at this
home's seller. Points = floor(amount x earn rate); the default rate gives 1
point per rupee. The seller's settlement position goes down by the points'
value. The payment flow (--cvm, --read-type, --auth) feeds the card's CRMS
reputation; without --cvm the purchase records a payment that verified
nothing, which rates 0. --terminal names the till: it must be an active
terminal of this seller (its key signs when the keyring has it, else the
operator key signs naming it).`,
		Example: `  bytepointsd tx purchase --home ./net/seller-0 --customer C --amount 100.00 -o json
  bytepointsd tx purchase --home ./net/seller-0 --customer C --amount 100.00 --terminal till-1 \
      --cvm pin-online --read-type contact-emv --idempotency-key pos-42`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			paise, err := amountFlag("amount", amount)
			if err != nil {
				return err
			}
			flow, err := ff.flow()
			if err != nil {
				return err
			}
			if payAt != "" {
				if payTime, err = types.ParseTimeMs("--payment-time", payAt); err != nil {
					return usagef("%s", types.Message(err))
				}
			}
			var ctxNano int64
			if crmsContext != "" {
				if ctxNano, err = parseNano(crmsContext); err != nil {
					return usagef("--context: %v", err)
				}
			}
			return submit(cmd, g, f, &types.MsgPurchase{CustomerId: customer, AmountPaise: paise, TerminalId: f.terminal, Flow: flow,
				PaymentTimeMs: payTime, ContextNano: ctxNano, ReferralCode: referral})
		},
	}
	cmd.Flags().StringVar(&customer, "customer", "", "customer id (card token)")
	cmd.Flags().StringVar(&amount, "amount", "", "purchase amount in rupees, e.g. 100.00")
	cmd.Flags().StringVar(&payAt, "payment-time", "", "terminal time of the payment, RFC 3339 (2026-12-03T10:15:00Z) or Unix ms (default: block time)")
	cmd.Flags().Int64Var(&payTime, "payment-time-ms", 0, "terminal time of the payment in Unix ms (older spelling of --payment-time)")
	cmd.MarkFlagsMutuallyExclusive("payment-time", "payment-time-ms")
	cmd.Flags().StringVar(&crmsContext, "context", "", "CRMS context multiplier the till decided a skip with, e.g. 2.0 (default 1.0; within the governed bounds)")
	cmd.Flags().StringVar(&referral, "referral-code", "", "the referral code the customer gave (only at its first purchase anywhere; see tx referral-offer)")
	ff.register(cmd)
	must(cmd.MarkFlagRequired("customer"), cmd.MarkFlagRequired("amount"))
	return cmd
}

func must(errs ...error) {
	for _, e := range errs {
		if e != nil {
			panic(e)
		}
	}
}

func newTxRedeemCmd(g *globals, f *txFlags) *cobra.Command {
	var customer, bill string
	var points uint64
	var ctxNano int64
	ff := &flowFlags{}
	cmd := &cobra.Command{
		Use:   "redeem",
		Short: "Spend a customer's points against a bill at this seller",
		Long: `Redeems --points of --customer against a bill of --bill rupees: points x ₹1
must not exceed the bill. Lots are consumed earliest-expiry first; points this
seller issued are a same-seller redemption, the rest cross-seller. The escrow
reimburses the seller either way.

The redemption must be vouched for: by a verified PIN at the till (--cvm
pin-online or pin-offline, with --read-type), by the CRMS when the card's
reputation allows skipping verification for this value, or by the
customer's wallet (--wallet NAME). Without --cvm nothing was verified at the
till (the default): the CRMS or the wallet must vouch, else the redemption
fails with cvm_required.`,
		Example: "  bytepointsd tx redeem --home ./net/seller-1 --customer C --points 40 --bill 250.00 --cvm pin-online --read-type contact-emv -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			paise, err := amountFlag("bill", bill)
			if err != nil {
				return err
			}
			flow, err := ff.flow()
			if err != nil {
				return err
			}
			return submit(cmd, g, f, &types.MsgRedeem{CustomerId: customer, Points: points, BillPaise: paise, TerminalId: f.terminal, Flow: flow, ContextNano: ctxNano})
		},
	}
	cmd.Flags().StringVar(&customer, "customer", "", "customer id (card token)")
	cmd.Flags().Uint64Var(&points, "points", 0, "points to redeem")
	cmd.Flags().StringVar(&bill, "bill", "", "the bill in rupees, e.g. 250.00")
	cmd.Flags().Int64Var(&ctxNano, "context-nano", 0, "CRMS context multiplier in 1e-9 units (0 = 1.0)")
	ff.register(cmd)
	must(cmd.MarkFlagRequired("customer"), cmd.MarkFlagRequired("points"), cmd.MarkFlagRequired("bill"))
	return cmd
}

func newTxRefundCmd(g *globals, f *txFlags) *cobra.Command {
	var purchase, amount string
	cmd := &cobra.Command{
		Use:   "refund",
		Short: "Refund all or part of a purchase and claw back its points",
		Long: `Refunds --amount rupees (default: all that is not yet refunded) of the purchase
--purchase (its tx hash). The points that amount earned are clawed back from
what the customer still holds of this seller's points; the seller is credited
for what came back. Points already spent are reported as the shortfall and
stay a cost of the seller.`,
		Example: "  bytepointsd tx refund --home ./net/seller-0 --purchase 3F...9A --amount 20.00",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := txIDFlag("purchase", purchase)
			if err != nil {
				return err
			}
			var paise uint64
			if amount != "" {
				if paise, err = amountFlag("amount", amount); err != nil {
					return err
				}
				if paise == 0 {
					return usagef("--amount must be positive (omit it to refund everything left)")
				}
			}
			return submit(cmd, g, f, &types.MsgRefund{PurchaseId: id, AmountPaise: paise, TerminalId: f.terminal})
		},
	}
	cmd.Flags().StringVar(&purchase, "purchase", "", "tx hash of the purchase")
	cmd.Flags().StringVar(&amount, "amount", "", "rupees to refund (default: the rest of the purchase)")
	must(cmd.MarkFlagRequired("purchase"))
	return cmd
}

func newTxVoidCmd(g *globals, f *txFlags) *cobra.Command {
	var redemption string
	cmd := &cobra.Command{
		Use:   "void",
		Short: "Void a redemption of the open settlement epoch, restoring the customer's lots",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := txIDFlag("redemption", redemption)
			if err != nil {
				return err
			}
			return submit(cmd, g, f, &types.MsgVoidRedemption{RedemptionId: id, TerminalId: f.terminal})
		},
	}
	cmd.Flags().StringVar(&redemption, "redemption", "", "tx hash of the redemption")
	must(cmd.MarkFlagRequired("redemption"))
	return cmd
}

func pubKeyArg(g *globals, v string) ([]byte, error) {
	if bz, err := hex.DecodeString(v); err == nil && len(bz) == ed25519.PublicKeySize {
		return bz, nil
	}
	k, err := loadKey(g, v)
	if err != nil {
		return nil, fmt.Errorf("%q is neither a 64-hex public key nor a key in the keyring: %w", v, err)
	}
	return k.Public().(ed25519.PublicKey), nil
}

func newTxRegisterTerminalCmd(g *globals, f *txFlags) *cobra.Command {
	var id, pub string
	cmd := &cobra.Command{
		Use:     "register-terminal",
		Short:   "Register a terminal's key for this seller (operator key signs)",
		Example: "  bytepointsd keys add till-1 --home H && bytepointsd tx register-terminal --home H --id till-1 --pubkey till-1",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if pub == "" {
				pub = id
			}
			pk, err := pubKeyArg(g, pub)
			if err != nil {
				return err
			}
			f.from = node.OperatorKey
			return submit(cmd, g, f, &types.MsgRegisterTerminal{TerminalId: id, Pubkey: pk})
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "terminal id")
	cmd.Flags().StringVar(&pub, "pubkey", "", "terminal public key (hex) or keyring key name (default: the key named like the terminal)")
	must(cmd.MarkFlagRequired("id"))
	return cmd
}

func newTxRevokeTerminalCmd(g *globals, f *txFlags) *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "revoke-terminal",
		Short: "Revoke a terminal's key for good (operator key signs)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.from = node.OperatorKey
			return submit(cmd, g, f, &types.MsgRevokeTerminal{TerminalId: id})
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "terminal id")
	must(cmd.MarkFlagRequired("id"))
	return cmd
}

func newTxConfirmCmd(g *globals, f *txFlags) *cobra.Command {
	var epoch, ref string
	cmd := &cobra.Command{
		Use:   "confirm-settlement",
		Short: "Confirm this seller's line of an epoch's statement as paid or received",
		Long: `Marks this home's seller's line of the statement of --epoch (a closed epoch:
its number, or its UTC date YYYY-MM-DD for daily epochs, as in
"query statement") as paid (the seller owed the escrow) or received (the
escrow owed the seller), with the bank transfer's reference. The operator
key signs.`,
		Example: "  bytepointsd tx confirm-settlement --home ./net/seller-0 --epoch 2026-11-23 --bank-ref UTR123",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			arg, err := parseEpochArg("--epoch", epoch)
			if err != nil {
				return err
			}
			e := arg.n
			if arg.isDate {
				cl, err := dialSigner(cmd.Context(), g, nil)
				if err != nil {
					return err
				}
				if e, err = arg.resolve(cmd.Context(), cl); err != nil {
					return err
				}
			}
			f.from = node.OperatorKey
			return submit(cmd, g, f, &types.MsgConfirmSettlement{Epoch: e, BankReference: ref})
		},
	}
	cmd.Flags().StringVar(&epoch, "epoch", "", "settlement epoch: its number or its date YYYY-MM-DD (see `query statements`)")
	cmd.Flags().StringVar(&ref, "bank-ref", "", "bank transfer reference")
	must(cmd.MarkFlagRequired("epoch"), cmd.MarkFlagRequired("bank-ref"))
	return cmd
}

func newTxSetConfigCmd(g *globals, f *txFlags) *cobra.Command {
	var rate uint32
	var risk string
	cmd := &cobra.Command{
		Use:   "set-config",
		Short: "Set this seller's earn rate and CRMS Risk_max within the governed bounds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var riskNano int64
			toDefault := risk == "default"
			if risk != "" && !toDefault {
				v, err := parseNano(risk)
				if err != nil {
					return usagef("--risk-max: %v", err)
				}
				riskNano = v
			}
			f.from = node.OperatorKey
			return submit(cmd, g, f, &types.MsgSetSellerConfig{EarnRateBps: rate, RiskMaxNano: riskNano, RiskMaxDefault: toDefault})
		},
	}
	cmd.Flags().Uint32Var(&rate, "earn-rate-bps", 0, "points per ₹100 spent x 100 (10000 = 1 point per rupee)")
	cmd.Flags().StringVar(&risk, "risk-max", "", "CRMS Risk_max, e.g. 0.005; \"default\" follows the governed default again")
	return cmd
}

// parseNano parses a decimal like 0.005 into 1e-9 units without floats.
func parseNano(s string) (int64, error) {
	whole, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	if len(frac) > 9 {
		return 0, fmt.Errorf("%q has more than 9 decimals", s)
	}
	for len(frac) < 9 {
		frac += "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	fr, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w < 0 || w > 9_000_000_000 {
		return 0, fmt.Errorf("%q is not a non-negative decimal", s)
	}
	return w*1_000_000_000 + fr, nil
}

func newTxBindWalletCmd(g *globals, f *txFlags) *cobra.Command {
	var customer, wallet string
	ff := &flowFlags{}
	cmd := &cobra.Command{
		Use:   "bind-wallet",
		Short: "Bind a customer's wallet key to their card (needs a PIN-verified flow at the till)",
		Long: `Binds --wallet-key to --customer's card, so the wallet can later co-sign
redemptions the CRMS would not allow alone. The customer must be present and
verified at the till: pass the flow, e.g. --cvm pin-online --read-type
contact-emv (without it nothing was verified and the chain answers
cvm_required).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pk, err := pubKeyArg(g, wallet)
			if err != nil {
				return err
			}
			flow, err := ff.flow()
			if err != nil {
				return err
			}
			return submit(cmd, g, f, &types.MsgBindWallet{CustomerId: customer, WalletPubkey: pk, TerminalId: f.terminal, Flow: flow})
		},
	}
	cmd.Flags().StringVar(&customer, "customer", "", "customer id (card token)")
	cmd.Flags().StringVar(&wallet, "wallet-key", "", "wallet public key (hex) or keyring key name")
	ff.register(cmd)
	must(cmd.MarkFlagRequired("customer"), cmd.MarkFlagRequired("wallet-key"))
	return cmd
}
