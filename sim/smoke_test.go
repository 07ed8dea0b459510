package sim

import (
	"os"
	"testing"
	"time"
	"bufio"
)

func TestSmokeTmp(t *testing.T) {
	if os.Getenv("SMOKE") == "" { t.Skip() }
	f, _ := os.Create("/tmp/simout/traces.csv")
	t0 := time.Now()
	st, err := Generate(f, GenOptions{Seed: 1})
	f.Close()
	if err != nil { t.Fatal(err) }
	t.Logf("gen %v\n%s", time.Since(t0), st)
	t0 = time.Now()
	in, _ := os.Open("/tmp/simout/traces.csv")
	r, err := NewReader(bufio.NewReaderSize(in, 1<<20))
	if err != nil { t.Fatal(err) }
	rep, err := Simulate(r, Config{MonthlyRiskMax: DefaultMonthlyRiskMax})
	if err != nil { t.Fatal(err) }
	t.Logf("sim %v", time.Since(t0))
	t0 = time.Now()
	rep.WriteTable(os.Stdout)
	_, err = rep.WriteReport("/tmp/simout/rep")
	if err != nil { t.Fatal(err) }
	t.Logf("report %v", time.Since(t0))
}
