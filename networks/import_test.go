//go:build network

package networks_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
)

// TestNetworkImport is issue 17's show on four validators: an import
// approval voted in; a 100,000-row import with its progress bar, SIGKILLed
// partway and rerun, ends with every row booked once (the totals, the
// escrow and the importing seller's position moved by exactly 100 paise ×
// Σ points, a sample of balances equal to the file, the nodes checking the
// invariants after every block and agreeing on every app hash); a batch
// past the approval refused with code 9; a dry run of a file with five
// kinds of bad rows lists each with its line and books nothing.
func TestNetworkImport(t *testing.T) {
	n := startNet(t, 4, 0, node.TransportTCP, 0)
	// 100,000 rows take minutes on four validators sharing a small machine.
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	n.ctx = ctx
	dir := t.TempDir()
	home := n.home("seller-3").Dir
	run := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.CommandContext(n.ctx, n.bin, append(args, "--home", home)...)
		out, err := cmd.Output()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	query := func(path string, v interface{ Unmarshal([]byte) error }) {
		t.Helper()
		q, err := n.client("seller-0").Query(n.ctx, path, false)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if err := v.Unmarshal(q.Value); err != nil {
			t.Fatal(err)
		}
	}

	// The approval: proposed by seller-0, voted by seller-1 and seller-2.
	r := n.submit("seller-0", &types.MsgPropose{Action: &types.MsgPropose_ApproveImport{ApproveImport: &types.ApproveImport{SellerId: "seller-3", MaxPoints: 30_000_000}}})
	if !r.OK() || r.Data.GetPropose().Executed {
		t.Fatalf("propose: %d %s", r.Code, r.Log)
	}
	id := r.Data.GetPropose().ProposalId
	for i, s := range []string{"seller-1", "seller-2"} {
		v := n.submit(s, &types.MsgVote{ProposalId: id, Yes: true})
		if !v.OK() || v.Data.GetVote().Executed != (i == 1) {
			t.Fatalf("vote by %s: %d %s %+v", s, v.Code, v.Log, v.Data.GetVote())
		}
		if i == 1 {
			n.waitHeight("seller-3", v.Height+1) // its node has the approval too
		}
	}

	exp := time.Now().UTC().Add(200 * 24 * time.Hour).Format(time.DateOnly)
	// A dry run of five kinds of bad rows.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("customer_id,points,expires_at\n"+
		"ok-1,10,"+exp+"\nbad id,10,"+exp+"\nok-2,0,"+exp+"\nok-3,10,2020-01-01\nok-1,5,"+exp+"\nok-4,x,"+exp+"\n"), 0o644)
	var before types.Totals
	query("/totals", &before)
	out, code := run("import", "balances", "--file", bad, "--dry-run")
	for _, want := range []string{"line 3: customer-id", "line 4: points", "line 5: expiry", "line 6: duplicate", "line 7: malformed", "5 bad rows"} {
		if code != 1 || !strings.Contains(out, want) {
			t.Fatalf("dry run (exit %d) does not say %q:\n%s", code, want, out)
		}
	}

	// 100,000 rows.
	const rows = 100_000
	var b strings.Builder
	want := make([]uint64, rows)
	var sum uint64
	for i := 0; i < rows; i++ {
		want[i] = uint64(i%250 + 1)
		sum += want[i]
		fmt.Fprintf(&b, "%064x,%d,%s,OLD-%06d\n", sha256.Sum256([]byte(fmt.Sprint(i))), want[i], exp, i)
	}
	file := filepath.Join(dir, "members.csv")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var tot0 types.Totals
	var s0 types.SellerResponse
	query("/totals", &tot0)
	query("/seller/seller-3", &s0)
	if tot0 != before {
		t.Fatal("the dry run booked something")
	}

	imp := exec.CommandContext(n.ctx, n.bin, "import", "balances", "--file", file, "--home", home)
	var stderr strings.Builder
	imp.Stderr = &stderr
	if err := imp.Start(); err != nil {
		t.Fatal(err)
	}
	booked := func() uint64 {
		var r types.ImportResponse
		query("/imports/seller-3", &r)
		if len(r.Files) == 0 {
			return 0
		}
		return r.Files[0].BookedRows
	}
	var atKill uint64
	for atKill = booked(); atKill < rows/3; atKill = booked() {
		if n.ctx.Err() != nil {
			t.Fatalf("import stuck at %d rows", atKill)
		}
		//wallclock:ok paces the poll of booked rows until the kill moment; the loop ends on the chain's answer
		time.Sleep(200 * time.Millisecond)
	}
	imp.Process.Kill() // SIGKILL
	imp.Wait()
	if atKill >= rows {
		t.Fatal("the import finished before it was killed")
	}
	if !strings.Contains(stderr.String(), "rows/s") {
		t.Errorf("no progress bar on stderr: %q", stderr.String())
	}
	t.Logf("SIGKILLed with %d of %d rows booked", atKill, rows)
	t0 := time.Now()
	out, code = run("import", "balances", "--file", file, "--no-progress")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("booked %d of %d rows", rows, rows)) || !strings.Contains(out, "resuming:") {
		t.Fatalf("rerun (exit %d):\n%s", code, out)
	}
	t.Logf("rerun in %v:\n%s", time.Since(t0), out)

	var tot types.Totals
	var s1 types.SellerResponse
	query("/totals", &tot)
	query("/seller/seller-3", &s1)
	if tot.OutstandingPoints-tot0.OutstandingPoints != sum || tot.EscrowPaise-tot0.EscrowPaise != 100*sum ||
		tot.Lots-tot0.Lots != rows || tot.Customers-tot0.Customers != rows || tot.Purchases != tot0.Purchases {
		t.Fatalf("totals %+v -> %+v; want +%d points in %d new lots and customers", tot0, tot, sum, rows)
	}
	if d := s0.Seller.PositionPaise - s1.Seller.PositionPaise; d != int64(100*sum) {
		t.Fatalf("seller-3's position moved by %d paise, want %d", d, 100*sum)
	}
	cl := n.client("seller-1")
	for _, i := range rand.Perm(rows)[:500] {
		q, err := cl.Query(n.ctx, fmt.Sprintf("/balance/%064x", sha256.Sum256([]byte(fmt.Sprint(i)))), false)
		if err != nil {
			t.Fatal(err)
		}
		bal, _ := client.Decode[types.BalanceResponse](q)
		if bal.Points != want[i] || len(bal.Lots) != 1 || !bal.Lots[0].Imported || bal.Lots[0].Issuer != "seller-3" {
			t.Fatalf("row %d: %d points in %d lots, want %d in one imported lot", i, bal.Points, len(bal.Lots), want[i])
		}
	}

	// Past the approval: 30,000,000 - Σ remain; a batch asking for more.
	var a types.ImportResponse
	query("/imports/seller-3", &a)
	left := a.Approval.MaxPoints - a.Approval.UsedPoints
	d := sha256.Sum256([]byte("another file"))
	rr := n.submit("seller-3", &types.MsgImportBalances{FileDigest: d[:], FileRows: 2, Rows: []*types.ImportRow{
		{CustomerId: "late-1", Points: 1, ExpiresAt: time.Now().Add(24 * time.Hour).Unix()},
		{CustomerId: "late-2", Points: left, ExpiresAt: time.Now().Add(24 * time.Hour).Unix()}}})
	if rr.Code != types.CodeInvalidAmount || !strings.Contains(rr.Log, "row 2 of the file passes the import approval") {
		t.Fatalf("past the approval: code %d %s", rr.Code, rr.Log)
	}

	h := n.height("seller-0")
	for _, s := range founding(4) {
		n.waitHeight(s, h)
	}
	n.agree(h, founding(4)...)
}
