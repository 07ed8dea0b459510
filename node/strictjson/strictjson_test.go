package strictjson_test

import (
	"strings"
	"testing"

	"github.com/bytepoints/bytepoints/node/strictjson"
	"github.com/stretchr/testify/require"
)

type flow struct {
	ReadType string `json:"read_type"`
}

type body struct {
	CustomerID string `json:"customer_id"`
	Amount     string `json:"amount"`
	Points     uint64 `json:"points"`
	Flow       *flow  `json:"flow,omitempty"`
}

// TestStrictJSON: a document that two readers could read two ways is
// refused, naming the member; so is anything encoding/json would let by.
func TestStrictJSON(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"customer_id":"c","amount":"1.00","amount":"500.00"}`, `amount: duplicate member name "amount"`},
		{`{"flow":{"read_type":"a","read_type":"b"}}`, `flow.read_type: duplicate member name "read_type"`},
		{`{"customer_id":"c","pin_verified":true}`, "pin_verified: unknown member"},
		{`{"Amount":"1.00"}`, "Amount: unknown member"}, // names match exactly
		{`{"points":"4"}`, "points: a JSON string is not accepted here (expected a non-negative integer in range)"},
		{`{"points":-1}`, "points: a JSON number is not accepted here"},
		{`{"points":1.5}`, "points: a JSON number"},
		{`{"flow":{"read_type":6}}`, "flow.read_type: a JSON number is not accepted here (expected a string)"},
		{`{"amount":"1.00"} {}`, "unexpected data after the JSON object"},
		{`{"amount":`, "ends before the value is complete"},
		{`{amount: 1}`, "not valid JSON at byte 1"},
		{"{\"amount\":\"\xff\"}", "invalid UTF-8"},
	} {
		var b body
		err := strictjson.Unmarshal([]byte(c.in), &b)
		require.Error(t, err, c.in)
		require.Contains(t, err.Error(), c.want, c.in)
		for _, leak := range []string{"Go ", "uint64", "jsontext", "strictjson_test"} {
			require.NotContains(t, err.Error(), leak, c.in)
		}
	}
	// Into an untyped value as well (huma validates bodies decoded so).
	var v any
	err := strictjson.Unmarshal([]byte(`{"a":{"b":1,"b":2}}`), &v)
	require.ErrorContains(t, err, "a.b: duplicate member name")
	require.True(t, strictjson.IsDuplicateName(err))

	// The control: a good document decodes.
	var b body
	require.NoError(t, strictjson.Decode(strings.NewReader(`{"customer_id":"c","amount":"1.00","points":3,"flow":{"read_type":"magstripe"}}`), &b))
	require.Equal(t, body{CustomerID: "c", Amount: "1.00", Points: 3, Flow: &flow{ReadType: "magstripe"}}, b)
}
