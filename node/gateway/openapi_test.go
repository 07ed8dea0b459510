package gateway

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGatewayOpenAPICoversRoutes: every route the gateway serves is in the
// document it generates, and the document has no route it does not serve.
func TestGatewayOpenAPICoversRoutes(t *testing.T) {
	s, err := New(Config{SellerID: "shop-a", TokensPath: filepath.Join(t.TempDir(), "tokens.json")}, Deps{})
	require.NoError(t, err)
	doc := s.OpenAPI()
	served := map[string]bool{}
	for _, r := range s.Routes() {
		served[r] = true
		method, path, _ := strings.Cut(r, " ")
		item, ok := doc.Paths[path]
		require.True(t, ok, "%s is served but not documented", r)
		var op any
		switch method {
		case "GET":
			op = item.Get
		case "POST":
			op = item.Post
		}
		require.NotNil(t, op, "%s is served but not documented", r)
	}
	for path, item := range doc.Paths {
		if item.Get != nil {
			require.True(t, served["GET "+path], "GET %s is documented but not served", path)
		}
		if item.Post != nil {
			require.True(t, served["POST "+path], "POST %s is documented but not served", path)
		}
	}
	require.Len(t, served, 23) // 15 + the wallet's 8 (intents.go, intents_wallet.go)
}
