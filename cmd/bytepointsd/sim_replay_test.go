package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/sim"
)

// simReplayTraces writes a generated year of traces (scale 0.0005: about
// 1,200 rows of 147 cards) in which every tenth PIN payment of up to 1,000
// by a card with six approved sales before it is turned into a "no CVM
// granted by the CRMS" (flow 7) payment of 20-35 (the traces' currency),
// plus, late in the file, one flow-7 payment of a card never seen before
// (R = 0: a violation whose infinite risk exhausts the seller's epoch budget,
// so the flow-7 payments after it are refused for the budget). It returns the
// file and the number of flow-7 sales in it.
func simReplayTraces(t *testing.T, dir string) (string, int) {
	t.Helper()
	gen := filepath.Join(dir, "gen.csv")
	if out, code := cli(t, "sim", "gen", "--out", gen, "--scale", "0.0005", "--seed", "7"); code != 0 {
		t.Fatalf("sim gen: %s", out)
	}
	in, err := os.Open(gen)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	rd, err := sim.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "traces.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := sim.NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	var tr sim.Trace
	pins, flow7, rows := 0, 0, 0
	approved := map[string]int{} // card → approved sales so far
	for {
		if err := rd.Read(&tr); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		rows++
		if tr.Type == sim.TxSale && tr.Flow().CVM == crms.CVMPinOnlineOK && tr.AmountPaise <= 100_000 && approved[tr.Card] >= 6 {
			if pins++; pins%10 == 0 {
				// 20-35: a regular card may skip, a new one may not.
				tr.CVM, tr.Auth, tr.VerifyMs = crms.CVMNoCVMByCRMS, crms.AuthApproved, 0
				tr.AmountPaise = uint64(2000 + pins%4*500)
				flow7++
			}
		}
		if err := w.Write(&tr); err != nil {
			t.Fatal(err)
		}
		if tr.Type == sim.TxSale && tr.Flow().Auth == crms.AuthApproved {
			approved[tr.Card]++
		}
		if rows == 1150 { // late in the year: a stranger skips the PIN
			stranger := tr
			stranger.Card = strings.Repeat("ab", 32)
			stranger.Type, stranger.ReadType, stranger.AmountPaise = sim.TxSale, crms.ReadContactEMV, 15_000
			stranger.CVM, stranger.Auth, stranger.VerifyMs = crms.CVMNoCVMByCRMS, crms.AuthApproved, 0
			if err := w.Write(&stranger); err != nil {
				t.Fatal(err)
			}
			flow7++
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if flow7 < 10 || rows < 1000 {
		t.Fatalf("trace file too small: %d rows, %d flow-7", rows, flow7)
	}
	return path, flow7
}

// TestSimReplay submits a generated trace sample to a 1-validator testnet
// node (a separate process) and checks that `sim replay` finds the chain's
// CRMS equal to the offline replay, that running it again books nothing,
// and that it refuses cards with on-chain history it did not write.
func TestSimReplay(t *testing.T) {
	dir := t.TempDir()
	traces, flow7 := simReplayTraces(t, dir)

	// One-hour epochs: the stranger's violation exhausts the seller's risk
	// budget for the rest of the run (barring an hour boundary right then).
	home, _, _ := startSeller(t, dir, 3600)
	h := []string{"--home", home}
	issued := func() float64 {
		tot, code := cliJSON(t, append([]string{"query", "totals"}, h...)...)
		if code != 0 {
			t.Fatalf("query totals: %v", tot)
		}
		return num(t, tot, "issued_points")
	}

	start := time.Now()
	r, code := cliJSON(t, append([]string{"sim", "replay", "--traces", traces}, h...)...)
	t.Logf("first replay in %s: %v", time.Since(start).Round(time.Millisecond), r)
	rows, cards := num(t, r, "rows"), num(t, r, "cards")
	if code != 0 || r["ok"] != true || len(r["mismatches"].([]any)) != 0 {
		t.Fatalf("replay exit %d, mismatches %v", code, r["mismatches"])
	}
	if rows < 1000 || num(t, r, "purchases_committed") != rows || num(t, r, "purchases_failed") != 0 || r["resumed"] != false {
		t.Fatalf("not every row was booked: %v", r)
	}
	if num(t, r, "cards_checked") != cards || num(t, r, "cards_matched") != cards || cards < 100 {
		t.Fatalf("cards: %v", r)
	}
	if num(t, r, "flow7_checked") != float64(flow7) || num(t, r, "flow7_matched") != float64(flow7) || num(t, r, "flow7_budget_unverified") != 0 {
		t.Fatalf("flow-7 re-checks: want %d checked and matched: %v", flow7, r)
	}
	reasons := r["flow7_reasons"].(map[string]any)
	violation := reasons["new_card"] != nil || reasons["low_reputation"] != nil || reasons["risk_above_max"] != nil
	if reasons["skip"] == nil || !violation || reasons["budget_exhausted"] == nil {
		t.Fatalf("the flow-7 rows should include CRMS skips, violations and budget refusals: %v", reasons)
	}
	tm := r["time_map"].(map[string]any)
	if num(t, tm, "scale") < 2 || num(t, tm, "mapped_last_ms") > float64(time.Now().UnixMilli()) ||
		num(t, tm, "mapped_last_ms")-num(t, tm, "mapped_first_ms") > 7*86400e3 {
		t.Fatalf("a year of traces must be compressed into the last 7 days: %v", tm)
	}
	points := issued()
	if points != num(t, r, "points_issued") || points == 0 {
		t.Fatalf("totals issued %v, replay reports %v", points, r["points_issued"])
	}

	// Again: every row comes back replayed, nothing is issued twice, and
	// the comparison still holds (with the time map read back from chain).
	r2, code := cliJSON(t, append([]string{"sim", "replay", "--traces", traces}, h...)...)
	if code != 0 || r2["ok"] != true || r2["resumed"] != true || num(t, r2, "purchases_replayed") != rows ||
		num(t, r2, "purchases_committed") != 0 || num(t, r2, "points_issued") != 0 || num(t, r2, "cards_matched") != cards {
		t.Fatalf("second replay: exit %d %v", code, r2)
	}
	if num(t, r2["time_map"].(map[string]any), "base_ms") != num(t, tm, "base_ms") {
		t.Fatalf("the re-run did not reuse the first run's time map: %v vs %v", r2["time_map"], tm)
	}
	if after := issued(); after != points {
		t.Fatalf("the re-run issued points: %v before, %v after", points, after)
	}

	// A card the chain knows from elsewhere cannot be compared exactly: refused.
	card := strings.Repeat("cd", 32)
	if b, code := cliJSON(t, append([]string{"tx", "purchase", "--customer", card, "--amount", "10.00"}, h...)...); code != 0 {
		t.Fatalf("purchase: %v", b)
	}
	other := filepath.Join(dir, "other.csv")
	csv := "card,read_type,date,time,type,amount\n" + card + ",3,20250301,101500,1,120.00\n" + card + ",3,20250302,101500,1,80.00\n"
	if err := os.WriteFile(other, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := cli(t, append([]string{"sim", "replay", "--traces", other}, h...)...); code == 0 {
		t.Fatalf("replay onto a card with foreign history succeeded: %s", out)
	}
	if after := issued(); after != points+10 {
		t.Fatalf("the refused replay issued points: %v", after)
	}
}
