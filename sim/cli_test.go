package sim

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := Command()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), errb.String(), err
}

func TestCommandGenAndCRMS(t *testing.T) {
	dir := t.TempDir()
	traces := filepath.Join(dir, "traces.csv")
	out, _, err := run(t, "gen", "--out", traces, "--seed", "9", "--scale", "0.002")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "traces 4,926") && !strings.Contains(out, "traces 4926") {
		t.Errorf("gen summary:\n%s", out)
	}
	out, _, err = run(t, "gen", "--out", "-", "--seed", "9", "--scale", "0.002", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	file, _ := os.ReadFile(traces)
	if out != string(file) {
		t.Error("--out - differs from the file of the same seed")
	}

	rep := filepath.Join(dir, "report")
	out, stderr, err := run(t, "crms", "--traces", traces, "--out", rep, "--riskmax", "0.005,0.01,0.02", "--month-by-month", "0.015", "-o", "json")
	if err != nil {
		t.Fatal(err, stderr)
	}
	var r Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Rows != 4_926 || len(r.Sweep) != 3 || r.MonthlyRiskMax != 0.015 || len(r.Monthly) != 12 {
		t.Errorf("report rows %d sweep %d monthly %v/%d", r.Rows, len(r.Sweep), r.MonthlyRiskMax, len(r.Monthly))
	}
	if !strings.Contains(stderr, "100.0%") || !strings.Contains(stderr, "wrote") {
		t.Errorf("stderr %q", stderr)
	}
	if _, err := os.Stat(filepath.Join(rep, "crms_max_loss.png")); err != nil {
		t.Error(err)
	}
	out, _, err = run(t, "crms", "--traces", traces, "--out", rep, "--month-by-month", "0")
	if err != nil || !strings.Contains(out, "0.020") || strings.Contains(out, "Month by month") {
		t.Errorf("text table: %v\n%s", err, out)
	}

	for _, bad := range [][]string{
		{"crms", "--out", rep},
		{"crms", "--traces", traces, "--out", rep, "--riskmax", "abc"},
		{"crms", "--traces", filepath.Join(dir, "missing.csv"), "--out", rep},
		{"gen", "--seed", "1"},
		{"gen", "--out", traces, "--scale", "2"},
		{"gen", "--out", traces, "-o", "yaml"},
	} {
		if _, _, err := run(t, bad...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
