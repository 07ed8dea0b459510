package settle

import (
	"testing"

	"github.com/bytepoints/bytepoints/app/members"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

func setup(t *testing.T) *state.Ctx {
	kv := store.NewMemKV()
	c := &state.Ctx{KV: kv, Height: 1, Time: 86400 * 20000, Params: &types.Params{EpochSeconds: 86400}, Actor: "test"}
	for _, s := range []string{"seller-a", "seller-b", "seller-c"} {
		members.PutSeller(kv, &types.SellerRecord{SellerId: s, Status: types.SellerStatus_SELLER_STATUS_ACTIVE})
	}
	state.PutTotals(kv, &types.Totals{})
	Open(c)
	return c
}

func TestMoveKeepsEscrowBalanced(t *testing.T) {
	c := setup(t)
	if err := mv(c, "seller-a", -10000, "issue"); err != nil {
		t.Fatal(err)
	}
	if err := mv(c, "seller-b", 4000, "redeem"); err != nil {
		t.Fatal(err)
	}
	tot := state.Totals(c.KV)
	a, _ := members.Seller(c.KV, "seller-a")
	b, _ := members.Seller(c.KV, "seller-b")
	if tot.EscrowPaise != 6000 || a.PositionPaise+b.PositionPaise+int64(tot.EscrowPaise) != 0 {
		t.Fatalf("escrow %d a %d b %d", tot.EscrowPaise, a.PositionPaise, b.PositionPaise)
	}
	// The escrow cannot pay out what it does not hold.
	if err := mv(c, "seller-b", 6001, "redeem"); types.CodeOf(err) != types.CodeOverflow {
		t.Fatalf("overdraw: %v", err)
	}
}

func TestEpochCloseAndConfirm(t *testing.T) {
	c := setup(t)
	mv(c, "seller-a", -10000, "issue")
	mv(c, "seller-b", 4000, "redeem")
	if due, _ := Due(c); due {
		t.Fatal("due within the epoch")
	}
	c.Time += 86400 - 1
	if due, _ := Due(c); due {
		t.Fatal("due before the boundary")
	}
	c.Time++
	c.Height = 50
	due, boundary := Due(c)
	if !due || boundary != c.Time {
		t.Fatalf("due %v boundary %d", due, boundary)
	}
	st := Close(c)
	if st.Epoch != 20000 || st.ClosedHeight != 50 || len(st.Lines) != 3 || st.OutstandingLines != 2 || st.EscrowPaise != 6000 {
		t.Fatalf("%+v", st)
	}
	want := map[string]int64{"seller-a": -10000, "seller-b": 4000, "seller-c": 0}
	for _, l := range st.Lines {
		if l.NetPaise != want[l.SellerId] {
			t.Fatalf("line %s net %d", l.SellerId, l.NetPaise)
		}
	}
	if Epoch(c.KV).Epoch != 20001 {
		t.Fatal("next epoch not opened")
	}
	if e := SellerEpoch(c.KV, "seller-a"); e.NetPaise != 0 {
		t.Fatal("accumulator not reset")
	}
	cases := []struct {
		seller string
		epoch  uint64
		ref    string
		code   types.Code
	}{
		{"seller-a", 20000, "", types.CodeInvalidArgument},
		{"seller-a", 20001, "UTR1", types.CodeNotFound}, // still open
		{"seller-a", 19999, "UTR1", types.CodeNotFound},
		{"seller-c", 20000, "UTR1", types.CodeInvalidArgument}, // nothing due
		{"seller-a", 20000, "UTR1", types.CodeOK},
		{"seller-a", 20000, "UTR2", types.CodeInvalidArgument}, // twice
	}
	for _, tc := range cases {
		if err := Confirm(c, tc.seller, tc.epoch, tc.ref); types.CodeOf(err) != tc.code {
			t.Fatalf("confirm %+v: %v", tc, err)
		}
	}
	st2, _ := Statement(c.KV, 20000)
	if st2.OutstandingLines != 1 || st2.Lines[0].Status != types.LineStatus_LINE_STATUS_CONFIRMED || st2.Lines[0].BankReference != "UTR1" {
		t.Fatalf("%+v", st2)
	}
}

// mv is a handler's use of Move: read the totals once, move, save them.
func mv(c *state.Ctx, seller string, delta int64, reason string) error {
	t := state.Totals(c.KV)
	if err := Move(c, t, seller, delta, reason); err != nil {
		return err
	}
	state.PutTotals(c.KV, t)
	return nil
}

// Move updates the escrow in the caller's totals only: the Totals record is
// neither read nor written, so a handler's own counter changes and the
// escrow's land together whatever the order of its lines; a refused move
// leaves the caller's totals as they were.
func TestMoveUpdatesTheCallersTotals(t *testing.T) {
	c := setup(t)
	tot := &types.Totals{OutstandingPoints: 7, EscrowPaise: 100}
	state.PutTotals(c.KV, &types.Totals{EscrowPaise: 999_999}) // a stale record Move must not read
	if err := Move(c, tot, "seller-a", -250, "issue"); err != nil {
		t.Fatal(err)
	}
	if tot.EscrowPaise != 350 || tot.OutstandingPoints != 7 {
		t.Fatalf("totals after the move: %+v", tot)
	}
	if rec := state.Totals(c.KV); rec.EscrowPaise != 999_999 {
		t.Fatalf("Move wrote the Totals record: %+v", rec)
	}
	if err := Move(c, tot, "seller-b", 351, "redeem"); types.CodeOf(err) != types.CodeOverflow {
		t.Fatalf("overdraw: %v", err)
	}
	if tot.EscrowPaise != 350 {
		t.Fatalf("a refused move changed the escrow: %d", tot.EscrowPaise)
	}
}
