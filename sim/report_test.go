package sim

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bytepoints/bytepoints/app/crms"
)

func TestWriteReportFiles(t *testing.T) {
	ts := genTraces(t, 3, 0.005)
	rep := simulate(t, ts, Config{MonthlyRiskMax: DefaultMonthlyRiskMax})
	dir := t.TempDir()
	files, err := rep.WriteReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	charts := rep.ChartFiles()
	if len(charts) != 12 {
		t.Errorf("%d charts: %v", len(charts), charts)
	}
	if want := 6 + 2*len(charts); len(files) != want {
		t.Errorf("%d files written, want %d", len(files), want)
	}
	// The rating table the run used, readable as a --ratings file.
	rf, err := os.Open(filepath.Join(dir, FileRatings))
	if err != nil {
		t.Fatal(err)
	}
	table, err := ReadRatings(rf)
	rf.Close()
	if err != nil || !slices.Equal(table, crms.DefaultRatings()) {
		t.Errorf("%s: %v %v", FileRatings, err, table)
	}
	for _, c := range charts {
		f, err := os.Open(filepath.Join(dir, c+".png"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s.png: %v", c, err)
		}
		if b := img.Bounds(); b.Dx() != 1080 || b.Dy() != 660 {
			t.Errorf("%s.png is %v", c, b)
		}
		svg, err := os.ReadFile(filepath.Join(dir, c+".svg"))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.TrimSpace(string(svg))
		if len(s) < 1000 || !strings.Contains(s, "<svg") || !strings.HasSuffix(s, "</svg>") || !strings.Contains(s, "Risk_max") && !strings.Contains(s, "month") {
			t.Errorf("%s.svg does not look like the chart (%d bytes)", c, len(s))
		}
	}

	// CSV: a header and one row per Risk_max (per month), same columns as JSON.
	for name, rows := range map[string]int{FileSweepCSV: len(rep.Sweep), FileMonthlyCSV: len(rep.Monthly)} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil || len(recs) != rows+1 {
			t.Fatalf("%s: %d records, %v", name, len(recs), err)
		}
	}
	var sweep Report
	data, _ := os.ReadFile(filepath.Join(dir, FileSweepJSON))
	if err := json.Unmarshal(data, &sweep); err != nil || len(sweep.Sweep) != 16 || sweep.Sweep[3] != rep.Sweep[3] || sweep.Monthly != nil {
		t.Fatalf("sweep JSON: %v", err)
	}
	var monthly struct {
		RiskMax float64        `json:"risk_max"`
		Months  []MonthMetrics `json:"months"`
	}
	data, _ = os.ReadFile(filepath.Join(dir, FileMonthlyJSON))
	if err := json.Unmarshal(data, &monthly); err != nil || monthly.RiskMax != 0.01 || len(monthly.Months) != 12 || monthly.Months[0].Month != "2025-01" {
		t.Fatalf("monthly JSON: %v %+v", err, monthly.RiskMax)
	}

	var text bytes.Buffer
	if err := rep.WriteTable(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Risk_max", "0.005", "0.020", "50.00", "200.00", "2025-12", "Month by month at Risk_max 0.010", "Amounts in PLN"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, text.String())
		}
	}
}

func TestChartsWithoutSkips(t *testing.T) {
	// Zeros everywhere must not break the log axes (they fall back to linear).
	rep := simulate(t, []Trace{pin("a", noon, 100)}, Config{MonthlyRiskMax: DefaultMonthlyRiskMax})
	if _, err := rep.WriteCharts(t.TempDir()); err != nil {
		t.Fatal(err)
	}
}

func TestFormatting(t *testing.T) {
	for v, want := range map[float64]string{0: "0.00", 1234567.891: "1,234,567.89", -1234.5: "-1,234.50", 999.999: "1,000.00"} {
		if got := money(v); got != want {
			t.Errorf("money(%v) = %q, want %q", v, got, want)
		}
	}
	if got := groupThousands(2463203); got != "2,463,203" {
		t.Error(got)
	}
	for s, want := range map[string]int64{"0.005": 5_000_000, "1": 1_000_000_000, ".02": 20_000_000, "2.5": 2_500_000_000} {
		if got, err := ParseNano(s); err != nil || got != want {
			t.Errorf("ParseNano(%q) = %d, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "-1", "0.0000000001", "1e-3", "x"} {
		if _, err := ParseNano(s); err == nil {
			t.Errorf("ParseNano(%q) accepted", s)
		}
	}
	sw, err := ParseSweep("0.005:0.020:0.001")
	if err != nil || len(sw) != 16 || sw[0] != 5_000_000 || sw[15] != 20_000_000 {
		t.Errorf("default sweep %v %v", sw, err)
	}
	if sw, err := ParseSweep("0.01,0.02"); err != nil || len(sw) != 2 {
		t.Errorf("list %v %v", sw, err)
	}
	for _, s := range []string{"0.02:0.01:0.001", "0.005:0.02:0", "0", "0.01,,0.02"} {
		if _, err := ParseSweep(s); err == nil {
			t.Errorf("ParseSweep(%q) accepted", s)
		}
	}
}
