//go:build network

package networks_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/internal/harness"
	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	cmttypes "github.com/cometbft/cometbft/types"
)

// net is a network of node processes on loopback.
type net struct {
	t     *testing.T
	bin   string
	m     *node.Manifest
	procs map[string]*harness.Process
	gone  map[string]bool // voted out: member peers drop it, so it stops following
	ctx   context.Context
}

func startNet(t *testing.T, validators, candidates int, transport string, snapshots int64) *net {
	t.Helper()
	bin := binary(t)
	plan, err := node.FreePortPlan(validators + candidates)
	if err != nil {
		t.Fatal(err)
	}
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: validators, Joiners: candidates, Output: filepath.Join(t.TempDir(), "net"),
		Transport: transport, Ports: plan, TimeoutCommit: 300 * time.Millisecond, Snapshots: snapshots, Invariants: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	t.Cleanup(cancel)
	n := &net{t: t, bin: bin, m: m, procs: map[string]*harness.Process{}, gone: map[string]bool{}, ctx: ctx}
	t.Cleanup(func() {
		for _, p := range n.procs {
			p.Kill()
		}
		if t.Failed() {
			for s, p := range n.procs {
				log, _ := os.ReadFile(p.Log)
				t.Logf("---- %s log tail ----\n%s", s, tail(log))
			}
		}
	})
	for _, h := range m.Homes[:validators] {
		n.start(h.SellerID)
	}
	for _, h := range m.Homes[:validators] {
		n.waitHeight(h.SellerID, 2)
	}
	return n
}

func (n *net) home(s string) node.NetworkHome {
	for _, h := range n.m.Homes {
		if h.SellerID == s {
			return h
		}
	}
	n.t.Fatalf("no home %s", s)
	return node.NetworkHome{}
}

func (n *net) start(s string, args ...string) {
	n.t.Helper()
	p, err := harness.StartProcess(n.bin, n.home(s).Dir, nil, args...)
	if err != nil {
		n.t.Fatal(err)
	}
	n.procs[s] = p
}

func (n *net) kill(s string) { n.procs[s].Kill() }

func (n *net) client(s string) *client.Client {
	n.t.Helper()
	key, err := node.LoadKey(n.home(s).Dir, node.OperatorKey)
	if err != nil {
		n.t.Fatal(err)
	}
	c, err := client.Dial(n.ctx, n.home(s).RPC, key)
	if err != nil {
		n.t.Fatal(err)
	}
	c.Timeout = 60 * time.Second
	return c
}

// provenClient is client(s) with a light client trusting seller-0's
// first header and seller-1 as witness.
func (n *net) provenClient(s string) *client.Client {
	n.t.Helper()
	c := n.client(s)
	root, err := n.client("seller-0").TrustFromNode(n.ctx, 1)
	if err != nil {
		n.t.Fatal(err)
	}
	root.Witnesses = []string{n.home("seller-1").RPC}
	if err := c.UseLightClient(n.ctx, root); err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() { c.Close() })
	return c
}

func (n *net) height(s string) int64 {
	c, err := client.Dial(n.ctx, n.home(s).RPC, nil)
	if err != nil {
		return -1
	}
	st, err := c.RPC.Status(n.ctx)
	if err != nil {
		return -1
	}
	return st.SyncInfo.LatestBlockHeight
}

// waitStuck waits until every given node has prevoted at one height it
// has not committed and waits for more votes, and returns that height and
// the last one committed before it.
func (n *net) waitStuck(sellers ...string) (stuck, last int64) {
	n.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var hs []int64
		ok := true
		for _, s := range sellers {
			h, round, step := n.roundState(s)
			hs = append(hs, h)
			ok = ok && (round > 0 || step >= roundStepPrevote)
		}
		if ok && hs[0] == hs[len(hs)-1] {
			return hs[0], hs[0] - 1
		}
		if time.Now().After(deadline) { //wallclock:ok bounds the wait for the stuck state; expiry fails as a timeout
			n.t.Fatalf("nodes %v never waited for votes at one height (at %v)", sellers, hs)
		}
		time.Sleep(200 * time.Millisecond) //wallclock:ok paces the poll of the consensus state (no height advances while stuck)
	}
}

// roundStepPrevote is CometBFT's RoundStepPrevote: the node has prevoted
// and waits for more than 2/3 of the votes.
const roundStepPrevote = 4

// roundState is the height, round and step a node's consensus is at.
func (n *net) roundState(s string) (h int64, round, step int) {
	c, err := client.Dial(n.ctx, n.home(s).RPC, nil)
	if err != nil {
		return -1, -1, -1
	}
	cs, err := c.RPC.ConsensusState(n.ctx)
	if err != nil {
		return -1, -1, -1
	}
	var rs struct {
		HRS string `json:"height/round/step"`
	}
	if err := json.Unmarshal(cs.RoundState, &rs); err != nil {
		return -1, -1, -1
	}
	if _, err := fmt.Sscanf(rs.HRS, "%d/%d/%d", &h, &round, &step); err != nil {
		return -1, -1, -1
	}
	return h, round, step
}

func (n *net) waitHeight(s string, h int64) {
	n.t.Helper()
	if err := networks.WaitHeight(n.ctx, n.home(s).RPC, h); err != nil {
		n.t.Fatalf("%s: %v", s, err)
	}
}

// appHashAt is the app hash in header h (the state after block h-1) as
// the node s serves it.
func (n *net) appHashAt(s string, h int64) []byte {
	n.t.Helper()
	c := n.client(s)
	b, err := c.RPC.Block(n.ctx, &h)
	if err != nil {
		n.t.Fatalf("%s block %d: %v", s, h, err)
	}
	return b.Block.Header.AppHash
}

// agree checks every listed node serves the same headers up to h.
func (n *net) agree(h int64, sellers ...string) {
	n.t.Helper()
	for height := int64(1); height <= h; height++ {
		ref := n.appHashAt(sellers[0], height)
		for _, s := range sellers[1:] {
			if got := n.appHashAt(s, height); !bytes.Equal(got, ref) {
				n.t.Fatalf("height %d: %s has app hash %X, %s has %X", height, s, got, sellers[0], ref)
			}
		}
	}
}

func (n *net) submit(s string, msg any) *client.Result {
	n.t.Helper()
	r, err := n.client(s).Submit(n.ctx, msg, client.Options{})
	if err != nil {
		n.t.Fatalf("%s: %v", s, err)
	}
	return r
}

var pin = &types.PaymentFlow{ReadType: 6, Cvm: 1, Auth: 1}

func founding(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprintf("seller-%d", i))
	}
	return out
}

func TestNetworkCommitsAndAgrees(t *testing.T) {
	for _, tr := range []string{node.TransportLibP2P, node.TransportTCP} {
		t.Run(tr, func(t *testing.T) {
			n := startNet(t, 4, 0, tr, 0)
			for i, s := range founding(4) {
				r := n.submit(s, &types.MsgPurchase{CustomerId: "c", AmountPaise: uint64(1000 * (i + 1)), Flow: pin})
				if !r.OK() {
					t.Fatalf("purchase at %s: %s", s, r.Log)
				}
			}
			n.waitHeight("seller-0", 10)
			for _, s := range founding(4) {
				n.waitHeight(s, 10)
			}
			n.agree(10, founding(4)...)
			q, err := n.provenClient("seller-3").Query(n.ctx, "/balance/c", true)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := client.Decode[types.BalanceResponse](q)
			if b.Points != 100 {
				t.Fatalf("balance %d, want 100", b.Points)
			}
		})
	}
}

func TestNetworkOneValidatorKilled(t *testing.T) {
	n := startNet(t, 4, 0, node.TransportLibP2P, 0)
	n.kill("seller-3")
	h := n.height("seller-0")
	if r := n.submit("seller-1", &types.MsgPurchase{CustomerId: "c", AmountPaise: 5000, Flow: pin}); !r.OK() {
		t.Fatal(r.Log)
	}
	n.waitHeight("seller-0", h+5) // three of four keep committing
	n.start("seller-3")
	target := n.height("seller-0")
	n.waitHeight("seller-3", target)
	n.agree(target, "seller-0", "seller-1", "seller-2", "seller-3")
}

func TestNetworkTwoValidatorsKilled(t *testing.T) {
	n := startNet(t, 4, 0, node.TransportTCP, 0)
	n.kill("seller-2")
	n.kill("seller-3")
	// With half the voting power gone the two left cannot commit: wait
	// until both have prevoted at one height and wait for votes that cannot
	// come (the event that shows they are stuck there), and check that
	// nothing was committed at that height.
	stuck, h0 := n.waitStuck("seller-0", "seller-1")
	for _, s := range []string{"seller-0", "seller-1"} {
		if h := n.height(s); h >= stuck {
			t.Fatalf("%s committed height %d without 2/3 of the voting power", s, h)
		}
	}
	n.start("seller-2")
	n.start("seller-3")
	n.waitHeight("seller-0", h0+4)
	for _, s := range founding(4) {
		n.waitHeight(s, h0+4)
	}
	n.agree(h0+4, founding(4)...)
}

func TestNetworkDoubleSpend(t *testing.T) {
	n := startNet(t, 4, 0, node.TransportLibP2P, 0)
	r := n.submit("seller-0", &types.MsgPurchase{CustomerId: "spender", AmountPaise: 10000, Flow: pin})
	if !r.OK() {
		t.Fatal(r.Log)
	}
	// seller-0's node has committed the purchase; the redeeming sellers'
	// nodes may still be a block behind, and their CheckTx would then
	// (rightly) see no points. Race the redemptions, not the replication.
	n.waitHeight("seller-1", r.Height)
	n.waitHeight("seller-2", r.Height)
	// The same whole balance, redeemed at the same moment at two other
	// sellers, each through its own node.
	var wg sync.WaitGroup
	results := make([]*client.Result, 2)
	for i, s := range []string{"seller-1", "seller-2"} {
		c := n.client(s)
		tx, err := c.Build(n.ctx, &types.MsgRedeem{CustomerId: "spender", Points: 100, BillPaise: 10000, Flow: pin}, client.Options{})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func(i int, c *client.Client, tx []byte) {
			defer wg.Done()
			r, err := c.Broadcast(n.ctx, tx)
			if err != nil {
				t.Error(err)
				return
			}
			results[i] = r
		}(i, c, tx)
	}
	wg.Wait()
	ok, insufficient := 0, 0
	for _, r := range results {
		switch {
		case r == nil:
		case r.OK():
			ok++
			n.waitHeight("seller-3", r.Height) // the auditor's node reads after it
		case r.Code == types.CodeInsufficientPoints:
			insufficient++
		default:
			t.Fatalf("unexpected result %d %s", r.Code, r.Log)
		}
	}
	if ok != 1 || insufficient != 1 {
		t.Fatalf("double spend: %d redemptions succeeded, %d refused", ok, insufficient)
	}
	q, err := n.provenClient("seller-3").Query(n.ctx, "/totals", true)
	if err != nil {
		t.Fatal(err)
	}
	tot, _ := client.Decode[types.Totals](q)
	if tot.OutstandingPoints != 0 || tot.EscrowPaise != 0 || tot.RedeemedPoints != 100 {
		t.Fatalf("totals after the race: %+v", tot)
	}
}

// tx runs a CLI transaction with -o json and then waits until every running
// member node has committed its block, so the next step may go through any
// of them.
func (n *net) tx(args ...string) string {
	n.t.Helper()
	out := cli(n.t, n.bin, append(args, "-o", "json")...)
	var res struct {
		Height int64 `json:"height"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Height == 0 {
		n.t.Fatalf("%v: no height in the output (%v):\n%s", args, err, out)
	}
	for s, p := range n.procs {
		if _, exited := p.Exited(); !exited && !n.gone[s] {
			n.waitHeight(s, res.Height)
		}
	}
	return out
}

func cli(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestNetworkGovernance: a fifth seller is voted in, joins by state sync,
// becomes a validator and signs blocks; then a seller is voted out and its
// terminals are refused.
func TestNetworkGovernance(t *testing.T) {
	n := startNet(t, 4, 1, node.TransportLibP2P, 5)
	h0 := n.home("seller-0").Dir
	cand := n.home("seller-4")

	// seller-3 registers a terminal while still a member.
	cli(t, n.bin, "keys", "add", "till-9", "--home", n.home("seller-3").Dir)
	n.tx("tx", "register-terminal", "--id", "till-9", "--home", n.home("seller-3").Dir)
	if r := n.submit("seller-0", &types.MsgPurchase{CustomerId: "g", AmountPaise: 777700, Flow: pin}); !r.OK() {
		t.Fatal(r.Log)
	}
	// Propose, vote: 3 of 4 yes passes.
	n.tx("tx", "propose", "add-seller", "--home", h0, "--candidate-home", cand.Dir, "--description", "new shop")
	n.tx("tx", "vote", "--proposal", "1", "--yes", "--home", n.home("seller-1").Dir)
	out := n.tx("tx", "vote", "--proposal", "1", "--yes", "--home", n.home("seller-2").Dir)
	if !strings.Contains(out, `"executed": true`) {
		t.Fatalf("proposal did not execute on the third yes:\n%s", out)
	}
	// Let snapshots exist past the vote, then join by state sync.
	n.waitHeight("seller-0", n.height("seller-0")+6)
	cli(t, n.bin, "join", "--home", cand.Dir, "--rpc", n.home("seller-0").RPC+","+n.home("seller-1").RPC)
	n.start("seller-4")
	joinStart := time.Now()
	n.waitHeight("seller-4", n.height("seller-0"))
	t.Logf("seller-4 caught up %s after start", time.Since(joinStart).Round(time.Second))
	target := n.height("seller-4") // blocks before the snapshot are not on a state-synced node
	log, _ := os.ReadFile(n.procs["seller-4"].Log)
	if !strings.Contains(string(log), "state restored from snapshot") {
		t.Fatalf("seller-4 did not join by state sync:\n%s", tail(log))
	}
	if !bytes.Equal(n.appHashAt("seller-4", target), n.appHashAt("seller-0", target)) {
		t.Fatal("seller-4's app hash differs after state sync")
	}
	// It is a validator and signs blocks: its precommit is in the commit
	// of one of the next 20 blocks (each read once block h+1 exists, so the
	// commit is the canonical one).
	valPub, _ := hex.DecodeString(cand.ValidatorPub)
	c4 := n.client("seller-4")
	from, signed := n.height("seller-4"), int64(0)
	for h := from; h < from+20 && signed == 0; h++ {
		n.waitHeight("seller-4", h+1)
		res, err := c4.RPC.Commit(n.ctx, &h)
		if err != nil {
			t.Fatalf("commit %d: %v", h, err)
		}
		for _, sig := range res.SignedHeader.Commit.Signatures {
			if sig.BlockIDFlag == cmttypes.BlockIDFlagCommit && bytes.Equal(sig.ValidatorAddress, addressOf(valPub)) {
				signed = h
			}
		}
	}
	if signed == 0 {
		t.Fatalf("seller-4 signed none of the 20 blocks from height %d", from)
	}
	t.Logf("seller-4 signed block %d", signed)
	// An auditor trusting header 1 verifies across the validator-set
	// change, and sees tampering, another chain's root and a forked witness.
	n.checkAudit()
	// Vote seller-3 out: 4 of 5 active must say yes (> 2/3 of 5). From the
	// passing block on the members drop its node, which then stops following.
	n.gone["seller-3"] = true
	n.tx("tx", "propose", "remove-seller", "seller-3", "--home", h0)
	for _, s := range []string{"seller-1", "seller-2", "seller-4"} {
		n.tx("tx", "vote", "--proposal", "2", "--yes", "--home", n.home(s).Dir)
	}
	out = cli(t, n.bin, "query", "proposals", "--home", h0, "-o", "json")
	if !strings.Contains(out, `"status": "passed"`) {
		t.Fatalf("removal did not pass:\n%s", out)
	}
	// Its terminal is now refused.
	cmd := exec.Command(n.bin, "tx", "purchase", "--customer", "g", "--amount", "1.00", "--terminal", "till-9",
		"--home", n.home("seller-3").Dir, "--node", n.home("seller-0").RPC, "-o", "json")
	out2, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out2), `"code": 4`) {
		t.Fatalf("terminal of a removed seller accepted: %v\n%s", err, out2)
	}
	// Removing more would go below four active validators.
	cmd = exec.Command(n.bin, "tx", "propose", "remove-seller", "seller-2", "--home", h0, "-o", "json")
	out2, _ = cmd.CombinedOutput()
	if !strings.Contains(string(out2), `"code": 14`) {
		t.Fatalf("proposal below the minimum was accepted:\n%s", out2)
	}
}

func addressOf(pub []byte) []byte {
	return app.ValidatorAddress(pub)
}

// TestNetworkNonMemberCannotStay: a node with the right software and
// genesis but a key that is not a member's is disconnected by the
// validators, on both transports. Judged by events, block by block: the
// validators refuse it (the log line of a refusal or a drop), and every
// time a validator is seen with it connected, that validator drops it
// within dropBlocks of its own blocks.
func TestNetworkNonMemberCannotStay(t *testing.T) {
	const observe, dropBlocks = 12, 10
	for _, tr := range []string{node.TransportLibP2P, node.TransportTCP} {
		t.Run(tr, func(t *testing.T) {
			n := startNet(t, 4, 1, tr, 0)
			outsider := n.home("seller-4")
			ids := map[string]bool{outsider.NodeID: true, outsider.PeerID: true}
			connected := func(s string) bool {
				ni, err := n.client(s).RPC.NetInfo(n.ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range ni.Peers {
					if ids[string(p.NodeInfo.ID())] {
						return true
					}
				}
				return false
			}
			total := func() int {
				sum := 0
				for _, s := range founding(4) {
					sum += n.refusals(s)
				}
				return sum
			}
			n.start("seller-4")
			// Not vacuous: the outsider dials, and reaches the validators
			// only to be refused. Wait for that, one block at a time.
			h0 := n.height("seller-0")
			h := h0
			for total() == 0 {
				if h++; h > h0+200 {
					t.Fatal("no validator refused the outsider in 200 blocks: it never connected, the test proves nothing")
				}
				n.waitHeight("seller-0", h)
			}
			// Then, once per block of seller-0, look at every validator's
			// peers. A refusal count read before a look that finds the
			// outsider connected must grow: the drop that ends that
			// connection. (The members keep committing meanwhile.)
			type sighting struct {
				refusals int
				at       int64
			}
			open := map[string]sighting{}
			seen, start := 0, h
			for h < start+observe || len(open) > 0 {
				h++
				n.waitHeight("seller-0", h)
				for _, s := range founding(4) {
					c := n.refusals(s)
					if o, ok := open[s]; ok {
						switch {
						case c > o.refusals:
							delete(open, s)
						case h-o.at > dropBlocks:
							t.Fatalf("%s kept the non-member connected from block %d to %d", s, o.at, h)
						}
						continue
					}
					if h < start+observe && connected(s) {
						open[s] = sighting{c, h}
						seen++
					}
				}
			}
			t.Logf("outsider seen connected %d times in %d blocks, each dropped; %d refusals or drops logged", seen, observe, total())
		})
	}
}

// refusals counts the log lines in which s's node refused or dropped a
// peer for not being an active member's.
func (n *net) refusals(s string) int {
	log, _ := os.ReadFile(n.procs[s].Log)
	return strings.Count(string(log), "not an active member")
}
