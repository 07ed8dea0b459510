package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/internal/harness"
	"github.com/bytepoints/bytepoints/networks"
	"github.com/stretchr/testify/require"
)

// gwCall is one gateway request; it returns the status and the JSON body.
func gwCall(t *testing.T, base, method, path, token, idem, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m), "%s %s: %s", method, path, raw)
	return resp.StatusCode, m
}

// TestGatewayTokenCLI drives `gateway token create|list|revoke` through
// the binary against a node process: create checks the terminal on chain,
// prints the token once and stores only its hash; the running gateway
// takes the token at once and refuses it at once when revoked; a booking
// retried after the node was SIGKILLed and restarted is booked once.
func TestGatewayTokenCLI(t *testing.T) {
	dir := t.TempDir()
	home, base, p := startSeller(t, dir, 3600)
	gw := fmt.Sprintf("http://127.0.0.1:%d", base+2)
	h := []string{"--home", home}
	if _, err := os.Stat(filepath.Join(home, "config", "gateway.token")); err == nil {
		t.Fatal("testnet still writes the shared plaintext gateway.token")
	}

	// Refused before the terminal exists on chain, and with the wrong key.
	_, code := cli(t, append([]string{"keys", "add", "till-1"}, h...)...)
	require.Equal(t, 0, code)
	out, code := cli(t, append([]string{"gateway", "token", "create", "--terminal", "till-1"}, h...)...)
	require.NotEqual(t, 0, code, out)
	_, code = cli(t, append([]string{"tx", "register-terminal", "--id", "till-1"}, h...)...)
	require.Equal(t, 0, code)
	_, code = cli(t, append([]string{"keys", "add", "other"}, h...)...)
	require.Equal(t, 0, code)
	out, code = cli(t, append([]string{"gateway", "token", "create", "--terminal", "till-1", "--key", "other"}, h...)...)
	require.NotEqual(t, 0, code, out)
	out, code = cli(t, append([]string{"gateway", "token", "create", "--terminal", "till-x", "--key", "other"}, h...)...)
	require.NotEqual(t, 0, code, out)

	created, code := cliJSON(t, append([]string{"gateway", "token", "create", "--terminal", "till-1"}, h...)...)
	require.Equal(t, 0, code)
	tok := created["token"].(string)
	id := created["id"].(string)
	require.True(t, strings.HasPrefix(tok, "bpt~shop-a~till-1~"+id+"~"), tok)
	file, err := os.ReadFile(filepath.Join(home, "config", "gateway_tokens.json"))
	require.NoError(t, err)
	secret := tok[strings.LastIndex(tok, "~")+1:]
	require.NotContains(t, string(file), secret, "the token file holds the secret")
	st, err := os.Stat(filepath.Join(home, "config", "gateway_tokens.json"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	// The text form prints the token too, once; list never prints one.
	text, code := cli(t, append([]string{"gateway", "token", "create", "--terminal", "till-1"}, h...)...)
	require.Equal(t, 0, code)
	require.Contains(t, text, "bpt~shop-a~till-1~")
	list, code := cli(t, append([]string{"gateway", "token", "list"}, h...)...)
	require.Equal(t, 0, code)
	require.Contains(t, list, id)
	require.NotContains(t, list, secret)
	require.NotContains(t, list, "bpt~")
	listed, code := cli(t, append([]string{"gateway", "token", "list", "-o", "json"}, h...)...)
	require.Equal(t, 0, code)
	var recs []map[string]any
	require.NoError(t, json.Unmarshal([]byte(listed), &recs))
	require.Len(t, recs, 2)
	require.NotContains(t, listed, secret)

	// The running gateway takes the new token without a restart.
	body := `{"customer_id":"` + strings.Repeat("ab", 32) + `","amount":"50.00","flow":{"read_type":"contact-emv","cvm":"pin-online","auth":"approved"}}`
	status, first := gwCall(t, gw, "POST", "/v1/issue", tok, "cli-1", body)
	require.Equal(t, 200, status, first)
	require.Equal(t, float64(50), first["points_issued"])

	// SIGKILL, restart, retry: the original answer, booked once.
	p.Kill()
	p2, err := harness.StartProcess(bin, home, nil)
	require.NoError(t, err)
	t.Cleanup(p2.Kill)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, networks.WaitHeight(ctx, fmt.Sprintf("http://127.0.0.1:%d", base+1), int64(first["height"].(float64))+2))
	status, again := gwCall(t, gw, "POST", "/v1/issue", tok, "cli-1", body)
	require.Equal(t, 200, status, again)
	require.Equal(t, true, again["replayed"])
	require.Equal(t, first["tx_hash"], again["tx_hash"])
	status, bal := gwCall(t, gw, "GET", "/v1/customers/"+strings.Repeat("ab", 32), tok, "", "")
	require.Equal(t, 200, status, bal)
	require.Equal(t, float64(50), bal["points"])

	// Revoked with the CLI: refused by the running gateway at once.
	_, code = cli(t, append([]string{"gateway", "token", "revoke"}, h...)...)
	require.NotEqual(t, 0, code, "revoke needs --terminal or --id")
	revoked, code := cliJSON(t, append([]string{"gateway", "token", "revoke", "--id", id}, h...)...)
	require.Equal(t, 0, code)
	require.Equal(t, []any{id}, revoked["revoked"])
	status, m := gwCall(t, gw, "GET", "/v1/statements", tok, "", "")
	require.Equal(t, 401, status, m)
	require.Equal(t, "unknown_signer", m["code_name"])
	_, code = cli(t, append([]string{"gateway", "token", "revoke", "--id", id}, h...)...)
	require.NotEqual(t, 0, code, "nothing left to revoke")
	out, code = cli(t, append([]string{"gateway", "token", "revoke", "--terminal", "till-1"}, h...)...)
	require.Equal(t, 0, code)
	require.Contains(t, out, "revoked token")
	list, _ = cli(t, append([]string{"gateway", "token", "list"}, h...)...)
	require.Equal(t, 2, strings.Count(list, "revoked"), list)
}
