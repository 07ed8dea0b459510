package sim

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/bytepoints/bytepoints/app/crms"
)

func readAll(t *testing.T, in string) ([]Trace, error) {
	t.Helper()
	r, err := NewReader(strings.NewReader(in))
	if err != nil {
		return nil, err
	}
	var ts []Trace
	for {
		var tr Trace
		if err := r.Read(&tr); err == io.EOF {
			return ts, nil
		} else if err != nil {
			return ts, err
		}
		ts = append(ts, tr)
	}
}

func TestWriterReaderRoundTrip(t *testing.T) {
	at := time.Date(2025, 12, 31, 23, 59, 58, 0, time.UTC)
	in := []Trace{
		MakeTrace(Trace{Card: "aa", ReadType: crms.ReadContactEMV, Type: TxSale, AmountPaise: 123_456, Terminal: "t1", Shop: "s1", CVM: crms.CVMPinOfflineOK, VerifyMs: 4_321, Auth: crms.AuthApproved}, at, DefaultUTCOffset),
		MakeTrace(Trace{Card: "bb", ReadType: crms.ReadContactlessEMV, Type: TxRefund, AmountPaise: 5}, at, DefaultUTCOffset),
		MakeTrace(Trace{Card: "aa", ReadType: crms.ReadMagstripe, Type: TxSale, AmountPaise: 0, CVM: crms.CVMWrongPinAborted, Auth: crms.AuthDeclined}, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), DefaultUTCOffset),
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if err := w.Write(&in[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	wantText := "card,read_type,date,time,type,amount,terminal,shop,flow,cvm_ms,auth\n" +
		"aa,3,20251231,235958,1,1234.56,t1,s1,2,4321,1\n" +
		"bb,6,20251231,235958,6,0.05,,,,,\n" +
		"aa,2,20250101,000000,1,0.00,,,4,,2\n"
	if buf.String() != wantText {
		t.Fatalf("written:\n%s\nwant:\n%s", buf.String(), wantText)
	}
	out, err := readAll(t, buf.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("%d rows", len(out))
	}
	for i := range in {
		if out[i] != in[i] {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, out[i], in[i])
		}
	}
	// 2025-12-31 23:59:58 IST is 18:29:58 UTC.
	if want := time.Date(2025, 12, 31, 18, 29, 58, 0, time.UTC).UnixMilli(); out[0].TimeMs != want {
		t.Errorf("TimeMs %d, want %d", out[0].TimeMs, want)
	}
}

func TestReaderFlexibleInput(t *testing.T) {
	// Required columns only, another order, CRLF, quotes, spaces, blank
	// lines, an unknown column, aliases, whole rupees and one decimal.
	in := "Amount,TYPE,time,date,read_type,extra,card_token\r\n" +
		"\r\n" +
		"12,1,93000,20250615,6,x,\"tok1\"\r\n" +
		" 7.5 ,6,235959,20250615,3,y,tok2\r\n"
	ts, err := readAll(t, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 {
		t.Fatalf("%d rows", len(ts))
	}
	if ts[0].Card != "tok1" || ts[0].AmountPaise != 1200 || ts[0].Clock != 93000 || ts[0].ReadType != 6 || ts[0].Type != TxSale {
		t.Errorf("%+v", ts[0])
	}
	if ts[1].AmountPaise != 750 || ts[1].Type != TxRefund || ts[1].Shop != "" || ts[1].CVM != 0 {
		t.Errorf("%+v", ts[1])
	}
	// A wrong PIN that aborted, with no auth column: inferred declined (an
	// aborted verification cannot be approved), so the row is accepted.
	ts, err = readAll(t, "card,read_type,date,time,type,amount,flow\nabc,3,20250101,1,1,1.00,4\n")
	if err != nil || len(ts) != 1 || ts[0].Flow() != (FlowCode{crms.ReadContactEMV, crms.CVMWrongPinAborted, crms.AuthDeclined}) {
		t.Fatalf("%v %v: aborted PIN without auth", ts, err)
	}
	// Interning: the same card in two rows shares one string.
	ts, err = readAll(t, "card,read_type,date,time,type,amount\nabc,3,20250101,1,1,1.00\nabc,3,20250101,2,1,1.00\n")
	if err != nil || len(ts) != 2 || ts[0].Card != "abc" || unsafe.StringData(ts[0].Card) != unsafe.StringData(ts[1].Card) {
		t.Fatalf("%v %v: card strings not shared", ts, err)
	}
}

func TestReaderErrors(t *testing.T) {
	const hdr = "card,read_type,date,time,type,amount,flow,cvm_ms,auth\n"
	const good = "c,3,20250101,120000,1,10.00,1,4000,1\n"
	cases := []struct {
		name, in string
		line     int64
		column   string
	}{
		{"empty file", "", 1, ""},
		{"missing column", "card,read_type,date,time,type\n", 1, ""},
		{"duplicate column", "card,read_type,date,time,type,amount,card\n", 1, ""},
		{"field count", hdr + good + "c,3,20250101,120000,1,10.00\n", 3, ""},
		{"empty card", hdr + ",3,20250101,120000,1,10.00,1,4000,1\n", 2, "card"},
		{"read type", hdr + good + good + "c,4,20250101,120000,1,10.00,1,4000,1\n", 4, "read_type"},
		{"date", hdr + "c,3,20250230,120000,1,10.00,1,4000,1\n", 2, "date"},
		{"short date", hdr + "c,3,2025011,120000,1,10.00,1,4000,1\n", 2, "date"},
		{"time", hdr + "c,3,20250101,126000,1,10.00,1,4000,1\n", 2, "time"},
		{"type", hdr + "c,3,20250101,120000,2,10.00,1,4000,1\n", 2, "type"},
		{"amount decimals", hdr + "c,3,20250101,120000,1,10.001,1,4000,1\n", 2, "amount"},
		{"negative amount", hdr + "c,3,20250101,120000,1,-10.00,1,4000,1\n", 2, "amount"},
		{"amount text", hdr + "c,3,20250101,120000,1,ten,1,4000,1\n", 2, "amount"},
		{"flow", hdr + "c,3,20250101,120000,1,10.00,8,4000,1\n", 2, "flow"},
		{"cvm_ms", hdr + "c,3,20250101,120000,1,10.00,1,4s,1\n", 2, "cvm_ms"},
		{"auth", hdr + "c,3,20250101,120000,1,10.00,1,4000,3\n", 2, "auth"},
		{"aborted PIN approved", hdr + good + "c,3,20250101,120000,1,10.00,4,15000,1\n", 3, "auth"},
		{"after blank lines", hdr + good + "\n\n" + "c,3,20250101,120000,1,1.0.0,1,4000,1\n", 5, "amount"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := readAll(t, c.in)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a ParseError", err)
			}
			if pe.Line != c.line || pe.Column != c.column {
				t.Errorf("line %d column %q, want line %d column %q (%v)", pe.Line, pe.Column, c.line, c.column, err)
			}
			if !strings.Contains(err.Error(), "line ") {
				t.Errorf("message %q lacks the line", err)
			}
		})
	}
}

func TestParsePaise(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "1": 100, "1.5": 150, "1.05": 105, "1234567.89": 123456789, "007.10": 710} {
		got, err := parsePaise([]byte(in))
		if err != nil || got != want {
			t.Errorf("%s: %d %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", ".5", "1.", "1.234", "1e3", "1,5", "99999999999999999999"} {
		if _, err := parsePaise([]byte(in)); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestWriterRejectsSeparators(t *testing.T) {
	w, _ := NewWriter(io.Discard)
	if err := w.Write(&Trace{Card: "a,b"}); err == nil {
		t.Error("comma in card accepted")
	}
}

func TestReaderAllocatesOnlyPerCard(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf)
	for i := range 1000 {
		tr := MakeTrace(Trace{Card: "same-card", ReadType: 3, Type: TxSale, AmountPaise: uint64(i), Terminal: "t", Shop: "s", CVM: 1, VerifyMs: 4000, Auth: 1}, noon, DefaultUTCOffset)
		if err := w.Write(&tr); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	data := buf.Bytes()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var tr Trace
	if err := r.Read(&tr); err != nil { // interns the strings
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := r.Read(&tr); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per row", allocs)
	}
}
