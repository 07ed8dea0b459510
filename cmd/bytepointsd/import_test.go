package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
)

// TestImportBalances: a seller's import approved by governance, a dry run
// of a file with five kinds of bad rows (each listed with its line, nothing
// booked), a real import SIGKILLed partway and rerun, ending with every
// row booked exactly once: balances equal the file, the escrow and the
// seller's position moved by exactly 100 paise × Σ points.
func TestImportBalances(t *testing.T) {
	dir := t.TempDir()
	home, base, _ := startSeller(t, dir, 86400)
	h := []string{"--home", home}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl, err := client.Dial(ctx, fmt.Sprintf("http://127.0.0.1:%d", base+1), nil)
	if err != nil {
		t.Fatal(err)
	}
	query := func(path string) *client.QueryResult {
		t.Helper()
		q, err := cl.Query(ctx, path, false)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return q
	}
	totals := func() *types.Totals {
		v, err := client.Decode[types.Totals](query("/totals"))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	position := func() int64 {
		v, err := client.Decode[types.SellerResponse](query("/seller/shop-a"))
		if err != nil {
			t.Fatal(err)
		}
		return v.Seller.PositionPaise
	}

	// Without an approval even a good file is refused before anything is sent.
	exp := time.Now().UTC().Add(200 * 24 * time.Hour).Format(time.DateOnly)
	small := filepath.Join(dir, "small.csv")
	writeCSV(t, small, "customer_id,points,expires_at\nzed,5,"+exp+"\n")
	out, code := cli(t, append([]string{"import", "balances", "--file", small, "--dry-run"}, h...)...)
	if code != 1 || !strings.Contains(out, "no approved import") {
		t.Fatalf("dry run without approval: %d\n%s", code, out)
	}

	m, code := cliJSON(t, append([]string{"tx", "propose", "approve-import", "--seller", "shop-a", "--max-points", "1000000"}, h...)...)
	if code != 0 || m["executed"] != true {
		t.Fatalf("approve-import: %v", m)
	}

	// A dry run of a file with five kinds of bad rows.
	bad := filepath.Join(dir, "bad.csv")
	writeCSV(t, bad, strings.Join([]string{
		"customer_id,points,expires_at,external_ref",
		"amy,10," + exp + ",M-1",
		"not an id,10," + exp, // 3: customer id
		"bea,0," + exp,        // 4: points
		"cid,10,2020-01-01",   // 5: expiry
		"amy,3," + exp,        // 6: duplicate
		"dot,ten," + exp,      // 7: malformed
		"eve,10," + exp,
	}, "\n")+"\n")
	before := totals()
	out, code = cli(t, append([]string{"import", "balances", "--file", bad, "--dry-run"}, h...)...)
	if code != 1 {
		t.Fatalf("dry run of a bad file exited %d\n%s", code, out)
	}
	for _, want := range []string{"line 3: customer-id", "line 4: points", "line 5: expiry", "line 6: duplicate: customer amy is already on line 2", "line 7: malformed", "5 bad rows"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run does not say %q:\n%s", want, out)
		}
	}
	for _, ok := range []string{"line 2:", "line 8:"} {
		if strings.Contains(out, ok) {
			t.Errorf("dry run lists a good row (%s):\n%s", ok, out)
		}
	}
	// The real run refuses the same file whole.
	if out, code = cli(t, append([]string{"import", "balances", "--file", bad}, h...)...); code != 1 || !strings.Contains(out, "nothing booked") {
		t.Fatalf("import of a bad file: %d\n%s", code, out)
	}
	if after := totals(); after.OutstandingPoints != before.OutstandingPoints || after.Customers != before.Customers {
		t.Fatalf("a refused file booked something: %+v -> %+v", before, after)
	}

	// 3,000 good rows, batches of 20, SIGKILLed once some are booked.
	const rows = 3000
	var b strings.Builder
	b.WriteString("customer_id,points,expires_at,external_ref\n")
	want := map[string]uint64{}
	var sum uint64
	for i := 0; i < rows; i++ {
		id := fmt.Sprintf("%064x", i+1) // card tokens
		pts := uint64(i%97 + 1)
		want[id] = pts
		sum += pts
		fmt.Fprintf(&b, "%s,%d,%s,M%05d\n", id, pts, exp, i)
	}
	file := filepath.Join(dir, "members.csv")
	writeCSV(t, file, b.String())
	if out, code = cli(t, append([]string{"import", "balances", "--file", file, "--dry-run"}, h...)...); code != 0 {
		t.Fatalf("dry run of the good file: %d\n%s", code, out)
	}
	pos0, tot0 := position(), totals()

	args := append([]string{"import", "balances", "--file", file, "--batch", "20", "--in-flight", "2"}, h...)
	run := exec.Command(bin, args...)
	var stderr strings.Builder
	run.Stderr = &stderr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	booked := func() uint64 {
		q, err := cl.Query(ctx, "/imports/shop-a", false)
		if err != nil {
			t.Fatal(err)
		}
		r, err := client.Decode[types.ImportResponse](q)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range r.Files {
			return f.BookedRows
		}
		return 0
	}
	var atKill uint64
	for atKill = booked(); atKill < 200; atKill = booked() {
		if ctx.Err() != nil {
			t.Fatal("the import booked nothing")
		}
		//wallclock:ok paces the poll of booked rows until the kill moment; the loop ends on the chain's answer
		time.Sleep(50 * time.Millisecond)
	}
	if err := run.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = run.Wait()
	if atKill >= rows {
		t.Fatalf("the import finished (%d rows) before it could be killed", atKill)
	}
	if !strings.Contains(stderr.String(), "rows/s") {
		t.Errorf("no progress bar with rows/s on stderr: %q", stderr.String())
	}
	t.Logf("killed with %d of %d rows booked", atKill, rows)

	m, code = cliJSON(t, append([]string{"import", "balances", "--file", file, "--batch", "20", "--no-progress"}, h...)...)
	if code != 0 || m["status"] != "complete" {
		t.Fatalf("rerun: %d %v", code, m)
	}
	if num(t, m, "booked_rows") != rows || num(t, m, "booked_rows_before") < float64(atKill) {
		t.Fatalf("rerun: %v", m)
	}
	if got := num(t, m, "rows_sent"); got > float64(rows)-float64(atKill) {
		t.Fatalf("the rerun sent %v rows; %d were booked before it", got, atKill)
	}
	// Every row once: balances equal the file, the seller paid exactly
	// 100 paise per point, the escrow holds it.
	for id, pts := range want {
		bal, err := client.Decode[types.BalanceResponse](query("/balance/" + id))
		if err != nil {
			t.Fatal(err)
		}
		if bal.Points != pts || len(bal.Lots) != 1 || !bal.Lots[0].Imported {
			t.Fatalf("%s: %d points in %d lots, want %d in one imported lot", id, bal.Points, len(bal.Lots), pts)
		}
	}
	tot := totals()
	if tot.OutstandingPoints-tot0.OutstandingPoints != sum || tot.EscrowPaise-tot0.EscrowPaise != 100*sum {
		t.Fatalf("outstanding +%d, escrow +%d; want +%d points, +%d paise", tot.OutstandingPoints-tot0.OutstandingPoints, tot.EscrowPaise-tot0.EscrowPaise, sum, 100*sum)
	}
	if d := pos0 - position(); d != int64(100*sum) {
		t.Fatalf("seller position moved by %d paise, want %d", d, 100*sum)
	}
	if tot.Purchases != tot0.Purchases {
		t.Fatal("an import counted as purchases")
	}
	// Once more: nothing left to send, nothing booked again.
	m, code = cliJSON(t, append([]string{"import", "balances", "--file", file, "--no-progress"}, h...)...)
	if code != 0 || num(t, m, "rows_sent") != 0 || totals().OutstandingPoints != tot.OutstandingPoints {
		t.Fatalf("third run: %d %v", code, m)
	}

	// query imports shows the approval, what was used, by which digest.
	m, code = cliJSON(t, append([]string{"query", "imports", "--seller", "shop-a"}, h...)...)
	if code != 0 || num(t, m, "used_points") != float64(sum) || num(t, m, "remaining_points") != float64(1_000_000-sum) {
		t.Fatalf("query imports: %v", m)
	}
	files := m["files"].([]any)
	if len(files) != 1 || files[0].(map[string]any)["booked_rows"] != float64(rows) {
		t.Fatalf("query imports files: %v", files)
	}
	out, _ = cli(t, append([]string{"query", "imports"}, h...)...)
	if !strings.Contains(out, fmt.Sprintf("shop-a: approved 1000000 points (no deadline")) {
		t.Fatalf("query imports: %s", out)
	}

	// More than the approval has left: the dry run names the line where
	// the running total passes it.
	over := filepath.Join(dir, "over.csv")
	writeCSV(t, over, fmt.Sprintf("new-1,10,%s\nnew-2,%d,%s\n", exp, 1_000_000-sum, exp))
	out, code = cli(t, append([]string{"import", "balances", "--file", over, "--dry-run"}, h...)...)
	if code != 1 || !strings.Contains(out, "line 2: allowance") {
		t.Fatalf("dry run past the approval: %d\n%s", code, out)
	}
}

func writeCSV(t *testing.T, path, s string) {
	t.Helper()
	writeFile(t, filepath.Dir(path), filepath.Base(path), s)
}
