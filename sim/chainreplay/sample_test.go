package chainreplay

import (
	"strings"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/app/crms"
	"github.com/bytepoints/bytepoints/sim"
)

const (
	cardA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	cardB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	cardC = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
)

const sampleCSV = "card,read_type,date,time,type,amount,flow,auth\n" +
	cardA + ",3,20250301,100000,1,12.50,1,1\n" + // line 2
	cardB + ",6,20250301,100000,1,8.00,6,1\n" + // line 3
	cardA + ",3,20250301,100000,1,12.50,1,1\n" + // line 4: identical to line 2
	cardA + ",3,20250301,090000,6,12.50,,\n" + // line 5: a refund (earlier: the file need not be sorted)
	cardC + ",3,20250302,110000,1,0.00,1,1\n" + // line 6: zero amount
	cardC + ",3,20250301,080000,1,30.00,7,1\n" // line 7: a flow-7 row, earliest

func load(t *testing.T, csv string, o SampleOptions) *Sample {
	t.Helper()
	s, err := LoadSample(strings.NewReader(csv), "test.csv", o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoadSample(t *testing.T) {
	s := load(t, sampleCSV, SampleOptions{UTCOffset: time.Hour})
	if s.Read != 6 || s.Refunds != 1 || s.Zero != 1 || len(s.Rows) != 4 {
		t.Fatalf("read %d refunds %d zero %d rows %d", s.Read, s.Refunds, s.Zero, len(s.Rows))
	}
	// Time order, file order among equal times.
	var lines []int64
	for _, r := range s.Rows {
		lines = append(lines, r.Line)
	}
	if want := []int64{7, 2, 3, 4}; !slicesEqual(lines, want) {
		t.Errorf("order by line %v, want %v", lines, want)
	}
	if !s.Rows[0].IsFlow7() || s.Rows[1].IsFlow7() {
		t.Error("flow-7 detection")
	}
	if s.FirstMs != s.Rows[0].Trace.TimeMs || s.LastMs != s.Rows[3].Trace.TimeMs || s.LastMs-s.FirstMs != 2*3_600_000 {
		t.Errorf("span %d..%d", s.FirstMs, s.LastMs)
	}
	if s.PerCard[cardA] != 2 || len(s.Cards) != 3 || s.Cards[0] != cardA {
		t.Errorf("cards %v %v", s.Cards, s.PerCard)
	}
	// Identical rows get distinct keys (occurrence numbers); keys are the
	// same in another run over the same file.
	if s.Rows[1].Key == s.Rows[3].Key || !strings.HasSuffix(s.Rows[1].Key, "-0") || !strings.HasSuffix(s.Rows[3].Key, "-1") {
		t.Errorf("keys of identical rows %q %q", s.Rows[1].Key, s.Rows[3].Key)
	}
	again := load(t, sampleCSV, SampleOptions{UTCOffset: time.Hour})
	for i := range s.Rows {
		if s.Rows[i].Key != again.Rows[i].Key {
			t.Errorf("row %d: key changed between runs", i)
		}
	}
	// Any field change changes the key.
	changed := load(t, strings.Replace(sampleCSV, "8.00", "8.01", 1), SampleOptions{UTCOffset: time.Hour})
	if changed.Rows[2].Key == s.Rows[2].Key {
		t.Error("a different amount kept the key")
	}
}

func TestLoadSampleSelection(t *testing.T) {
	// The first two cards of the file: A and B (C's rows are dropped).
	s := load(t, sampleCSV, SampleOptions{Cards: 2})
	if len(s.Rows) != 3 || s.PerCard[cardC] != 0 {
		t.Errorf("--cards 2: %d rows %v", len(s.Rows), s.PerCard)
	}
	// --limit counts kept rows.
	if s := load(t, sampleCSV, SampleOptions{Limit: 2}); len(s.Rows) != 2 || s.Read != 2 {
		t.Errorf("--limit 2: %d rows of %d read", len(s.Rows), s.Read)
	}
}

func TestLoadSampleErrors(t *testing.T) {
	for csv, want := range map[string]string{
		"card,read_type,date,time,type,amount\nnot/a:token,3,20250301,100000,1,1.00\n":                 "line 2: card token cannot be a customer id",
		"card,read_type,date,time,type,amount\n" + cardA + ",3,20250301,100000,6,1.00\n":               "no sale to replay (read 1 rows: 1 refunds",
		"card,read_type,date,time,type,amount,flow,auth\n" + cardA + ",3,20250301,100000,1,1.00,4,1\n": "line 2",
	} {
		if _, err := LoadSample(strings.NewReader(csv), "t.csv", SampleOptions{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
}

func slicesEqual(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func traceOf(card string) sim.Trace {
	return sim.Trace{Card: card, ReadType: crms.ReadContactEMV, Type: sim.TxSale, AmountPaise: 1_000, CVM: crms.CVMNoCVMByCRMS, Auth: crms.AuthApproved}
}
