package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	"github.com/spf13/cobra"
)

// Programs (SPEC §5.7-5.10): a seller's redemption rules, return window and
// campaigns. Every bonus point is issued by, and charged to, the seller.

func newTxProgramConfigCmd(g *globals, f *txFlags) *cobra.Command {
	var minPoints uint64
	var share, window string
	cmd := &cobra.Command{
		Use:   "program-config",
		Short: "Set this seller's redemption rules and return window within the governed bounds",
		Long: `Sets, all at once, the seller's:
  --min-redeem-points   least points a redemption at its tills may use (0: none)
  --max-redeem-share    largest share of a bill payable in points, e.g. 50% (default 100%)
  --return-window       how long points it issues stay pending, e.g. 7d (0: none; at most
                        the governed max_return_window_seconds, 30 days by default)
Pending points count in the customer's balance but cannot be redeemed
anywhere; a refund inside the window takes them back first, so a purchase
returned after its points were spent elsewhere costs the seller nothing;
the first block after the window releases them. A flag left out is set
to its default: give every rule you want to keep.`,
		Example: `  bytepointsd tx program-config --home ./net/seller-0 --min-redeem-points 50 --max-redeem-share 50% --return-window 7d`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bps, err := parseShare(share)
			if err != nil {
				return usagef("--max-redeem-share: %v", err)
			}
			secs, err := parseDuration(window)
			if err != nil {
				return usagef("--return-window: %v", err)
			}
			f.from = node.OperatorKey
			return submit(cmd, g, f, &types.MsgSetProgramConfig{MinRedeemPoints: minPoints, MaxRedeemShareBps: bps, ReturnWindowSeconds: secs})
		},
	}
	cmd.Flags().Uint64Var(&minPoints, "min-redeem-points", 0, "least points per redemption (0: no minimum)")
	cmd.Flags().StringVar(&share, "max-redeem-share", "100%", "largest share of a bill payable in points, e.g. 50% or 12.5%")
	cmd.Flags().StringVar(&window, "return-window", "0", "pending period of issued points: 7d, 36h, 90m or seconds (0: none)")
	return cmd
}

func newTxCampaignCmd(g *globals, f *txFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "campaign",
		Short: "Run bonus campaigns: extra points this seller issues and pays for",
		Long: `A campaign gives qualifying purchases at this seller a bonus, issued as a
lot by this seller and charged to its settlement position exactly like the
base points, until the campaign's point budget is spent (a purchase then
gets what is left of it, then none, and its result says why). The purchase
result shows base and bonus points and names the campaign. When several
campaigns match, the one giving most applies. At most the governed
max_active_campaigns run at once per seller.`,
	}
	cmd.AddCommand(newTxCampaignCreateCmd(g, f), newTxCampaignEndCmd(g, f))
	return cmd
}

func newTxCampaignCreateCmd(g *globals, f *txFlags) *cobra.Command {
	var name, from, to, minAmount, tier string
	var mult uint32
	var bonus, budget uint64
	var terminals []string
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Start a campaign: a multiplier or a fixed bonus for qualifying purchases, within a point budget",
		Long: `--multiplier-bps 20000 means a qualifying purchase earns twice its base
points in all (the base plus an equal bonus); --bonus-points N adds N points
to each qualifying purchase instead. A purchase qualifies inside the window
[--from, --to) (default: from now, open-ended), at or above --min-amount,
and, with --terminals, only at those tills. --budget-points bounds the
bonus points the campaign issues in all.`,
		Example: `  bytepointsd tx campaign create --home ./net/seller-0 --name "double weekend" \
      --from 2026-12-05T00:00:00Z --to 2026-12-07T00:00:00Z --multiplier-bps 20000 \
      --min-amount 500.00 --budget-points 100000
  bytepointsd tx campaign create --home ./net/seller-0 --name "50 at till-1" --bonus-points 50 \
      --terminals till-1 --budget-points 5000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m := &types.MsgCreateCampaign{Name: name, MultiplierBps: mult, BonusPoints: bonus, BudgetPoints: budget, Terminals: terminals, Tier: tier}
			var err error
			if minAmount != "" {
				if m.MinAmountPaise, err = amountFlag("min-amount", minAmount); err != nil {
					return err
				}
			}
			if from != "" {
				ms, err := types.ParseTimeMs("--from", from)
				if err != nil {
					return usagef("%s", types.Message(err))
				}
				m.From = ms / 1000
			}
			if to != "" {
				ms, err := types.ParseTimeMs("--to", to)
				if err != nil {
					return usagef("%s", types.Message(err))
				}
				m.To = ms / 1000
			}
			f.from = node.OperatorKey
			return submit(cmd, g, f, m)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "campaign name (unique among the seller's active campaigns)")
	cmd.Flags().StringVar(&from, "from", "", "start, RFC 3339 (default: now)")
	cmd.Flags().StringVar(&to, "to", "", "end, RFC 3339, exclusive (default: open-ended)")
	cmd.Flags().Uint32Var(&mult, "multiplier-bps", 0, "points in all as a multiple of the base, in bps (20000 = twice)")
	cmd.Flags().Uint64Var(&bonus, "bonus-points", 0, "fixed bonus points per qualifying purchase")
	cmd.Flags().StringVar(&minAmount, "min-amount", "", "least purchase amount in rupees, e.g. 500.00")
	cmd.Flags().StringSliceVar(&terminals, "terminals", nil, "only purchases at these tills (comma-separated; default: all)")
	cmd.Flags().StringVar(&tier, "tier", "", "only customers of this coalition tier (needs a tier table; none yet)")
	cmd.Flags().Uint64Var(&budget, "budget-points", 0, "bonus points the campaign may issue in all")
	cmd.MarkFlagsMutuallyExclusive("multiplier-bps", "bonus-points")
	must(cmd.MarkFlagRequired("name"), cmd.MarkFlagRequired("budget-points"))
	return cmd
}

func newTxCampaignEndCmd(g *globals, f *txFlags) *cobra.Command {
	var id uint64
	cmd := &cobra.Command{
		Use:     "end",
		Short:   "End one of this seller's active campaigns (see `query campaigns`)",
		Example: `  bytepointsd tx campaign end --home ./net/seller-0 --id 3`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.from = node.OperatorKey
			return submit(cmd, g, f, &types.MsgEndCampaign{CampaignId: id})
		},
	}
	cmd.Flags().Uint64Var(&id, "id", 0, "campaign id")
	must(cmd.MarkFlagRequired("id"))
	return cmd
}

// newQueryCampaignsCmd is `query campaigns`.
func newQueryCampaignsCmd(qr *queryRunner) *cobra.Command {
	g := qr.g
	var sellerID string
	cmd := &cobra.Command{
		Use:   "campaigns",
		Short: "A seller's active campaigns, redemption rules and return window",
		Example: "  bytepointsd query campaigns --home ./net/seller-0\n" +
			"  bytepointsd query campaigns --home ./net/seller-0 --seller seller-1 --prove",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if sellerID == "" {
				if sellerID = homeSeller(g); sellerID == "" {
					return usagef("--seller is required: %s has no seller of its own", g.home)
				}
			}
			if err := types.ValidateSellerID(sellerID); err != nil {
				return err
			}
			return qr.run(cmd, "/campaigns/"+sellerID, func(w io.Writer, q *client.QueryResult) (any, error) {
				r, err := client.Decode[types.CampaignsResponse](q)
				if err != nil {
					return nil, err
				}
				out := campaignsFields(r)
				fmt.Fprintf(w, "seller %s\n  redemption: at least %d points, at most %s of a bill\n  return window: %s\n",
					r.SellerId, r.EffectiveMinRedeemPoints, types.ShareText(r.EffectiveMaxRedeemShareBps), windowText(r.EffectiveReturnWindowSeconds))
				if len(r.Campaigns) == 0 {
					fmt.Fprintln(w, "  no active campaigns")
					return out, nil
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tOFFER\tMIN AMOUNT\tFROM\tTO\tTERMINALS\tSPENT/BUDGET")
				for _, x := range r.Campaigns {
					until := "open"
					if x.To != 0 {
						until = types.FormatUnix(x.To)
					}
					terms := "all"
					if len(x.Terminals) > 0 {
						terms = strings.Join(x.Terminals, ",")
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t₹%s\t%s\t%s\t%s\t%d/%d\n", x.Id, x.Name, offerText(x), types.FormatPaise(x.MinAmountPaise),
						types.FormatUnix(x.From), until, terms, x.SpentPoints, x.BudgetPoints)
				}
				tw.Flush()
				return out, nil
			})
		},
	}
	cmd.Flags().StringVar(&sellerID, "seller", "", "seller id (default: this home's seller)")
	return cmd
}

func campaignsFields(r *types.CampaignsResponse) map[string]any {
	list := make([]map[string]any, 0, len(r.Campaigns))
	for _, x := range r.Campaigns {
		list = append(list, map[string]any{
			"campaign_id": x.Id, "name": x.Name, "status": types.CampaignStatusName(x.Status),
			"from": types.FormatUnix(x.From), "from_unix": x.From, "to_unix": x.To,
			"multiplier_bps": x.MultiplierBps, "bonus_points": x.BonusPoints, "min_amount_paise": x.MinAmountPaise,
			"terminals": append([]string{}, x.Terminals...), "budget_points": x.BudgetPoints, "spent_points": x.SpentPoints,
			"purchases": x.Purchases, "created_height": x.CreatedHeight,
		})
	}
	return map[string]any{
		"seller_id": r.SellerId, "campaigns": list,
		"min_redeem_points": r.EffectiveMinRedeemPoints, "max_redeem_share_bps": r.EffectiveMaxRedeemShareBps,
		"return_window_seconds": r.EffectiveReturnWindowSeconds,
	}
}

func offerText(x *types.Campaign) string {
	if x.MultiplierBps != 0 {
		return "x" + decimalBps(x.MultiplierBps)
	}
	return fmt.Sprintf("+%d points", x.BonusPoints)
}

// decimalBps renders bps as a multiple: 20000 -> "2", 15000 -> "1.5".
func decimalBps(bps uint32) string {
	s := fmt.Sprintf("%d.%04d", bps/10000, bps%10000)
	return strings.TrimRight(strings.TrimRight(s, "0"), ".")
}

func windowText(s int64) string {
	if s == 0 {
		return "none (points are available at once)"
	}
	return types.SecondsText(s)
}

// parseShare reads "50%", "12.5%" or basis points ("5000") into bps.
func parseShare(s string) (uint32, error) {
	s = strings.TrimSpace(s)
	pct, isPct := strings.CutSuffix(s, "%")
	if !isPct {
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%q is neither a percentage (50%%) nor basis points", s)
		}
		return uint32(v), nil
	}
	whole, frac, _ := strings.Cut(pct, ".")
	if len(frac) > 2 {
		return 0, fmt.Errorf("%q has more than two decimals", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseUint(whole, 10, 16)
	fr, err2 := strconv.ParseUint(frac, 10, 16)
	if err1 != nil || err2 != nil || w > 100 {
		return 0, fmt.Errorf("%q is not a percentage from 0%% to 100%%", s)
	}
	if v := w*100 + fr; v <= 10000 {
		return uint32(v), nil
	}
	return 0, fmt.Errorf("%q is above 100%%", s)
}

// parseDuration reads 7d, 36h, 90m, 45s or plain seconds.
func parseDuration(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "d"):
		mult, s = 86400, strings.TrimSuffix(s, "d")
	case strings.HasSuffix(s, "h"):
		mult, s = 3600, strings.TrimSuffix(s, "h")
	case strings.HasSuffix(s, "m"):
		mult, s = 60, strings.TrimSuffix(s, "m")
	case strings.HasSuffix(s, "s"):
		s = strings.TrimSuffix(s, "s")
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > 1<<40 {
		return 0, fmt.Errorf("%q is not a duration such as 7d, 36h, 90m or seconds", s)
	}
	return v * mult, nil
}

// newProposeSetTiersCmd is `tx propose set-tiers` (SPEC §5.8).
func newProposeSetTiersCmd(propose func(*cobra.Command, *types.MsgPropose) error) *cobra.Command {
	var specs []string
	cmd := &cobra.Command{
		Use:   "set-tiers",
		Short: "Propose the coalition tier table: names and the rolling 365-day spend at which each begins",
		Long: `Replaces the whole table (no --tier: no tiers). A customer's tier is the
highest whose threshold its spend at all sellers reaches, counted over the
current 365/12-day bucket and the 11 before it (never more than 365 days
back); refunds take spend back. A purchase qualifies for tier campaigns
(` + "`tx campaign create --tier`" + `) by the tier before it. At most the governed
max_tiers tiers; thresholds ascending.`,
		Example: `  bytepointsd tx propose set-tiers --home ./net/seller-0 --tier silver=5000.00 --tier gold=20000.00`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			table := &types.TierTable{}
			for _, s := range specs {
				name, amount, ok := strings.Cut(s, "=")
				if !ok {
					return usagef("--tier %q: give name=rupees, e.g. gold=20000.00", s)
				}
				paise, err := amountFlag("tier", amount)
				if err != nil {
					return err
				}
				table.Tiers = append(table.Tiers, &types.Tier{Name: name, ThresholdPaise: paise})
			}
			return propose(cmd, &types.MsgPropose{Action: &types.MsgPropose_SetTiers{SetTiers: table}})
		},
	}
	cmd.Flags().StringArrayVar(&specs, "tier", nil, "a tier as name=threshold in rupees, lowest first (repeat)")
	return cmd
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func newTxReferralOfferCmd(g *globals, f *txFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "referral-offer",
		Short: "This seller's referral offer: bonuses it pays both sides when a referred customer first buys here",
		Long: `Every customer has a referral code (printed as referral_code on each of its
purchases; a one-way hash of its card token, which it does not reveal). A
new customer gives a code at its first purchase anywhere (tx purchase
--referral-code): at a seller with a referral offer, the two are linked once
and forever and the seller issues --referrer-points to the referrer and
--referee-points to the new customer, charged to its position like any
issuance. Refused: the customer's own code, a second referrer, a customer
who bought before, a code of no one. A refund of the qualifying purchase
takes both bonuses back in proportion.`,
	}
	var referrer, referee uint64
	var minAmount string
	set := &cobra.Command{
		Use:     "set",
		Short:   "Set (or, with both bonuses 0, withdraw) the referral offer",
		Example: `  bytepointsd tx referral-offer set --home ./net/seller-0 --referrer-points 100 --referee-points 50 --min-amount 200.00`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m := &types.MsgSetReferralOffer{ReferrerPoints: referrer, RefereePoints: referee}
			if minAmount != "" {
				var err error
				if m.MinAmountPaise, err = amountFlag("min-amount", minAmount); err != nil {
					return err
				}
			}
			f.from = node.OperatorKey
			return submit(cmd, g, f, m)
		},
	}
	set.Flags().Uint64Var(&referrer, "referrer-points", 0, "bonus points to the referrer")
	set.Flags().Uint64Var(&referee, "referee-points", 0, "bonus points to the referred customer")
	set.Flags().StringVar(&minAmount, "min-amount", "", "least qualifying purchase in rupees")
	cmd.AddCommand(set)
	return cmd
}

// printProgramColumns prints a statement's program columns (SPEC §5.7,
// §5.9), when any line has them: of the points issued, campaign and
// referral bonuses, and the pending points released.
func printProgramColumns(w io.Writer, s *types.Statement) {
	var has bool
	for _, l := range s.Lines {
		if a := l.Activity; a != nil && a.BonusPoints+a.ReferralPoints+a.ReleasedPoints > 0 {
			has = true
		}
	}
	if !has {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "seller\tof issued: campaign bonus\treferral bonus\treleased from pending\t")
	for _, l := range s.Lines {
		if a := l.Activity; a != nil && a.BonusPoints+a.ReferralPoints+a.ReleasedPoints > 0 {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", l.SellerId, a.BonusPoints, a.ReferralPoints, a.ReleasedPoints)
		}
	}
	tw.Flush()
}
