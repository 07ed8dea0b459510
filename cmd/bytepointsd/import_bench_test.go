package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
)

// TestImportThroughput is the measurement behind docs/benchmarks.md's
// import figure, not a check (it asserts only that everything booked): on
// one node, single purchases submitted 8 at a time through the client,
// then `import balances` of a file with 8 batches in flight, in the same
// run. Set BYTEPOINTS_MEASURE_IMPORT=1 to run it.
func TestImportThroughput(t *testing.T) {
	if os.Getenv("BYTEPOINTS_MEASURE_IMPORT") == "" {
		t.Skip("a measurement: set BYTEPOINTS_MEASURE_IMPORT=1")
	}
	dir := t.TempDir()
	home, base, _ := startSeller(t, dir, 86400)
	h := []string{"--home", home}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	key, err := node.LoadKey(home, node.OperatorKey)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.Dial(ctx, fmt.Sprintf("http://127.0.0.1:%d", base+1), key)
	if err != nil {
		t.Fatal(err)
	}
	const purchases, rows, inFlight = 2000, 50_000, 8
	flow := &types.PaymentFlow{ReadType: 6, Cvm: 1, Auth: 1}
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var fail error
	t0 := time.Now()
	for w := 0; w < inFlight; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r, err := cl.Submit(ctx, &types.MsgPurchase{CustomerId: fmt.Sprintf("p%063x", i), AmountPaise: 10_000, Flow: flow}, client.Options{})
				if err == nil && !r.OK() {
					err = fmt.Errorf("purchase %d: %d %s", i, r.Code, r.Log)
				}
				if err != nil {
					mu.Lock()
					fail = err
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < purchases; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if fail != nil {
		t.Fatal(fail)
	}
	purchaseRate := purchases / time.Since(t0).Seconds()

	if m, code := cliJSON(t, append([]string{"tx", "propose", "approve-import", "--seller", "shop-a", "--max-points", "100000000"}, h...)...); code != 0 || m["executed"] != true {
		t.Fatalf("approve-import: %v", m)
	}
	exp := time.Now().UTC().Add(200 * 24 * time.Hour).Format(time.DateOnly)
	var b strings.Builder
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&b, "%064x,%d,%s,M%06d\n", i+1, i%500+1, exp, i)
	}
	file := filepath.Join(dir, "members.csv")
	writeCSV(t, file, b.String())
	t1 := time.Now()
	m, code := cliJSON(t, append([]string{"import", "balances", "--file", file, "--in-flight", fmt.Sprint(inFlight), "--no-progress"}, h...)...)
	if code != 0 || m["status"] != "complete" {
		t.Fatalf("import: %v", m)
	}
	wall := time.Since(t1)
	importRate := num(t, m, "rows_per_second")
	t.Logf("purchases: %d in %d flight: %.0f/s; import: %d rows (batches of 100, %d in flight): %.0f rows/s sending, %.0f rows/s with parse, checks and queries (%.1f s); x_import_per_row %.1f",
		purchases, inFlight, purchaseRate, rows, inFlight, importRate, rows/wall.Seconds(), wall.Seconds(), importRate/purchaseRate)
}
