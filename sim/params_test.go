package sim

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/bytepoints/bytepoints/app/crms"
)

// Every field of crms.Params but none twice has an override, and each
// round-trips: Set(Get(p)) leaves p unchanged.
func TestParamOverridesCoverEveryParameter(t *testing.T) {
	p := crms.Params{P: 7, A: 11 * crms.Nano, B: 3 * crms.Nano, N: 17, Tau: 1_500_000_000, Xd: 2_250_000_000, Xm: 9 * crms.Nano,
		Rmin: 1, Rmax: 999_999_999, AvgTFloorMs: 5_400_000, HardCapPaise: 12_345, ContextMin: 400_000_000, ContextMax: 4 * crms.Nano,
		EpochRiskBudget: 123_456_789}
	var q crms.Params
	seen := map[string]bool{}
	for _, o := range ParamOverrides() {
		if seen[o.Flag] || o.Usage == "" {
			t.Errorf("override %q repeated or undocumented", o.Flag)
		}
		seen[o.Flag] = true
		if err := o.Set(&q, o.Get(p)); err != nil {
			t.Errorf("--%s %s: %v", o.Flag, o.Get(p), err)
		}
	}
	if q != p {
		t.Errorf("overrides rebuilt %+v from %+v: a field has no flag", q, p)
	}
}

func TestApplyOverrides(t *testing.T) {
	base := crms.DefaultParams()
	p, err := ApplyOverrides(base, map[string]string{"tau": "12.5", "hard-cap": "250", "avgt-floor": "90m"})
	if err != nil {
		t.Fatal(err)
	}
	want := base
	want.Tau, want.HardCapPaise, want.AvgTFloorMs = 12_500_000_000, 25_000, 5_400_000
	if p != want {
		t.Errorf("%+v", p)
	}
	for in, msg := range map[string]string{
		"tau=x":             `--tau: "x" is not a decimal number`,
		"xd=0":              "--xd 0: crms: invalid params: Xd=0 outside [0.001, 1000]",
		"avgt-floor=1s":     "",
		"avgt-floor=1.5ms":  "whole milliseconds",
		"rmin=0.7,rmax=0.6": "--rmin 0.7, --rmax 0.6",
		"bogus=1":           "--bogus is not a CRMS parameter",
	} {
		vals := map[string]string{}
		for kv := range strings.SplitSeq(in, ",") {
			k, v, _ := strings.Cut(kv, "=")
			vals[k] = v
		}
		got, err := ApplyOverrides(base, vals)
		switch {
		case msg == "" && err != nil:
			t.Errorf("%s: %v", in, err)
		case msg != "" && (err == nil || !strings.Contains(err.Error(), msg)):
			t.Errorf("%s: error %v, want %q", in, err, msg)
		case msg != "" && got != base:
			t.Errorf("%s: a refused override changed the params", in)
		}
	}
}

func TestRatingsFile(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteRatings(&buf, crms.DefaultRatings()); err != nil {
		t.Fatal(err)
	}
	// The file names flows as every other surface does, never by code.
	if text := buf.String(); !strings.Contains(text, "\n*,pin-online,approved,1\n") || strings.Contains(text, ",1,1,") {
		t.Fatalf("rating file does not use the vocabulary's names:\n%s", text)
	}
	got, err := ReadRatings(&buf)
	if err != nil || !slices.Equal(got, crms.DefaultRatings()) {
		t.Fatalf("round trip: %v\n%v", err, got)
	}
	got, err = ReadRatings(strings.NewReader("read_type,cvm,auth,rating\ncontactless-emv,no-cvm-under-limit,approved,0.65\n"))
	if err != nil || !slices.Equal(got, crms.RatingTable{{ReadType: 6, CVM: 6, Auth: 1, RatingNano: 650_000_000}}) {
		t.Fatalf("names: %v %v", err, got)
	}
	got, err = ReadRatings(strings.NewReader("\n# comment\nread_type,cvm,auth,rating\n 6 , 6 , 1 , 0.65\n*,*,2,0\n"))
	if err != nil || !slices.Equal(got, crms.RatingTable{{ReadType: 6, CVM: 6, Auth: 1, RatingNano: 650_000_000}, {Auth: 2}}) {
		t.Fatalf("%v %v", err, got)
	}
	const hdr = "read_type,cvm,auth,rating\n"
	for in, msg := range map[string]string{
		"":                           "no entries",
		"card,cvm\n":                 "line 1: header must be",
		hdr + "3,1,1\n":              "line 2: 3 fields",
		hdr + "3,1,1,1\n3,x,1,1\n":   `line 3: cvm "x"`,
		hdr + "3,1,1,1.5\n":          `line 2: rating "1.5"`,
		hdr + "3,1,1,-1\n":           `line 2: rating "-1"`,
		hdr + "9,1,1,1\n":            "invalid read type 9",
		hdr + "3,1,1,1\n3,1,1,0.5\n": "same key",
	} {
		if _, err := ReadRatings(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: error %v, want %q", in, err, msg)
		}
	}
}

// The report's JSON names flows by the vocabulary and reads back the same.
func TestNamedRatingsJSON(t *testing.T) {
	bz, err := json.Marshal(NamedRatings(crms.DefaultRatings()))
	if err != nil || !strings.Contains(string(bz), `{"read_type":"*","cvm":"pin-online","auth":"approved","rating":1}`) {
		t.Fatalf("%v %s", err, bz)
	}
	var back NamedRatings
	if err := json.Unmarshal(bz, &back); err != nil || !slices.Equal(back.Table(), crms.DefaultRatings()) {
		t.Fatalf("round trip: %v %v", err, back)
	}
}
