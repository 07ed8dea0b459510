package node_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/node/gateway"
	"github.com/bytepoints/bytepoints/types"
)

// BenchmarkCRMSDecisionGateway asks the same decisions as the other CRMS
// benchmarks through the seller gateway's GET /v1/crms/decision, over
// loopback HTTP with a terminal token, from several clients at once: the
// till's view, token check and terminal status read included.
//
//	go test ./node/ -run '^$' -bench CRMSDecision -benchtime 2000x
func BenchmarkCRMSDecisionGateway(b *testing.B) {
	benchNode(b)
	tok := benchToken(b)
	base := bench.n.GatewayURL()
	urls := map[string]string{}
	for _, p := range bench.paths { // /crms/{customer}/{amount}/{seller}/0
		parts := strings.Split(strings.Trim(p, "/"), "/")
		paise, err := strconv.ParseUint(parts[2], 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		urls[p] = base + "/v1/crms/decision?customer_id=" + parts[1] + "&amount=" + types.FormatPaise(paise)
	}
	b.SetParallelism(4)
	decide(b, func() func(string) error {
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		return func(p string) error {
			req, err := http.NewRequest("GET", urls[p], nil)
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return err
		}
	})
}

var benchTok string

// benchToken registers a terminal on the bench node (once) and gives it a
// token without a practical rate limit.
func benchToken(b *testing.B) string {
	b.Helper()
	if benchTok != "" {
		return benchTok
	}
	home := bench.n.Home
	pub, err := node.AddKey(home, "bench-till")
	if err != nil {
		b.Fatal(err)
	}
	op, err := node.LoadKey(home, node.OperatorKey)
	if err != nil {
		b.Fatal(err)
	}
	cl, err := client.Dial(context.Background(), bench.n.RPCURL(), op)
	if err != nil {
		b.Fatal(err)
	}
	res, err := cl.Submit(context.Background(), &types.MsgRegisterTerminal{TerminalId: "bench-till", Pubkey: pub}, client.Options{})
	if err != nil || !res.OK() {
		b.Fatalf("register terminal: %v %+v", err, res)
	}
	tok, rec, err := gateway.NewToken(bench.seller, "bench-till", "bench-till", ed25519.PublicKey(pub), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	rec.RatePerSecond, rec.Burst = 1e9, 1<<30
	if err := gateway.AddToken(bench.n.AppCfg.Gateway.TokensPath(home), rec); err != nil {
		b.Fatal(err)
	}
	benchTok = tok
	return tok
}
