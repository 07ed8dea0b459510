package apptest

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/program"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenScript runs a fixed script touching every message kind, expiry and
// epoch closes, and returns one line per block: height, time, tx codes, app
// hash. Any change to state layout, encoding or semantics changes a hash,
// which is then reviewed as a diff of testdata/golden_apphash.txt.
func goldenScript(t *testing.T, db *store.DB) []string {
	p := app.DefaultParams()
	p.LotValiditySeconds = 2 * 86400
	c := NewOn(t, db, []string{"seller-a", "seller-b", "seller-c"}, p)
	c.Check = true
	a, b := Operator("seller-a"), Operator("seller-b")
	var lines []string
	block := func(dt int64, txs ...[]byte) []app.TxResult {
		res := c.Block(dt, txs...)
		h, hash := c.App.Info()
		codes := ""
		for _, r := range res {
			codes += fmt.Sprintf("%d,", r.Code)
		}
		lines = append(lines, fmt.Sprintf("%d %d [%s] %X", h, c.Time, codes, hash))
		return res
	}
	data := func(r app.TxResult) *types.TxResultData { return MustOK(t, r) }
	block(5, c.Tx(a, &types.MsgRegisterTerminal{TerminalId: "till-1", Pubkey: Pub("a/till-1")}))
	r := block(5,
		c.Tx("a/till-1", &types.MsgPurchase{CustomerId: "alice", AmountPaise: 10000, Flow: Flow()}),
		c.Tx(b, &types.MsgPurchase{CustomerId: "alice", AmountPaise: 5050, Flow: Flow()}),
		c.Tx(b, &types.MsgPurchase{CustomerId: "bob", AmountPaise: 99999, Flow: Flow()}),
	)
	buy := data(r[0]).GetPurchase().PurchaseId
	r = block(60,
		c.Tx("a/till-1", &types.MsgRedeem{CustomerId: "alice", Points: 60, BillPaise: 25000, Flow: Flow()}),
		c.Tx(b, &types.MsgRedeem{CustomerId: "alice", Points: 70, BillPaise: 8000, Flow: Flow()}),
		c.Tx(b, &types.MsgRedeem{CustomerId: "bob", Points: 10000, BillPaise: 8000, Flow: Flow()}),
	)
	red := data(r[1]).GetRedeem().RedemptionId
	block(60,
		c.Tx(a, &types.MsgRefund{PurchaseId: buy, AmountPaise: 3000}),
		c.Tx(b, &types.MsgVoidRedemption{RedemptionId: red}),
		c.Tx(a, &types.MsgRevokeTerminal{TerminalId: "till-1"}),
		c.Tx(b, &types.MsgSetSellerConfig{EarnRateBps: 15000}),
	)
	// Programs (SPEC §5.7-5.10): seller-c's return window and redemption
	// rules, a campaign at seller-b whose budget runs out inside a block,
	// a refund of a bonus purchase, the campaign's end.
	cp := Operator("seller-c")
	tiers := &types.TierTable{Tiers: []*types.Tier{{Name: "silver", ThresholdPaise: 50_000}, {Name: "gold", ThresholdPaise: 150_000}}}
	block(5, c.Tx(a, &types.MsgPropose{Action: &types.MsgPropose_SetTiers{SetTiers: tiers}}))
	block(5, c.Tx(b, &types.MsgVote{ProposalId: 1, Yes: true}), c.Tx(cp, &types.MsgVote{ProposalId: 1, Yes: true}))
	block(5,
		c.Tx(a, &types.MsgCreateCampaign{Name: "gold", BonusPoints: 40, Tier: "gold", BudgetPoints: 1000}),
		c.Tx(a, &types.MsgPurchase{CustomerId: "bob", AmountPaise: 60_000, Flow: Flow()}), // bob was silver: no bonus
		c.Tx(a, &types.MsgPurchase{CustomerId: "bob", AmountPaise: 1000, Flow: Flow()}),   // now gold
	)
	block(5,
		c.Tx(cp, &types.MsgSetProgramConfig{MinRedeemPoints: 5, MaxRedeemShareBps: 5000, ReturnWindowSeconds: 3600}),
		c.Tx(b, &types.MsgCreateCampaign{Name: "double", MultiplierBps: 20000, MinAmountPaise: 1000, BudgetPoints: 150}),
	)
	r = block(5,
		c.Tx(cp, &types.MsgPurchase{CustomerId: "dave", AmountPaise: 40000, Flow: Flow()}),
		c.Tx(b, &types.MsgPurchase{CustomerId: "dave", AmountPaise: 10000, Flow: Flow()}),
		c.Tx(b, &types.MsgPurchase{CustomerId: "dave", AmountPaise: 10000, Flow: Flow()}),
		c.Tx(cp, &types.MsgRedeem{CustomerId: "dave", Points: 4, BillPaise: 10000, Flow: Flow()}),
	)
	bonusBuy := data(r[1]).GetPurchase().PurchaseId
	pendingBuy := data(r[0]).GetPurchase().PurchaseId
	block(60,
		c.Tx(b, &types.MsgRefund{PurchaseId: bonusBuy, AmountPaise: 5000}),
		c.Tx(cp, &types.MsgRefund{PurchaseId: pendingBuy, AmountPaise: 10000}),
		c.Tx(b, &types.MsgEndCampaign{CampaignId: 1}),
	)
	block(3600, c.Tx(cp, &types.MsgRedeem{CustomerId: "dave", Points: 50, BillPaise: 10000, Flow: Flow()})) // released
	// A referral at seller-c (return window 1 hour): dave refers erin.
	block(5, c.Tx(cp, &types.MsgSetReferralOffer{ReferrerPoints: 30, RefereePoints: 20, MinAmountPaise: 1000}))
	r = block(5, c.Tx(cp, &types.MsgPurchase{CustomerId: "erin", AmountPaise: 5000, Flow: Flow(), ReferralCode: program.Code("dave")}))
	block(5, c.Tx(cp, &types.MsgRefund{PurchaseId: data(r[0]).GetPurchase().PurchaseId, AmountPaise: 2500}))
	block(86400)                                                                                      // closes the first day's epoch
	block(3*86400, c.Tx(b, &types.MsgPurchase{CustomerId: "carol", AmountPaise: 2000, Flow: Flow()})) // expiry
	first := settleEpoch(c)
	block(5, c.Tx(a, &types.MsgConfirmSettlement{Epoch: first, BankReference: "UTR-0001"}))
	return lines
}

func settleEpoch(c *Chain) uint64 {
	q := c.App.Query("/statements", false)
	var s types.StatementsResponse
	if err := s.Unmarshal(q.Value); err != nil || len(s.Statements) == 0 {
		c.T.Fatalf("no statements: %v", err)
	}
	return s.Statements[len(s.Statements)-1].Epoch
}

func TestGoldenAppHash(t *testing.T) {
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := []byte(joinLines(goldenScript(t, db)))
	path := filepath.Join("testdata", "golden_apphash.txt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("app hashes changed (review, then rerun with -update):\n--- got\n%s--- want\n%s", got, want)
	}
}

// TestSameBlocksSameHashOnDisk replays the golden script on a Badger
// directory, closes and reopens it, and checks the committed hash.
func TestSameBlocksSameHashOnDisk(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	lines := goldenScript(t, db)
	h, hash := db.LastCommit()
	db.Close()
	db, err = store.Open(store.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h2, hash2 := db.LastCommit()
	if h != h2 || !bytes.Equal(hash, hash2) {
		t.Fatalf("reopened at %d %X, committed %d %X", h2, hash2, h, hash)
	}
	mem, _ := store.Open(store.Options{InMemory: true})
	defer mem.Close()
	if memLines := goldenScript(t, mem); joinLines(memLines) != joinLines(lines) {
		t.Fatal("in-memory and on-disk runs differ")
	}
}

func joinLines(ls []string) string {
	var b bytes.Buffer
	for _, l := range ls {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}
