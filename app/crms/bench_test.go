package crms

import "testing"

// benchHistory is a full default window (N = 20) of mixed flows over ~5
// months, the shape of a regular customer: the worst case for ReputationAt,
// since every flow needs an exp.
func benchHistory(n int) []Flow {
	ratings := []int64{Nano, 700_000_000, Nano, 500_000_000, Nano, 300_000_000, 700_000_000}
	h := make([]Flow, n)
	for i := range h {
		h[i] = Flow{TimeMs: tBase - int64(n-i)*7*day - int64(i)*3_600_000, RatingNano: ratings[i%len(ratings)]}
	}
	return h
}

var sinkR int64
var sinkD Decision
var sinkH []Flow

func BenchmarkReputationAtN20(b *testing.B) {
	e := mustEngine(b, DefaultParams())
	h := benchHistory(20)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sinkR = e.ReputationAt(h, tBase+int64(i&1023))
	}
}

func BenchmarkReputationAtN200(b *testing.B) {
	p := DefaultParams()
	p.N, p.Xm, p.Xd = MaxN, 100*Nano, 30*Nano
	e := mustEngine(b, p)
	h := benchHistory(MaxN)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sinkR = e.ReputationAt(h, tBase+int64(i&1023))
	}
}

func BenchmarkDecide(b *testing.B) {
	e := mustEngine(b, DefaultParams())
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sinkD = e.Decide(671_694_886, uint64(1000+i&4095), 5_000_000, 0, 1_000_000)
	}
}

// BenchmarkEvaluate is the node's decision query: reputation + decision.
func BenchmarkEvaluate(b *testing.B) {
	e := mustEngine(b, DefaultParams())
	h := benchHistory(20)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sinkD = e.Evaluate(h, tBase+int64(i&1023), 3000, 5_000_000, 0, 1_000_000)
	}
}

// BenchmarkSweep16 is the simulator's inner loop per payment: one
// reputation, sixteen Risk_max values.
func BenchmarkSweep16(b *testing.B) {
	e := mustEngine(b, DefaultParams())
	h := benchHistory(20)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := e.ReputationAt(h, tBase+int64(i&1023))
		for k := range int64(16) {
			sinkD = e.Decide(r, 3000, 5_000_000+k*1_000_000, 0, 0)
		}
	}
}

func BenchmarkInsert(b *testing.B) {
	h := benchHistory(20)
	f := Flow{TimeMs: tBase, RatingNano: Nano}
	b.ReportAllocs()
	for b.Loop() {
		sinkH = Insert(h, f, 20)
	}
}

func BenchmarkInsertInPlace(b *testing.B) {
	h := benchHistory(20)
	f := Flow{TimeMs: tBase, RatingNano: Nano}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		f.TimeMs = tBase + int64(i)
		h = InsertInPlace(h, f, 20)
	}
	sinkH = h
}

func BenchmarkNewEngine(b *testing.B) {
	p := DefaultParams()
	b.ReportAllocs()
	for b.Loop() {
		e, _ := NewEngine(p)
		sinkR = int64(e.rank[0])
	}
}

func BenchmarkDecodeHistory(b *testing.B) {
	enc := AppendHistory(nil, benchHistory(20))
	buf := make([]Flow, 0, 20)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = DecodeHistory(enc, buf)
	}
	sinkH = buf
}
