package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// A commit too large for one Badger transaction (Badger bounds one to 15%
// of its memtable, about 19 MB) goes through a redo log, so that it is as
// atomic as any other:
//
//  1. every write of the commit (state, buckets, the journal of the
//     in-memory levels and the commit record itself) is appended to a log
//     under nsRedo, in chunks, with Badger write batches;
//  2. one small transaction sets redoKey (the height and the number of
//     chunks): this is the commit point;
//  3. the log is applied to the real keys with write batches, then redoKey
//     and the log are deleted.
//
// A crash before 2 leaves the previous commit and an orphan log, which Open
// deletes; a crash after 2 leaves a marked log, which Open applies again
// (its writes are final values, so applying twice is applying once) before
// it reads anything. Views opened during 3 wait for it (db.mu), so a query
// never sees half a block. Blocks are bounded so that this path is rare;
// it exists so that no valid block can fail to commit.

const redoChunk = 4 << 20 // bytes of writes per log entry

func redoEntryKey(height int64, chunk uint32) []byte {
	k := binary.BigEndian.AppendUint64([]byte{nsRedo}, uint64(height))
	return binary.BigEndian.AppendUint32(k, chunk)
}

// redoLog appends encoded writes to log chunks: per write an op byte (1
// set, 0 delete), the key and, for a set, the value, each length-prefixed.
type redoLog struct {
	wb     *badger.WriteBatch
	height int64
	chunks uint32
	buf    []byte
}

func (l *redoLog) set(k, v []byte) error { return l.add(1, k, v) }
func (l *redoLog) del(k []byte) error    { return l.add(0, k, nil) }

func (l *redoLog) add(op byte, k, v []byte) error {
	l.buf = append(l.buf, op)
	l.buf = binary.AppendUvarint(l.buf, uint64(len(k)))
	l.buf = append(l.buf, k...)
	if op == 1 {
		l.buf = binary.AppendUvarint(l.buf, uint64(len(v)))
		l.buf = append(l.buf, v...)
	}
	if len(l.buf) >= redoChunk {
		return l.flushChunk()
	}
	return nil
}

func (l *redoLog) flushChunk() error {
	if len(l.buf) == 0 {
		return nil
	}
	err := l.wb.Set(redoEntryKey(l.height, l.chunks), l.buf)
	l.chunks++
	l.buf = nil
	return err
}

// commitRedo commits height through the redo log (see above).
func (db *DB) commitRedo(b *batch, w *writeSet, height, timeNs int64, root, meta []byte) error {
	l := &redoLog{wb: db.bdb.NewWriteBatch(), height: height}
	err := w.each(l.set, l.del)
	if err == nil {
		err = db.lay.writeTop(l.set, l.del, b, height)
	}
	if err == nil {
		err = l.set(metaKey, meta)
	}
	if err == nil {
		err = l.flushChunk()
	}
	if err != nil {
		l.wb.Cancel()
		return fmt.Errorf("commit height %d: redo log: %w", height, err)
	}
	if err := l.wb.Flush(); err != nil {
		return fmt.Errorf("commit height %d: redo log: %w", height, err)
	}
	mark := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, uint64(height)), l.chunks)
	return db.land(b, w, height, timeNs, root, landing{
		mark: func() error {
			return db.bdb.Update(func(txn *badger.Txn) error { return txn.Set(redoKey, mark) })
		},
		write: func() error {
			if err := db.applyRedo(height, l.chunks); err != nil {
				return fmt.Errorf("apply the redo log: %w", err)
			}
			return nil
		},
	})
}

// applyRedo writes a marked log's writes to their keys, then removes the
// mark and the log.
func (db *DB) applyRedo(height int64, chunks uint32) error {
	wb := db.bdb.NewWriteBatch()
	for c := uint32(0); c < chunks; c++ {
		var chunk []byte
		err := db.bdb.View(func(txn *badger.Txn) error {
			it, err := txn.Get(redoEntryKey(height, c))
			if err != nil {
				return err
			}
			chunk, err = it.ValueCopy(nil)
			return err
		})
		if err != nil {
			wb.Cancel()
			return fmt.Errorf("redo chunk %d of height %d: %w", c, height, err)
		}
		if err := replayChunk(chunk, wb); err != nil {
			wb.Cancel()
			return fmt.Errorf("redo chunk %d of height %d: %w", c, height, err)
		}
	}
	if err := wb.Flush(); err != nil {
		return err
	}
	if err := db.bdb.Update(func(txn *badger.Txn) error { return txn.Delete(redoKey) }); err != nil {
		return err
	}
	return db.dropRedoLog()
}

func replayChunk(b []byte, wb *badger.WriteBatch) error {
	for len(b) > 0 {
		op := b[0]
		b = b[1:]
		k, rest, err := lenPrefixed(b)
		if err != nil {
			return err
		}
		b = rest
		switch op {
		case 0:
			err = wb.Delete(k)
		case 1:
			var v []byte
			if v, b, err = lenPrefixed(b); err != nil {
				return err
			}
			err = wb.Set(k, v)
		default:
			return errors.New("corrupt redo log: unknown op")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func lenPrefixed(b []byte) ([]byte, []byte, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return nil, nil, errors.New("corrupt redo log: truncated entry")
	}
	return b[w : w+int(n)], b[w+int(n):], nil
}

// dropRedoLog deletes every log entry.
func (db *DB) dropRedoLog() error {
	var keys [][]byte
	err := db.bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{nsRedo}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		return nil
	})
	if err != nil || len(keys) == 0 {
		return err
	}
	wb := db.bdb.NewWriteBatch()
	for _, k := range keys {
		if err := wb.Delete(k); err != nil {
			wb.Cancel()
			return err
		}
	}
	return wb.Flush()
}

// finishRedo, at Open, applies a marked redo log (its commit happened) or
// drops an unmarked one (its commit did not).
func (db *DB) finishRedo() error {
	var mark []byte
	err := db.bdb.View(func(txn *badger.Txn) error {
		it, err := txn.Get(redoKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		mark, err = it.ValueCopy(nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("read the redo mark: %w", err)
	}
	if mark == nil {
		return db.dropRedoLog()
	}
	if len(mark) != 12 {
		return errors.New("corrupt redo mark")
	}
	return db.applyRedo(int64(binary.BigEndian.Uint64(mark)), binary.BigEndian.Uint32(mark[8:]))
}
