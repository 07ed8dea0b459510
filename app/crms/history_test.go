package crms

import (
	"errors"
	"slices"
	"testing"
)

func TestInsertCases(t *testing.T) {
	f := func(tm, r int64) Flow { return Flow{TimeMs: tm, RatingNano: r} }
	h := []Flow{f(10, 1), f(20, 2), f(30, 3)}
	cases := []struct {
		name string
		in   Flow
		n    int
		want []Flow
	}{
		{"append newest", f(40, 4), 5, []Flow{f(10, 1), f(20, 2), f(30, 3), f(40, 4)}},
		{"late payment in the middle", f(25, 4), 5, []Flow{f(10, 1), f(20, 2), f(25, 4), f(30, 3)}},
		{"equal time goes after", f(20, 9), 5, []Flow{f(10, 1), f(20, 2), f(20, 9), f(30, 3)}},
		{"full window drops oldest", f(40, 4), 3, []Flow{f(20, 2), f(30, 3), f(40, 4)}},
		{"older than a full window is dropped", f(5, 4), 3, []Flow{f(10, 1), f(20, 2), f(30, 3)}},
		{"late payment in a full window", f(15, 4), 3, []Flow{f(15, 4), f(20, 2), f(30, 3)}},
		{"n = 1 keeps the newest", f(25, 4), 1, []Flow{f(30, 3)}},
		{"n = 0", f(25, 4), 0, []Flow{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			orig := slices.Clone(h)
			got := Insert(h, c.in, c.n)
			if !slices.Equal(got, c.want) {
				t.Fatalf("Insert = %v, want %v", got, c.want)
			}
			if !slices.Equal(h, orig) {
				t.Fatal("input modified")
			}
			// Writing to the result never reaches the input.
			if len(got) > 0 {
				got[0].RatingNano = -1
				if !slices.Equal(h, orig) {
					t.Fatal("result aliases input")
				}
			}
			if got := InsertInPlace(slices.Clone(h), c.in, c.n); !slices.Equal(got, c.want) {
				t.Fatalf("InsertInPlace = %v, want %v", got, c.want)
			}
		})
	}
	// A history longer than n (e.g. N lowered by governance) shrinks to n.
	if got := Insert(h, f(40, 4), 2); !slices.Equal(got, []Flow{f(30, 3), f(40, 4)}) {
		t.Fatalf("shrink: %v", got)
	}
}

func TestDecodeHistoryRejects(t *testing.T) {
	good := AppendHistory(nil, []Flow{{100, Nano}, {200, 0}})
	if _, err := DecodeHistory(good, nil); err != nil {
		t.Fatal(err)
	}
	tooMany := AppendHistory(nil, make([]Flow, MaxHistoryEncoded+1))
	cases := map[string][]byte{
		"empty":         {},
		"truncated":     good[:len(good)-1],
		"trailing":      append(slices.Clone(good), 0),
		"non-canonical": {0x80, 0x00},                               // count 0 in two bytes
		"rating > 1":    {0x01, 0x00, 0x81, 0x94, 0xeb, 0xdc, 0x03}, // 1e9+1
		"overlong":      {0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00},
		"too many":      tooMany,
	}
	for name, b := range cases {
		if _, err := DecodeHistory(b, nil); !errors.Is(err, ErrBadHistory) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	// The empty history encodes as one zero byte and decodes to no flows.
	if b := AppendHistory(nil, nil); len(b) != 1 || b[0] != 0 {
		t.Errorf("empty encoding % x", b)
	}
	// Decoding reuses dst's storage.
	buf := make([]Flow, 0, 4)
	got, err := DecodeHistory(good, buf)
	if err != nil || &got[0] != &buf[:1][0] {
		t.Errorf("dst not reused: %v", err)
	}
}
