//go:build network

package backoffice_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/internal/harness"
	"github.com/bytepoints/bytepoints/internal/pgtest"
	"github.com/bytepoints/bytepoints/networks"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
)

// TestBackofficeNodeCrash: the seller's node that feeds PostgreSQL is a
// separate bytepointsd process, one of four validators. It is SIGKILLed
// under load (its follower in the middle of writing blocks), and once at a
// set height in the middle of its commit; each time the other three go on
// committing bookings while it is down. Restarted, the node catches up on
// the chain (block sync, then consensus) and its follower writes every
// block it missed: at the end the database holds every block and every
// transaction of the chain exactly once, each event once per (tx hash,
// event index), every purchase the load saw committed, and its cursor is
// the chain's height.
func TestBackofficeNodeCrash(t *testing.T) {
	pg := pgtest.Start(t)
	binDir := t.TempDir()
	bin, err := harness.Binary(binDir)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := node.FreePortPlan(4)
	if err != nil {
		t.Fatal(err)
	}
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 4, Output: filepath.Join(t.TempDir(), "net"),
		Ports: plan, TimeoutCommit: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	books := m.Homes[3]
	acfg, err := node.LoadAppConfig(books.Dir)
	if err != nil {
		t.Fatal(err)
	}
	acfg.Backoffice.PostgresURL = pg.URL()
	if err := node.WriteAppConfig(books.Dir, acfg); err != nil {
		t.Fatal(err)
	}
	var others []*node.Node
	for _, h := range m.Homes[:3] {
		n, err := node.New(h.Dir, node.Options{LogLevel: "none", NoMetrics: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		others = append(others, n)
	}
	t.Cleanup(func() { networks.StopAll(others) })
	var proc *harness.Process
	start := func(env ...string) {
		t.Helper()
		if proc, err = harness.StartProcess(bin, books.Dir, env); err != nil {
			t.Fatal(err)
		}
	}
	start()
	t.Cleanup(func() { proc.Kill() })
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	rpc := others[0].RPCURL()
	if err := networks.WaitHeight(ctx, rpc, 2); err != nil {
		t.Fatal(err)
	}
	key, err := node.LoadKey(m.Homes[0].Dir, node.OperatorKey)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.Dial(ctx, rpc, key)
	if err != nil {
		t.Fatal(err)
	}
	db := pg.Conn()
	cursor := func() int64 {
		var h int64
		if err := db.QueryRow(ctx, "SELECT height FROM bo_cursor").Scan(&h); err != nil {
			return 0 // the follower has not created its schema yet
		}
		return h
	}
	height := func() int64 {
		t.Helper()
		st, err := cl.RPC.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st.SyncInfo.LatestBlockHeight
	}
	// waitCursor waits until the database is written up to h.
	waitCursor := func(h int64) {
		t.Helper()
		for cursor() < h {
			select {
			case <-ctx.Done():
				log, _ := os.ReadFile(proc.Log)
				t.Fatalf("the back office stayed at %d, waiting for %d\n%s", cursor(), h, tail(log))
			case <-time.After(100 * time.Millisecond): //wallclock:ok paces the poll of the database's cursor
			}
		}
	}

	// The load books purchases through node 0, which stays up, and records
	// what committed.
	var mu sync.Mutex
	var seen []*client.Result
	var seq int
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			seq++
			r, err := cl.Submit(ctx, &types.MsgPurchase{CustomerId: fmt.Sprintf("cust-%d", seq%5), AmountPaise: uint64(100 * (seq%40 + 1)),
				Flow: &types.PaymentFlow{ReadType: 6, Cvm: 1, Auth: 1}}, client.Options{})
			if err == nil && r.OK() {
				mu.Lock()
				seen = append(seen, r)
				mu.Unlock()
			}
		}
	}()
	commits := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(seen)
	}
	// awaitCommits waits for n more committed purchases.
	awaitCommits := func(n int) {
		t.Helper()
		for want := commits() + n; commits() < want; {
			select {
			case <-ctx.Done():
				t.Fatalf("the load committed %d purchases, waiting for %d", commits(), want)
			case <-time.After(50 * time.Millisecond): //wallclock:ok paces the poll of the load's commits
			}
		}
	}
	// down: with the books' node dead, the chain goes on for 20 blocks
	// with bookings in them, and the database does not move.
	down := func() {
		t.Helper()
		c0, h0 := cursor(), height()
		awaitCommits(5)
		if err := networks.WaitHeight(ctx, rpc, h0+20); err != nil {
			t.Fatal(err)
		}
		if c := cursor(); c != c0 {
			t.Fatalf("the database moved from %d to %d with its node dead", c0, c)
		}
		t.Logf("node down at cursor %d; chain went on from %d to %d", c0, h0, height())
	}

	// 1. SIGKILL at arbitrary moments while the follower writes.
	for round := 0; round < 2; round++ {
		waitCursor(height())
		awaitCommits(3)
		time.Sleep(time.Duration(round*130) * time.Millisecond) //wallclock:ok the kill's moment, not an assertion
		proc.Kill()
		down()
		start()
		waitCursor(height())
	}
	// 2. SIGKILL in the middle of the node's commit of a block, after the
	// block and its results are stored (the follower may have written it)
	// and before the app's state is: the restarted node replays it.
	h := height() + 3
	if err := proc.Stop(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	start(fmt.Sprintf("BYTEPOINTS_CRASH_AT=%d:before-atomic-write", h))
	select {
	case <-waitExit(proc):
	case <-ctx.Done():
		t.Fatalf("the node did not crash at %d", h)
	}
	down()
	start()
	close(stop)
	<-done
	final := height()
	waitCursor(final)

	// One snapshot of the database: the cursor is the last block, every
	// block from 1 is there once.
	var cur, blocks, lo, hi int64
	if err := db.QueryRow(ctx, "SELECT (SELECT height FROM bo_cursor), count(*), min(height), max(height) FROM bo_blocks").Scan(&cur, &blocks, &lo, &hi); err != nil {
		t.Fatal(err)
	}
	if cur < final || lo != 1 || hi != cur || blocks != cur {
		t.Fatalf("cursor %d; blocks %d from %d to %d; the chain was at %d", cur, blocks, lo, hi, final)
	}
	// Every transaction and event of the chain up to the cursor, read from
	// node 0, is in the database, in place, once.
	var chainTxs, chainEvents int
	for h := int64(1); h <= cur; h++ {
		b, err := cl.RPC.Block(ctx, &h)
		if err != nil {
			t.Fatal(err)
		}
		res, err := cl.RPC.BlockResults(ctx, &h)
		if err != nil {
			t.Fatal(err)
		}
		var want, got []string
		for i, tx := range b.Block.Txs {
			want = append(want, fmt.Sprintf("%d %s %d %d", i, hex.EncodeToString(tx.Hash()), res.TxsResults[i].Code, len(res.TxsResults[i].Events)))
			chainEvents += len(res.TxsResults[i].Events)
		}
		want = append(want, fmt.Sprintf("-1 block %d", len(res.FinalizeBlockEvents)))
		chainTxs += len(b.Block.Txs)
		chainEvents += len(res.FinalizeBlockEvents)
		for _, row := range rowsOf(t, db, `SELECT t.tx_index, t.tx_hash, t.code, (SELECT count(*) FROM bo_events e WHERE e.height = t.height AND e.tx_index = t.tx_index)
			FROM bo_txs t WHERE t.height = $1 ORDER BY t.tx_index`, h) {
			got = append(got, strings.Join(row, " "))
		}
		var blockEvents int
		db.QueryRow(ctx, "SELECT count(*) FROM bo_events WHERE height = $1 AND tx_index = -1", h).Scan(&blockEvents)
		got = append(got, fmt.Sprintf("-1 block %d", blockEvents))
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("height %d in the database:\n%s\nin the chain:\n%s", h, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	var txs, events, distinct int
	db.QueryRow(ctx, "SELECT count(*) FROM bo_txs").Scan(&txs)
	db.QueryRow(ctx, "SELECT count(*), count(DISTINCT (coalesce(tx_hash, height::text), tx_index, event_index)) FROM bo_events").Scan(&events, &distinct)
	if txs != chainTxs || events != chainEvents || distinct != events {
		t.Fatalf("database: %d txs, %d events (%d distinct by tx hash and event index); chain: %d txs, %d events", txs, events, distinct, chainTxs, chainEvents)
	}
	// Every purchase the load saw committed: one successful row, one
	// points_issued event, at its height.
	mu.Lock()
	defer mu.Unlock()
	for _, r := range seen {
		hash := hex.EncodeToString(r.TxHash)
		var rows, issued int
		var at int64
		db.QueryRow(ctx, "SELECT count(*), coalesce(max(height), 0) FROM bo_txs WHERE tx_hash = $1 AND code = 0", hash).Scan(&rows, &at)
		db.QueryRow(ctx, "SELECT count(*) FROM bo_events WHERE tx_hash = $1 AND type = $2", hash, types.EventPointsIssued).Scan(&issued)
		if rows != 1 || issued != 1 || at != r.Height {
			t.Fatalf("purchase %s (height %d): %d rows at %d, %d points_issued events", hash, r.Height, rows, at, issued)
		}
	}
	// The database never went away: the follower had no reason to log an
	// error (the newest block's results being stored a moment after the
	// block is no failure).
	log, _ := os.ReadFile(proc.Log)
	var retries []string
	for _, l := range strings.Split(string(log), "\n") {
		if strings.Contains(l, "back office: will retry") {
			retries = append(retries, l)
		}
	}
	if len(retries) > 0 {
		t.Errorf("the follower logged errors:\n%s", strings.Join(retries, "\n"))
	}
	t.Logf("%d purchases, %d blocks, %d txs, %d events written once each", len(seen), cur, txs, events)
}

func waitExit(p *harness.Process) <-chan struct{} {
	ch := make(chan struct{})
	go func() { p.Wait(); close(ch) }()
	return ch
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
