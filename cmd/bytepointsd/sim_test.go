package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/sim"
)

// runRoot executes the root command in-process (the offline sim commands
// need no node) and returns stdout, stderr and the error.
func runRoot(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd, _ := newRootCmd()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), errb.String(), err
}

func TestSimGenAndCRMS(t *testing.T) {
	dir := t.TempDir()
	traces := filepath.Join(dir, "traces.csv")
	out, _, err := runRoot(t, "sim", "gen", "--out", traces, "--seed", "9", "--scale", "0.002")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "traces 4926") {
		t.Errorf("gen summary:\n%s", out)
	}
	out, _, err = runRoot(t, "sim", "gen", "--out", "-", "--seed", "9", "--scale", "0.002", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	file, _ := os.ReadFile(traces)
	if out != string(file) {
		t.Error("--out - differs from the file of the same seed")
	}

	rep := filepath.Join(dir, "report")
	out, stderr, err := runRoot(t, "sim", "crms", "--traces", traces, "--out", rep, "--riskmax", "0.005,0.01,0.02", "--month-by-month", "0.015", "-o", "json")
	if err != nil {
		t.Fatal(err, stderr)
	}
	var r sim.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Rows != 4_926 || len(r.Sweep) != 3 || r.MonthlyRiskMax != 0.015 || len(r.Monthly) != 12 || r.Currency != "PLN" {
		t.Errorf("report rows %d sweep %d monthly %v/%d currency %q", r.Rows, len(r.Sweep), r.MonthlyRiskMax, len(r.Monthly), r.Currency)
	}
	if r.Params != crms.DefaultParams() {
		t.Errorf("no parameter flag given, yet params %+v", r.Params)
	}
	if !strings.Contains(stderr, "100.0%") || !strings.Contains(stderr, "wrote") {
		t.Errorf("stderr %q", stderr)
	}
	for _, f := range []string{"crms_max_loss.png", sim.FileRatings, sim.FileSweepCSV} {
		if _, err := os.Stat(filepath.Join(rep, f)); err != nil {
			t.Error(err)
		}
	}
	out, _, err = runRoot(t, "sim", "crms", "--traces", traces, "--out", rep, "--month-by-month", "0")
	if err != nil || !strings.Contains(out, "0.020") || strings.Contains(out, "Month by month") || !strings.Contains(out, "Amounts in PLN") {
		t.Errorf("text table: %v\n%s", err, out)
	}

	for _, bad := range [][]string{
		{"sim", "crms", "--out", rep},
		{"sim", "crms", "--traces", traces, "--out", rep, "--riskmax", "abc"},
		{"sim", "crms", "--traces", filepath.Join(dir, "missing.csv"), "--out", rep},
		{"sim", "gen", "--seed", "1"},
		{"sim", "gen", "--out", traces, "--scale", "2"},
		{"sim", "gen", "--out", traces, "-o", "yaml"},
	} {
		if _, _, err := runRoot(t, bad...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// TestSimCRMSParameterFlags: every CRMS parameter can be set for a what-if
// run, reaches the engine (the report records it and the results move), and
// a bad value is refused with its flag named.
func TestSimCRMSParameterFlags(t *testing.T) {
	dir := t.TempDir()
	traces := filepath.Join(dir, "traces.csv")
	if _, _, err := runRoot(t, "sim", "gen", "--out", traces, "--seed", "4", "--scale", "0.005"); err != nil {
		t.Fatal(err)
	}
	run := func(extra ...string) sim.Report {
		t.Helper()
		args := append([]string{"sim", "crms", "--traces", traces, "--out", filepath.Join(dir, "r"), "--riskmax", "0.005,0.02", "--month-by-month", "", "-o", "json"}, extra...)
		out, stderr, err := runRoot(t, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", extra, err, stderr)
		}
		var r sim.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	base := run()
	if base.Sweep[1].Skipped == 0 {
		t.Fatal("the default run skips nothing: the comparison below would be empty")
	}
	written, err := os.ReadFile(filepath.Join(dir, "r", sim.FileRatings))
	if err != nil {
		t.Fatal(err)
	}
	defaultTable := filepath.Join(dir, "default-ratings.csv")
	if err := os.WriteFile(defaultTable, written, 0o644); err != nil {
		t.Fatal(err)
	}
	r := run("--p", "0.0000005", "--a", "100", "--b", "1", "--n", "30", "--tau", "10", "--xd", "2.5", "--xm", "8",
		"--rmin", "0.01", "--rmax", "0.9", "--avgt-floor", "36h", "--hard-cap", "500.00", "--context-min", "0.25",
		"--context-max", "3", "--epoch-budget", "5")
	want := crms.Params{P: 500, A: 100 * crms.Nano, B: crms.Nano, N: 30, Tau: 10 * crms.Nano, Xd: 2_500_000_000, Xm: 8 * crms.Nano,
		Rmin: 10_000_000, Rmax: 900_000_000, AvgTFloorMs: 36 * 3_600_000, HardCapPaise: 50_000, ContextMin: 250_000_000,
		ContextMax: 3 * crms.Nano, EpochRiskBudget: 5 * crms.Nano}
	if r.Params != want {
		t.Errorf("params %+v, want %+v", r.Params, want)
	}
	// Halving p doubles every skip limit at R = Rmax (0.9 here): 90 and 360.
	if r.Sweep[0].SkipLimitAtRmax != 90 || r.Sweep[1].SkipLimitAtRmax != 360 {
		t.Errorf("limits at Rmax %v, %v", r.Sweep[0].SkipLimitAtRmax, r.Sweep[1].SkipLimitAtRmax)
	}
	if r.Sweep[0].Skipped <= base.Sweep[0].Skipped {
		t.Errorf("halving p did not add skips: %d vs %d", r.Sweep[0].Skipped, base.Sweep[0].Skipped)
	}

	// A rating table file: everything rated 0 leaves no reputation at all.
	zero := filepath.Join(dir, "zero.csv")
	if err := os.WriteFile(zero, []byte("# nothing counts\nread_type,cvm,auth,rating\n*,*,*,0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run("--ratings", zero); r.Sweep[1].Skipped != 0 || len(r.Ratings) != 1 {
		t.Errorf("all-zero ratings: %d skips, table %v", r.Sweep[1].Skipped, r.Ratings)
	}
	// The table a run wrote is read back as the same table.
	if r := run("--ratings", defaultTable); r.Sweep[1].Skipped != base.Sweep[1].Skipped || len(r.Ratings) != len(crms.DefaultRatings()) {
		t.Errorf("the written default table gives %d skips, the default %d", r.Sweep[1].Skipped, base.Sweep[1].Skipped)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--tau", "0"}, "--tau 0"},
		{[]string{"--tau", "abc"}, "--tau"},
		{[]string{"--n", "0"}, "--n 0"},
		{[]string{"--n", "2.5"}, "--n"},
		{[]string{"--avgt-floor", "tomorrow"}, "--avgt-floor"},
		{[]string{"--hard-cap", "-5"}, "--hard-cap"},
		{[]string{"--rmax", "1.5"}, "--rmax 1.5"},
		{[]string{"--rmin", "0.6", "--rmax", "0.5"}, "--rmin 0.6, --rmax 0.5"},
		{[]string{"--ratings", filepath.Join(dir, "missing.csv")}, "--ratings"},
		{[]string{"--ratings", traces}, "header must be read_type,cvm,auth,rating"},
	} {
		args := append([]string{"sim", "crms", "--traces", traces, "--out", filepath.Join(dir, "bad")}, c.args...)
		_, _, err := runRoot(t, args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want it to name %q", c.args, err, c.want)
		}
	}

	// The help explains every parameter.
	help, _, err := runRoot(t, "sim", "crms", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range sim.ParamOverrides() {
		if !strings.Contains(help, "--"+o.Flag) {
			t.Errorf("help lacks --%s", o.Flag)
		}
	}
}
