package networks_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/internal/harness"
	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	cmttypes "github.com/cometbft/cometbft/types"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func binary(t *testing.T) string {
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bytepointsd-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath, binErr = harness.Binary(dir)
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// committed is what the test saw the chain accept before a crash.
type committed struct {
	hash   []byte
	height int64
	cust   string
	points uint64
}

// oneSeller generates a one-validator TCP network in a temporary directory
// (blocks every 150 ms; invariants checked after each block if asked) and
// returns its home.
func oneSeller(t *testing.T, invariants bool) node.NetworkHome {
	t.Helper()
	plan, err := node.FreePortPlan(1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 1, Output: filepath.Join(t.TempDir(), "net"), Transport: node.TransportTCP,
		Ports: plan, TimeoutCommit: 150 * time.Millisecond, Invariants: invariants})
	if err != nil {
		t.Fatal(err)
	}
	return m.Homes[0]
}

// TestCrashRecovery kills a validator process with SIGKILL between blocks
// (at arbitrary moments under load) and in the middle of commits (before
// and after the atomic Badger write), restarts it each time, and then
// checks that nothing committed was lost, nothing was applied twice, and
// that the node's state equals a clean replay of the chain's blocks: the
// same app hash at every height.
func TestCrashRecovery(t *testing.T) {
	bin := binary(t)
	home := oneSeller(t, true)
	key, err := node.LoadKey(home.Dir, node.OperatorKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	var proc *harness.Process
	start := func(env ...string) {
		t.Helper()
		var err error
		if proc, err = harness.StartProcess(bin, home.Dir, env); err != nil {
			t.Fatal(err)
		}
	}
	waitUp := func(h int64) {
		t.Helper()
		if err := networks.WaitHeight(ctx, home.RPC, h); err != nil {
			log, _ := os.ReadFile(proc.Log)
			t.Fatalf("%v\n%s", err, tail(log))
		}
	}
	height := func() int64 {
		cl, err := client.Dial(ctx, home.RPC, key)
		if err != nil {
			t.Fatal(err)
		}
		st, err := cl.RPC.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st.SyncInfo.LatestBlockHeight
	}
	start()
	defer func() { proc.Kill() }()
	waitUp(1)

	var mu sync.Mutex
	var seen []committed
	seq := 0
	// load submits purchases until stop is closed, recording commits.
	load := func(stop <-chan struct{}, done chan<- struct{}) {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			cl, err := client.Dial(ctx, home.RPC, key)
			if err != nil {
				time.Sleep(100 * time.Millisecond) //wallclock:ok paces redialling a node that is restarting
				continue
			}
			cl.Timeout = 3 * time.Second
			mu.Lock()
			seq++
			cust := fmt.Sprintf("cust-%d", seq%7)
			amount := uint64(100 * (seq%50 + 1))
			mu.Unlock()
			r, err := cl.Submit(ctx, &types.MsgPurchase{CustomerId: cust, AmountPaise: amount,
				Flow: &types.PaymentFlow{ReadType: 6, Cvm: 1, Auth: 1}}, client.Options{IdempotencyKey: fmt.Sprintf("k-%d", seq)})
			if err != nil || !r.OK() {
				continue // the node went down mid-flight; the outcome is checked at the end
			}
			mu.Lock()
			seen = append(seen, committed{r.TxHash, r.Height, cust, r.Data.GetPurchase().PointsIssued})
			mu.Unlock()
		}
	}

	// awaitCommits waits until the load has seen n more commits than
	// before: each kill comes under load that is really committing.
	awaitCommits := func(before, n int) {
		t.Helper()
		for {
			mu.Lock()
			got := len(seen)
			mu.Unlock()
			if got >= before+n {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("the load committed %d purchases, waiting for %d", got-before, n)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	// 1. SIGKILL at arbitrary moments under load.
	for round := 0; round < 3; round++ {
		mu.Lock()
		before := len(seen)
		mu.Unlock()
		stop, done := make(chan struct{}), make(chan struct{})
		go load(stop, done)
		awaitCommits(before, 3)
		time.Sleep(time.Duration(round*170) * time.Millisecond) //wallclock:ok the kill's moment, not an assertion
		proc.Kill()
		close(stop)
		<-done
		start()
		waitUp(height0(ctx, home.RPC) + 1)
	}
	// 2. SIGKILL in the middle of a commit, at both sides of the atomic write.
	for _, point := range []string{"before-atomic-write", "after-atomic-write"} {
		h := height() + 3
		proc.Stop(20 * time.Second)
		stop, done := make(chan struct{}), make(chan struct{})
		start(fmt.Sprintf("BYTEPOINTS_CRASH_AT=%d:%s", h, point))
		go load(stop, done)
		select {
		case <-waitExit(proc):
		case <-time.After(60 * time.Second):
			t.Fatalf("node did not crash at %d:%s", h, point)
		}
		close(stop)
		<-done
		start()
		waitUp(h + 1)
	}
	// Let the chain move on a little after the last restart.
	waitUp(height() + 2)
	proc.Stop(20 * time.Second)

	// Reopen the node's state directly: every block, replayed on a fresh app,
	// must give the app hash the chain recorded, and the node's commit must
	// be the chain's.
	final := verifyReplay(t, ctx, bin, home, &proc)
	mu.Lock()
	defer mu.Unlock()
	want := map[string]uint64{}
	for _, c := range seen {
		want[c.cust] += c.points
	}
	cl, err := client.Dial(ctx, home.RPC, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range seen {
		r, err := cl.WaitTx(ctx, c.hash)
		if err != nil || !r.OK() || r.Height != c.height {
			t.Fatalf("committed tx %X (height %d) lost after the crashes: %+v %v", c.hash, c.height, r, err)
		}
	}
	// Balances equal the points of the purchases that are in the chain's
	// blocks: none lost, none doubled (the replay above counted them).
	for cust, pts := range final {
		if pts < want[cust] {
			t.Fatalf("%s has %d points, committed purchases gave %d", cust, pts, want[cust])
		}
	}
	t.Logf("%d purchases confirmed to the client; state equals a clean replay at every height", len(seen))
}

func height0(ctx context.Context, rpc string) int64 {
	c, err := client.Dial(ctx, rpc, nil)
	if err != nil {
		return 0
	}
	st, err := c.RPC.Status(ctx)
	if err != nil {
		return 0
	}
	return st.SyncInfo.LatestBlockHeight
}

func waitExit(p *harness.Process) <-chan struct{} {
	ch := make(chan struct{})
	go func() { p.Wait(); close(ch) }()
	return ch
}

// verifyReplay restarts the node, walks every block over RPC, re-executes
// it on a fresh in-memory app and compares app hashes; it returns the
// balances the replay computed from the blocks' purchases.
func verifyReplay(t *testing.T, ctx context.Context, bin string, home node.NetworkHome, proc **harness.Process) map[string]uint64 {
	t.Helper()
	p, err := harness.StartProcess(bin, home.Dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	*proc = p
	if err := networks.WaitHeight(ctx, home.RPC, 1); err != nil {
		t.Fatal(err)
	}
	cl, err := client.Dial(ctx, home.RPC, nil)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := cmttypes.GenesisDocFromFile(filepath.Join(home.Dir, "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ref := app.New(db, app.Config{ChainID: gen.ChainID, CheckInvariants: true})
	var vals []app.Validator
	for _, v := range gen.Validators {
		vals = append(vals, app.Validator{PubKey: v.PubKey.Bytes(), Power: v.Power})
	}
	if _, err := ref.InitChain(gen.ChainID, gen.GenesisTime.UnixNano(), gen.AppState, vals); err != nil {
		t.Fatal(err)
	}
	st, err := cl.RPC.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := st.SyncInfo.LatestBlockHeight
	balances := map[string]uint64{}
	applied := map[string]bool{}
	for h := int64(1); h < last; h++ {
		blk, err := cl.RPC.Block(ctx, &h)
		if err != nil {
			t.Fatal(err)
		}
		next := h + 1
		nb, err := cl.RPC.Block(ctx, &next)
		if err != nil {
			t.Fatal(err)
		}
		var txs [][]byte
		for _, tx := range blk.Block.Data.Txs {
			txs = append(txs, tx)
		}
		res, err := ref.FinalizeBlock(app.Block{Height: h, TimeNs: blk.Block.Header.Time.UnixNano(), Txs: txs})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(res.AppHash, nb.Block.Header.AppHash) {
			t.Fatalf("height %d: clean replay gives app hash %X, the chain recorded %X", h, res.AppHash, nb.Block.Header.AppHash)
		}
		if err := ref.Commit(); err != nil {
			t.Fatal(err)
		}
		for i, r := range res.TxResults {
			if r.Code != 0 {
				continue
			}
			var d types.TxResultData
			if err := d.Unmarshal(r.Data); err != nil {
				t.Fatal(err)
			}
			if p := d.GetPurchase(); p != nil {
				id := hex.EncodeToString(p.PurchaseId)
				if applied[id] {
					t.Fatalf("purchase %s applied twice", id)
				}
				applied[id] = true
				sum := sha256.Sum256(txs[i])
				if !bytes.Equal(sum[:], p.PurchaseId) {
					t.Fatal("purchase id is not the tx hash")
				}
			}
		}
	}
	// The restarted node answers from the same state, with a proof
	// against the chain's signed header.
	root, err := cl.TrustFromNode(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.UseLightClient(ctx, root); err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Query(ctx, "/totals", true); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 7; i++ {
		cust := fmt.Sprintf("cust-%d", i)
		r := ref.Query("/balance/"+cust, false)
		var b types.BalanceResponse
		if r.Code == 0 && b.Unmarshal(r.Value) == nil {
			balances[cust] = b.Points
		}
	}
	return balances
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
