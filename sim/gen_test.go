package sim

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"io"
	"strconv"
	"testing"

	"github.com/bytepoints/bytepoints/app/crms"
)

// genTraces generates a year at scale and reads it back.
func genTraces(t testing.TB, seed uint64, scale float64) []Trace {
	t.Helper()
	var buf bytes.Buffer
	if _, err := Generate(&buf, GenOptions{Seed: seed, Scale: scale}); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var ts []Trace
	for {
		var tr Trace
		if err := r.Read(&tr); err == io.EOF {
			return ts
		} else if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tr)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	gen := func(seed uint64) []byte {
		var buf bytes.Buffer
		if _, err := Generate(&buf, GenOptions{Seed: seed, Scale: 0.01}); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a, b, c := gen(42), gen(42), gen(43)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different bytes")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different seeds, same bytes")
	}
	t.Logf("scale 0.01, seed 42: %d bytes, sha256 %x", len(a), sha256.Sum256(a))
}

// checkYear reads a generated file and checks its published-shape counts.
type yearCounts struct {
	rows, cards, shops, terminals int
	first, last                   int32
}

func countYear(t testing.TB, r io.Reader) yearCounts {
	t.Helper()
	rd, err := NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	cards := map[string]struct{}{}
	shops := map[string]struct{}{}
	terms := map[string]struct{}{}
	var c yearCounts
	var tr Trace
	prev := int64(-1 << 62)
	for {
		if err := rd.Read(&tr); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if tr.TimeMs < prev {
			t.Fatalf("line %d: out of time order", rd.Line())
		}
		prev = tr.TimeMs
		if c.rows == 0 {
			c.first = tr.Date
		}
		c.last = tr.Date
		c.rows++
		cards[tr.Card] = struct{}{}
		shops[tr.Shop] = struct{}{}
		terms[tr.Terminal] = struct{}{}
		if len(tr.Card) != 64 {
			t.Fatalf("line %d: card token %q is not 64 hex", rd.Line(), tr.Card)
		}
	}
	c.cards, c.shops, c.terminals = len(cards), len(shops), len(terms)
	return c
}

func TestGenerateSmallScaleCounts(t *testing.T) {
	var buf bytes.Buffer
	st, err := Generate(&buf, GenOptions{Seed: 5, Scale: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	c := countYear(t, &buf)
	// round(2,463,203 × 0.05) = 123,160; round(293,795 × 0.05) = 14,690.
	if c.rows != 123_160 || c.cards != 14_690 || c.shops != 18 || c.terminals != 68 {
		t.Errorf("counts %+v", c)
	}
	if st.Traces != int64(c.rows) || st.Cards != int64(c.cards) || st.Sales+st.Refunds != st.Traces {
		t.Errorf("stats %+v", st)
	}
	if c.first != 20250101 || c.last != 20251231 {
		t.Errorf("dates %d..%d", c.first, c.last)
	}
}

// TestGeneratePublishedScale checks the exact published counts on the full
// year (about 5 s of generation, streamed to a reader on the other core).
func TestGeneratePublishedScale(t *testing.T) {
	if raceEnabled {
		t.Skip("2.46 M rows under the race detector take minutes")
	}
	pr, pw := io.Pipe()
	var st GenStats
	done := make(chan error, 1)
	go func() {
		var err error
		st, err = Generate(pw, GenOptions{Seed: 1})
		pw.CloseWithError(err)
		done <- err
	}()
	c := countYear(t, pr)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := yearCounts{rows: PublishedTraces, cards: PublishedCards, shops: PublishedShops, terminals: PublishedTerminals, first: 20250101, last: 20251231}
	if c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
	t.Logf("%s", st)
	// The shape: most cards pay 1-3 times, a core pays weekly or more.
	var few, weekly int64
	for _, b := range st.CardsByPayments {
		switch b.Label {
		case "1", "2", "3":
			few += b.Count
		case "52-364 (weekly+)", "365+ (daily)":
			weekly += b.Count
		}
	}
	if few*2 < st.Cards || weekly < 3_000 {
		t.Errorf("activity shape: %d cards with 1-3 payments, %d weekly+ of %d", few, weekly, st.Cards)
	}
	if st.AmountMedian < 20 || st.AmountMedian > 60 {
		t.Errorf("median amount %v PLN", st.AmountMedian)
	}
}

func TestGenerateOptions(t *testing.T) {
	for _, s := range []float64{-1, 1.5} {
		if _, err := Generate(io.Discard, GenOptions{Scale: s}); err == nil {
			t.Errorf("scale %v accepted", s)
		}
	}
	var buf bytes.Buffer
	if _, err := Generate(&buf, GenOptions{Scale: 0.001, Year: 2024}); err != nil {
		t.Fatal(err)
	}
	c := countYear(t, &buf)
	if c.first/10000 != 2024 || c.last/10000 != 2024 || c.rows != 2_463 || c.cards != 294 {
		t.Errorf("2024 at scale 0.001: %+v", c)
	}
}

// TestGenerateNeverContradicts reads the generated rows as plain CSV (not
// through Reader, which would refuse them itself) and checks that every
// sale records its flow and authorisation explicitly and that crms.ValidFlow
// accepts it: the generator never writes a wrong-PIN-aborted payment as
// approved. Aborted PINs do occur, declined.
func TestGenerateNeverContradicts(t *testing.T) {
	var buf bytes.Buffer
	if _, err := Generate(&buf, GenOptions{Seed: 3, Scale: 0.02}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	aborted := 0
	for i, r := range rows[1:] {
		if r[col["type"]] == "6" {
			continue // a refund records no flow
		}
		rt, _ := strconv.Atoi(r[col["read_type"]])
		cvm, err1 := strconv.Atoi(r[col["flow"]])
		auth, err2 := strconv.Atoi(r[col["auth"]])
		if err1 != nil || err2 != nil {
			t.Fatalf("line %d: flow %q auth %q not recorded", i+2, r[col["flow"]], r[col["auth"]])
		}
		if err := crms.ValidFlow(crms.ReadType(rt), crms.CVM(cvm), crms.Auth(auth)); err != nil {
			t.Fatalf("line %d: %v", i+2, err)
		}
		if crms.CVM(cvm) == crms.CVMWrongPinAborted {
			aborted++
		}
	}
	if aborted == 0 {
		t.Fatal("no aborted PIN in the sample: the check saw nothing to refuse")
	}
}
