// Package backoffice feeds a seller's PostgreSQL database with the chain's
// history (docs/backoffice.md): a follower that reads committed blocks and
// their results from the node, decodes each transaction (its message: the
// terminal, the amounts) and the app's events (the points, the lots' issuers,
// refunds and voids), and writes typed rows. Each block's rows and the cursor
// height move in one SQL transaction, so a crash of the node or an outage of
// the database neither gaps nor duplicates the books: on restart the
// follower resumes after the cursor and catches up from the chain.
//
// The follower runs beside consensus, never in its commit path: a slow or
// absent database only grows the lag (Lag, exported as the gauge
// bytepoints_backoffice_lag_blocks).
package backoffice

import (
	"context"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bytepoints/bytepoints/app"
	"github.com/bytepoints/bytepoints/types"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/libs/bytes"
	"github.com/cometbft/cometbft/libs/log"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/jackc/pgx/v5"
)

// Schema is the tables and views, applied at start (idempotent).
//
//go:embed schema.sql
var Schema string

// Chain is what the follower reads: CometBFT's RPC client interface (the
// in-process rpc/client/local in the node, or rpc/client/http).
type Chain interface {
	Status(ctx context.Context) (*ctypes.ResultStatus, error)
	Block(ctx context.Context, height *int64) (*ctypes.ResultBlock, error)
	BlockResults(ctx context.Context, height *int64) (*ctypes.ResultBlockResults, error)
	ABCIQuery(ctx context.Context, path string, data bytes.HexBytes) (*ctypes.ResultABCIQuery, error)
}

// Follower writes the chain's history into PostgreSQL.
type Follower struct {
	URL    string
	Chain  Chain
	Logger log.Logger
	// Poll is how often the follower looks for new blocks and, after an
	// error, retries the database (default 200 ms).
	Poll time.Duration

	cursor atomic.Int64 // last height written
	head   atomic.Int64 // last committed height seen
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// Lag is how many committed blocks are not yet in the database.
func (f *Follower) Lag() int64 {
	if l := f.head.Load() - f.cursor.Load(); l > 0 {
		return l
	}
	return 0
}

// Cursor is the last height written to the database.
func (f *Follower) Cursor() int64 { return f.cursor.Load() }

// Start runs the follower until Stop.
func (f *Follower) Start() {
	if f.Poll <= 0 {
		f.Poll = 200 * time.Millisecond
	}
	if f.Logger == nil {
		f.Logger = log.NewNopLogger()
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel, f.done = cancel, make(chan struct{})
	go f.run(ctx)
}

// Stop ends the follower and waits for it; the block being written either
// commits or rolls back whole.
func (f *Follower) Stop() {
	f.once.Do(func() {
		if f.cancel != nil {
			f.cancel()
			<-f.done
		}
	})
}

func (f *Follower) run(ctx context.Context) {
	defer close(f.done)
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	t := time.NewTicker(f.Poll)
	defer t.Stop()
	failing := false
	for {
		err := f.step(ctx, &conn)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if !failing {
				f.Logger.Error("back office: will retry", "err", err.Error(), "cursor", f.cursor.Load())
			}
			failing = true
			var ce *chainError
			if conn != nil && !errors.As(err, &ce) {
				conn.Close(context.Background())
				conn = nil
			}
		} else if failing {
			f.Logger.Info("back office: writing again", "cursor", f.cursor.Load())
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// step connects when needed and writes every committed block after the
// cursor.
func (f *Follower) step(ctx context.Context, conn **pgx.Conn) error {
	st, err := f.Chain.Status(ctx)
	if err != nil {
		return &chainError{fmt.Errorf("status: %w", err)}
	}
	f.head.Store(st.SyncInfo.LatestBlockHeight)
	if *conn == nil {
		c, err := pgx.Connect(ctx, f.URL)
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		*conn = c
		if _, err := c.Exec(ctx, Schema); err != nil {
			return fmt.Errorf("schema: %w", err)
		}
		var h int64
		if err := c.QueryRow(ctx, "SELECT height FROM bo_cursor").Scan(&h); err != nil {
			return fmt.Errorf("cursor: %w", err)
		}
		f.cursor.Store(h)
	}
	head := f.head.Load()
	for h := f.cursor.Load() + 1; h <= head; h++ {
		batch, err := f.readBlock(ctx, h)
		if err != nil {
			if h == head {
				// CometBFT stores a block before it executes it, and the
				// app commits after the results are stored: the newest
				// block's results, or the statement it closes, can be
				// missing for a moment. Not an error; the next poll has it.
				return nil
			}
			return &chainError{fmt.Errorf("height %d: %w", h, err)}
		}
		if err := f.writeBlock(ctx, *conn, h, batch); err != nil {
			return fmt.Errorf("height %d: %w", h, err)
		}
		f.cursor.Store(h)
	}
	return nil
}

// chainError is a failed read from the node, not from the database: the
// connection is kept.
type chainError struct{ err error }

func (e *chainError) Error() string { return "node: " + e.err.Error() }
func (e *chainError) Unwrap() error { return e.err }

// readBlock reads height h from the node (block, results, the statements
// it closes) into the rows to write; it touches no database.
func (f *Follower) readBlock(ctx context.Context, h int64) (*pgx.Batch, error) {
	b, err := f.Chain.Block(ctx, &h)
	if err != nil {
		return nil, fmt.Errorf("block: %w", err)
	}
	res, err := f.Chain.BlockResults(ctx, &h)
	if err != nil {
		return nil, fmt.Errorf("block results: %w", err)
	}
	if len(res.TxsResults) != len(b.Block.Txs) {
		return nil, fmt.Errorf("%d txs but %d results", len(b.Block.Txs), len(res.TxsResults))
	}
	bt := b.Block.Time.UTC()
	batch := &pgx.Batch{}
	batch.Queue("UPDATE bo_cursor SET height = $1 WHERE height = $2", h, h-1)
	batch.Queue("INSERT INTO bo_blocks (height, time, hash, txs) VALUES ($1, $2, $3, $4)",
		h, bt, b.BlockID.Hash.String(), len(b.Block.Txs))
	for i, tx := range b.Block.Txs {
		r := res.TxsResults[i]
		row := decodeTx(tx, r)
		batch.Queue(`INSERT INTO bo_txs (height, tx_index, tx_hash, time, code, log, msg, actor, seller, terminal, customer,
			amount_paise, points, ref_id, idempotency_key, result) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)`,
			h, i, row.hash, bt, int64(r.Code), r.Log, row.msg, row.actor, row.seller, row.terminal, row.customer,
			row.amount, row.points, row.ref, row.key, row.result)
		queueEvents(batch, h, i, row.hash, bt, r.Events)
	}
	queueEvents(batch, h, -1, "", bt, res.FinalizeBlockEvents)
	for _, ev := range res.FinalizeBlockEvents {
		if ev.Type != types.EventEpochClosed {
			continue
		}
		epoch := attr(ev, "epoch")
		if err := f.queueStatement(ctx, batch, epoch); err != nil {
			return nil, err
		}
	}
	return batch, nil
}

// writeBlock writes height h's rows and moves the cursor from h-1 to h, in
// one transaction.
func (f *Follower) writeBlock(ctx context.Context, c *pgx.Conn, h int64, batch *pgx.Batch) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	br := tx.SendBatch(ctx, batch)
	tag, err := br.Exec()
	if err == nil && tag.RowsAffected() != 1 {
		err = fmt.Errorf("cursor is not at %d (another writer?)", h-1)
	}
	for i := 1; err == nil && i < batch.Len(); i++ {
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (f *Follower) queueStatement(ctx context.Context, batch *pgx.Batch, epoch string) error {
	q, err := f.Chain.ABCIQuery(ctx, "/statement/"+epoch, nil)
	if err != nil {
		return fmt.Errorf("statement %s: %w", epoch, err)
	}
	if q.Response.Code != 0 {
		return fmt.Errorf("statement %s: %s", epoch, q.Response.Log)
	}
	var st types.Statement
	if err := st.Unmarshal(q.Response.Value); err != nil {
		return fmt.Errorf("statement %s: %w", epoch, err)
	}
	for _, l := range st.Lines {
		batch.Queue("INSERT INTO bo_statement_lines (epoch, seller, net_paise, closed_height, end_time) VALUES ($1,$2,$3,$4,$5)",
			int64(st.Epoch), l.SellerId, l.NetPaise, st.ClosedHeight, time.Unix(st.EndTime, 0).UTC())
	}
	return nil
}

type txRow struct {
	hash, msg, key                                 string
	actor, seller, terminal, customer, ref, result *string
	amount, points                                 *int64
}

func sp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func ip(v uint64) *int64 { i := int64(v); return &i }

// decodeTx reads what the back office needs from the tx bytes (the message:
// terminal, amounts, customer) and its result (points, the signer).
func decodeTx(tx cmttypes.Tx, r *abcitypes.ExecTxResult) txRow {
	row := txRow{hash: hex.EncodeToString(tx.Hash()), msg: "undecodable"}
	var env types.Tx
	var body types.TxBody
	if env.Unmarshal(tx) != nil || body.Unmarshal(env.Body) != nil {
		return row
	}
	row.msg, row.key = app.MsgName(&body), body.IdempotencyKey
	switch m := body.Msg.(type) {
	case *types.TxBody_Purchase:
		row.seller, row.terminal, row.customer, row.amount = sp(m.Purchase.SellerId), sp(m.Purchase.TerminalId), sp(m.Purchase.CustomerId), ip(m.Purchase.AmountPaise)
	case *types.TxBody_Redeem:
		row.seller, row.terminal, row.customer, row.amount, row.points = sp(m.Redeem.SellerId), sp(m.Redeem.TerminalId), sp(m.Redeem.CustomerId), ip(m.Redeem.BillPaise), ip(m.Redeem.Points)
	case *types.TxBody_Refund:
		row.seller, row.terminal, row.amount, row.ref = sp(m.Refund.SellerId), sp(m.Refund.TerminalId), ip(m.Refund.AmountPaise), sp(hex.EncodeToString(m.Refund.PurchaseId))
	case *types.TxBody_VoidRedemption:
		row.seller, row.terminal, row.ref = sp(m.VoidRedemption.SellerId), sp(m.VoidRedemption.TerminalId), sp(hex.EncodeToString(m.VoidRedemption.RedemptionId))
	case *types.TxBody_ConfirmSettlement:
		row.seller, row.ref = sp(m.ConfirmSettlement.SellerId), sp(strconv.FormatUint(m.ConfirmSettlement.Epoch, 10))
	}
	if r.Code != 0 {
		return row
	}
	// The signer, as the app resolved it: "seller" or "seller/terminal".
	for _, ev := range r.Events {
		if ev.Type == types.EventTx {
			a := attr(ev, "actor")
			row.actor = sp(a)
			s, t, _ := strings.Cut(a, "/")
			row.seller, row.terminal = sp(s), sp(t)
		}
		if ev.Type == types.EventPointsClawed && row.customer == nil {
			row.customer = sp(attr(ev, "customer"))
		}
		if ev.Type == types.EventPointsRestored && row.customer == nil {
			row.customer = sp(attr(ev, "customer"))
		}
	}
	var data types.TxResultData
	if len(r.Data) == 0 || data.Unmarshal(r.Data) != nil {
		return row
	}
	var inner any
	switch d := data.Result.(type) {
	case *types.TxResultData_Purchase:
		row.points, inner = ip(d.Purchase.PointsIssued), d.Purchase
	case *types.TxResultData_Redeem:
		row.points, inner = ip(d.Redeem.PointsRedeemed), d.Redeem
	case *types.TxResultData_Refund:
		row.points, inner = ip(d.Refund.PointsClawedBack), d.Refund
	case *types.TxResultData_Void:
		row.points, inner = ip(d.Void.PointsRestored), d.Void
	case *types.TxResultData_ImportBalances:
		row.points, row.amount, inner = ip(d.ImportBalances.Points), ip(d.ImportBalances.SellerPaymentPaise), d.ImportBalances
	default:
		inner = data.Result
	}
	if inner != nil {
		if bz, err := json.Marshal(inner); err == nil {
			row.result = sp(string(bz))
		}
	}
	return row
}

func attr(ev abcitypes.Event, key string) string {
	for _, a := range ev.Attributes {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

func queueEvents(batch *pgx.Batch, h int64, txIndex int, hash string, t time.Time, evs []abcitypes.Event) {
	for j, ev := range evs {
		attrs := make(map[string]string, len(ev.Attributes))
		for _, a := range ev.Attributes {
			attrs[a.Key] = a.Value
		}
		bz, _ := json.Marshal(attrs)
		var points, epoch *int64
		if v, err := strconv.ParseInt(attrs["points"], 10, 64); err == nil {
			points = &v
		}
		if v, err := strconv.ParseInt(attrs["epoch"], 10, 64); err == nil {
			epoch = &v
		}
		ref := attrs["purchase_id"]
		if ref == "" {
			ref = attrs["redemption_id"]
		}
		batch.Queue(`INSERT INTO bo_events (height, tx_index, event_index, tx_hash, time, type, customer, seller, issuer,
			points, epoch, reason, actor, ref_id, attrs) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)`,
			h, txIndex, j, sp(hash), t, ev.Type, sp(attrs["customer"]), sp(attrs["seller"]), sp(attrs["issuer"]),
			points, epoch, sp(attrs["reason"]), sp(attrs["actor"]), sp(ref), string(bz))
	}
}
