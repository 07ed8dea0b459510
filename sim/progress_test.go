package sim

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// fakeClock advances by step on every reading.
func fakeClock(step time.Duration) func() time.Time {
	t := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(step); return t }
}

func TestProgressPlainPrintsTenths(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, false, "crms", 1000, fakeClock(time.Second))
	for done := int64(0); done <= 1000; done += 10 {
		p.Update(done, done*2)
	}
	p.Done(1000, 2000)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 10 { // 10%, 20%, ..., 90%, then the final line
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], " 10.0%") || !strings.Contains(lines[0], "ETA") || strings.Contains(buf.String(), "\r") {
		t.Errorf("first line %q", lines[0])
	}
	if !strings.Contains(lines[9], "100.0%") || !strings.Contains(lines[9], "2,000 rows") {
		t.Errorf("last line %q", lines[9])
	}
}

func TestProgressTerminalRedraws(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, true, "gen", 200, fakeClock(50*time.Millisecond))
	for done := int64(0); done <= 200; done += 20 {
		p.Update(done, done)
	}
	p.Done(200, 200)
	out := buf.String()
	if n := strings.Count(out, "\r"); n < 3 || n > 11 {
		t.Errorf("%d redraws (throttled to 10/s):\n%q", n, out)
	}
	if !strings.Contains(out, "[==") || !strings.Contains(out, "rows/s") || !strings.HasSuffix(out, "\n") {
		t.Errorf("bar %q", out)
	}
}
