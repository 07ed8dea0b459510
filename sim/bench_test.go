package sim

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkPublishedYear times `sim crms` on the published-scale year: read
// and parse the 2.46 M-row CSV from disk and replay it over the 16 default
// Risk_max values plus the monthly series. The file is generated once, outside
// the timing (and its generation time is logged).
//
//	go test ./sim -run xxx -bench PublishedYear -benchtime 1x
func BenchmarkPublishedYear(b *testing.B) {
	path := filepath.Join(b.TempDir(), "traces.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if _, err := Generate(f, GenOptions{Seed: 1}); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated the published-scale year in %.1f s", time.Since(start).Seconds())
	var rows int64
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		r, err := NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		rep, err := Simulate(r, Config{MonthlyRiskMax: DefaultMonthlyRiskMax})
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		rows += rep.Rows
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/year")
}

// BenchmarkSimulate replays a 2% year (about 49,000 rows) from memory over
// the 16 default Risk_max values.
func BenchmarkSimulate(b *testing.B) {
	var buf bytes.Buffer
	if _, err := Generate(&buf, GenOptions{Seed: 1, Scale: 0.02}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	var rows int64
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		rep, err := Simulate(r, Config{})
		if err != nil {
			b.Fatal(err)
		}
		rows += rep.Rows
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkGenerate times the generator at scale 0.1 (written to memory).
func BenchmarkGenerate(b *testing.B) {
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if _, err := Generate(&buf, GenOptions{Seed: 1, Scale: 0.1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/1e6, "MB")
}
