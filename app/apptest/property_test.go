package apptest

import (
	"bytes"
	"flag"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/program"
	"github.com/bytepoints/bytepoints/types"
	"pgregory.net/rapid"
)

var propTxs = flag.Int("prop.txs", 10000, "minimum transactions the random-chain property test must execute")

// TestRandomChainsKeepInvariants drives random chains of blocks (purchases,
// redemptions, refunds, voids, expiry, epoch closes, settlement,
// terminal churn, imports against an approval, replays and garbage) and checks the SPEC §5.5
// invariants after every block, and that no transaction ever hits an
// internal error. It runs at least -prop.txs transactions in all.
func TestRandomChainsKeepInvariants(t *testing.T) {
	var total atomic.Int64
	checks := 0
	seen := map[string]int{}
	rapid.Check(t, func(rt *rapid.T) {
		checks++
		n := runRandomChain(t, rt, *propTxs/100+1, seen)
		total.Add(int64(n))
	})
	if total.Load() < int64(*propTxs) && !testing.Short() {
		t.Fatalf("only %d transactions in %d chains; want at least %d", total.Load(), checks, *propTxs)
	}
	// The run must have exercised every kind of movement, not just failures.
	for _, k := range []string{"purchase", "redeem", "refund", "void", "points_expired", "epoch_closed", "settlement_confirmed", "duplicate", "decode",
		"campaign_bonus", "pending", "bonus_short", "points_released", "campaign_CAMPAIGN_STATUS_ACTIVE", "campaign_CAMPAIGN_STATUS_ENDED",
		"referral", "import"} {
		if seen[k] == 0 {
			t.Errorf("no successful %s in the whole run", k)
		}
	}
	t.Logf("outcomes: %v", seen)
	t.Logf("%d random transactions in %d chains, invariants held after every block", total.Load(), checks)
}

func runRandomChain(t *testing.T, rt *rapid.T, minTxs int, seen map[string]int) int {
	p := app.DefaultParams()
	p.LotValiditySeconds = 3 * 86400
	p.EpochSeconds = 86400
	// The shortest retention allowed (the idempotency window): long random
	// chains prune their oldest records under the invariants.
	p.RecordRetentionSeconds = p.IdempotencyWindowSeconds
	sellers := []string{"seller-a", "seller-b", "seller-c"}
	c := New(t, sellers, p)
	c.T = rt
	// A coalition tier table (SPEC §5.8), passed by all three sellers, so
	// tier campaigns and spend buckets are in play from the start.
	table := &types.TierTable{Tiers: []*types.Tier{{Name: "silver", ThresholdPaise: 200_000}, {Name: "gold", ThresholdPaise: 1_000_000}}}
	MustOK(rt, c.Do(Operator(sellers[0]), &types.MsgPropose{Action: &types.MsgPropose_SetTiers{SetTiers: table}}))
	MustOK(rt, c.Do(Operator(sellers[1]), &types.MsgVote{ProposalId: 1, Yes: true}))
	if !MustOK(rt, c.Do(Operator(sellers[2]), &types.MsgVote{ProposalId: 1, Yes: true})).GetVote().Executed {
		rt.Fatal("tier table did not pass")
	}
	customers := []string{"c1", "c2", "c3", "c4", "c5"}
	terminals := map[string][]string{}
	var purchases, redemptions [][]byte
	var sent [][]byte
	// seller-a may import up to 200,000 points (all three members vote).
	prop := MustOK(rt, c.Do(Operator("seller-a"), &types.MsgPropose{Action: &types.MsgPropose_ApproveImport{
		ApproveImport: &types.ApproveImport{SellerId: "seller-a", MaxPoints: 200_000}}})).GetPropose()
	for _, s := range sellers[1:] {
		MustOK(rt, c.Do(Operator(s), &types.MsgVote{ProposalId: prop.ProposalId, Yes: true}))
	}
	ops := 0
	pick := func(label string, xs []string) string { return rapid.SampledFrom(xs).Draw(rt, label) }
	for ops < minTxs {
		var txs [][]byte
		nTx := rapid.IntRange(0, 12).Draw(rt, "ntx")
		for i := 0; i < nTx; i++ {
			seller := pick("seller", sellers)
			signer := Operator(seller)
			if ts := terminals[seller]; len(ts) > 0 && rapid.Bool().Draw(rt, "viaTerminal") {
				signer = seller + "/" + pick("terminal", ts)
			}
			var msg any
			switch rapid.IntRange(0, 16).Draw(rt, "kind") {
			case 0, 1, 2:
				m := &types.MsgPurchase{CustomerId: pick("cust", customers),
					AmountPaise: rapid.OneOf(rapid.Uint64Range(0, 500_000), rapid.Just(uint64(1)<<63)).Draw(rt, "amount"), Flow: Flow()}
				if rapid.IntRange(0, 3).Draw(rt, "referred") == 0 {
					// A referral: mostly a newcomer, sometimes a customer
					// who bought before or refers itself.
					if rapid.Bool().Draw(rt, "newcomer") {
						m.CustomerId = fmt.Sprintf("n%d", ops+i)
					}
					m.ReferralCode = program.Code(pick("referrer", append(customers, "never-bought")))
				}
				msg = m
			case 3, 4:
				pts := rapid.Uint64Range(0, 400).Draw(rt, "points")
				msg = &types.MsgRedeem{CustomerId: pick("cust", customers), Points: pts,
					BillPaise: pts*100 + rapid.Uint64Range(0, 5000).Draw(rt, "extra") - rapid.Uint64Range(0, 100).Draw(rt, "short"), Flow: Flow()}
			case 5:
				if len(purchases) > 0 {
					msg = &types.MsgRefund{PurchaseId: rapid.SampledFrom(purchases).Draw(rt, "purchase"),
						AmountPaise: rapid.Uint64Range(0, 20000).Draw(rt, "refund")}
				}
			case 6:
				if len(redemptions) > 0 {
					msg = &types.MsgVoidRedemption{RedemptionId: rapid.SampledFrom(redemptions).Draw(rt, "redemption")}
				}
			case 7:
				id := fmt.Sprintf("t%d", rapid.IntRange(0, 3).Draw(rt, "tid"))
				signer = Operator(seller)
				msg = &types.MsgRegisterTerminal{TerminalId: id, Pubkey: Pub(seller + "/" + id)}
				terminals[seller] = append(terminals[seller], id)
			case 8:
				if ts := terminals[seller]; len(ts) > 0 {
					signer = Operator(seller)
					msg = &types.MsgRevokeTerminal{TerminalId: pick("terminal", ts)}
				}
			case 9:
				signer = Operator(seller)
				msg = &types.MsgConfirmSettlement{Epoch: rapid.Uint64Range(20454, 20470).Draw(rt, "epoch"), BankReference: "UTR"}
			case 10:
				if len(sent) > 0 {
					txs = append(txs, rapid.SampledFrom(sent).Draw(rt, "replay"))
				}
			case 11:
				txs = append(txs, rapid.SliceOfN(rapid.Byte(), 0, 40).Draw(rt, "garbage"))
			case 12:
				// Programs: redemption rules and return windows, some out
				// of the governed bounds.
				signer = Operator(seller)
				msg = &types.MsgSetProgramConfig{
					MinRedeemPoints:     rapid.SampledFrom([]uint64{0, 0, 5, 50, 1001}).Draw(rt, "minRedeem"),
					MaxRedeemShareBps:   rapid.SampledFrom([]uint32{0, 0, 999, 2500, 5000, 10000, 10001}).Draw(rt, "share"),
					ReturnWindowSeconds: rapid.SampledFrom([]int64{0, 0, 600, 3600, 86400, 31 * 86400}).Draw(rt, "window"),
				}
			case 13:
				signer = Operator(seller)
				m := &types.MsgCreateCampaign{
					Name:           fmt.Sprintf("camp-%d", rapid.IntRange(0, 3).Draw(rt, "campName")),
					MinAmountPaise: rapid.SampledFrom([]uint64{0, 1000, 100_000}).Draw(rt, "campMin"),
					BudgetPoints:   rapid.SampledFrom([]uint64{0, 1, 150, 5000}).Draw(rt, "budget"),
				}
				if rapid.Bool().Draw(rt, "multiplier") {
					m.MultiplierBps = rapid.SampledFrom([]uint32{10000, 15000, 20000, 30000}).Draw(rt, "mult")
				} else {
					m.BonusPoints = rapid.SampledFrom([]uint64{0, 1, 25}).Draw(rt, "bonus")
				}
				if rapid.Bool().Draw(rt, "windowed") {
					m.To = c.Time + rapid.Int64Range(-100, 86400).Draw(rt, "campTo")
				}
				m.Tier = rapid.SampledFrom([]string{"", "", "silver", "gold", "bronze"}).Draw(rt, "campTier")
				if ts := terminals[seller]; len(ts) > 0 && rapid.Bool().Draw(rt, "campTerminal") {
					m.Terminals = []string{pick("campTill", ts)}
				}
				msg = m
			case 14:
				signer = Operator(seller)
				msg = &types.MsgEndCampaign{CampaignId: rapid.Uint64Range(0, 6).Draw(rt, "campaignID")}
			case 15:
				signer = Operator(seller)
				msg = &types.MsgSetReferralOffer{
					ReferrerPoints: rapid.SampledFrom([]uint64{0, 10, 200, 1001}).Draw(rt, "referrerPoints"),
					RefereePoints:  rapid.SampledFrom([]uint64{0, 5, 100}).Draw(rt, "refereePoints"),
					MinAmountPaise: rapid.SampledFrom([]uint64{0, 10_000}).Draw(rt, "referralMin"),
				}
			case 16:
				// Rows of one of two 40-row files, some overlapping what
				// was booked, some past the allowance or the lot validity.
				signer = Operator(seller)
				digest := make([]byte, 32)
				digest[0] = byte(rapid.IntRange(0, 1).Draw(rt, "file"))
				m := &types.MsgImportBalances{FileDigest: digest, FirstRow: rapid.Uint64Range(0, 38).Draw(rt, "first"), FileRows: 40}
				n := rapid.IntRange(1, 3).Draw(rt, "rows")
				for j := 0; j < n && m.FirstRow+uint64(j) < 40; j++ {
					m.Rows = append(m.Rows, &types.ImportRow{CustomerId: pick("cust", customers), Points: rapid.Uint64Range(0, 30_000).Draw(rt, "ipoints"),
						ExpiresAt: c.Time + rapid.Int64Range(-10, p.LotValiditySeconds+100).Draw(rt, "iexp")})
				}
				msg = m
			}
			if msg != nil {
				tx := c.Tx(signer, msg)
				txs = append(txs, tx)
				sent = append(sent, tx)
			}
		}
		dt := rapid.OneOf(rapid.Int64Range(1, 600), rapid.Int64Range(3600, 2*86400)).Draw(rt, "dt")
		res := c.Block(dt, txs...)
		for _, ev := range c.Events {
			seen[ev.Type]++
		}
		for i, r := range res {
			switch r.Code {
			case types.CodeDuplicate, types.CodeDecode, types.CodeRecordPruned:
				seen[r.Code.Name()]++
			}
			for _, ev := range r.Events {
				if ev.Type == types.EventSettlement {
					seen[ev.Type]++
				}
			}
			if r.Code == types.CodeInternal {
				rt.Fatalf("internal error: %s", r.Log)
			}
			if r.Code == 0 && r.Data != nil {
				var d types.TxResultData
				if err := d.Unmarshal(r.Data); err != nil {
					rt.Fatal(err)
				}
				if p := d.GetPurchase(); p != nil {
					purchases = append(purchases, p.PurchaseId)
					seen["purchase"]++
					if p.BonusPoints > 0 {
						seen["campaign_bonus"]++
					}
					if p.PendingUntil != 0 {
						seen["pending"]++
					}
					if p.NoBonusReason != "" {
						seen["bonus_short"]++
					}
					if p.ReferrerPoints+p.RefereePoints > 0 {
						seen["referral"]++
					}
				}
				if x := d.GetCampaign(); x != nil {
					seen["campaign_"+types.CampaignStatus_name[int32(x.Status)]]++
				}
				if x := d.GetRedeem(); x != nil {
					redemptions = append(redemptions, x.RedemptionId)
					seen["redeem"]++
				}
				if x := d.GetRefund(); x != nil {
					seen["refund"]++
					if x.ReferrerClawedBack > 0 {
						seen["referral_clawback"]++
					}
				}
				if d.GetVoid() != nil {
					seen["void"]++
				}
				if d.GetImportBalances() != nil {
					seen["import"]++
				}
			}
			_ = i
		}
		ops += len(txs)
	}
	// The chain round-trips through export and import: equal state digest.
	e, err := c.App.Export()
	if err != nil {
		rt.Fatal(err)
	}
	_, hash, err := importChain(t, e, exportGenesis(t, e), e.Height+1)
	if err != nil {
		rt.Fatalf("import of the export at height %d: %v", e.Height, err)
	}
	if _, want := c.App.Info(); !bytes.Equal(hash, want) {
		rt.Fatalf("imported state hashes to %X, the chain's to %X", hash, want)
	}
	return ops
}
