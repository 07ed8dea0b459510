package gateway

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/bytepoints/bytepoints/node/strictjson"
	"github.com/danielgtaylor/huma/v2"
)

// strictJSON is the gateway's only request format: exactly one JSON
// object, no duplicate or unknown member names, decoded by package
// strictjson (errors name the member and speak JSON, never Go types).
// Answers are written without HTML escaping: a JSON body is not HTML, and
// "\u003e" in an error message helps nobody.
var strictJSON = huma.Format{
	Marshal: func(w io.Writer, v any) error {
		bz, err := marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(append(bz, '\n'))
		return err
	},
	Unmarshal: strictjson.Unmarshal,
}

// marshal is json.Marshal without HTML escaping.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}
