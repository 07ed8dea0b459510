package settle

import (
	"github.com/bytepoints/bytepoints/app/query"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// Settlement's queries: statements and the chain's totals (escrow and
// outstanding points). Each reads state only through r, so a client can
// re-run it on proven entries (app.VerifyQuery).

// QueryTotals answers /totals.
func QueryTotals(r store.Reader, _ []string) (state.Msg, error) { return state.Totals(r), nil }

// QueryStatement answers /statement/{epoch}.
func QueryStatement(r store.Reader, args []string) (state.Msg, error) {
	if err := query.ArgN(args, 1, "/statement/{epoch}"); err != nil {
		return nil, err
	}
	e, err := query.ParseU64("epoch", args[0])
	if err != nil {
		return nil, err
	}
	st, ok := Statement(r, e)
	if !ok {
		open := Epoch(r)
		if e >= open.Epoch {
			return nil, types.Errorf(types.CodeNotFound, "epoch %d is not closed yet (open epoch is %d)", e, open.Epoch)
		}
		return nil, types.Errorf(types.CodeNotFound, "no statement for epoch %d", e)
	}
	return st, nil
}

// maxStatements is how many statements /statements lists, newest first.
const maxStatements = 31

// QueryStatements answers /statements[/{before}].
func QueryStatements(r store.Reader, args []string) (state.Msg, error) {
	out := &types.StatementsResponse{Open: Epoch(r)}
	// Statements are read through the closing-order index from the proven
	// count down: the newest maxStatements, none left out. With {before},
	// the page of those closed before the before-th statement (0-based
	// closing order), so a client can walk every statement.
	n := state.Totals(r).Statements
	if len(args) >= 1 {
		b, err := query.ParseU64("before", args[0])
		if err != nil {
			return nil, err
		}
		if b > n {
			return nil, types.Errorf(types.CodeInvalidArgument, "before %d is past the %d statements closed", b, n)
		}
		n = b
	}
	for i := uint64(0); i < maxStatements && i < n; i++ {
		seq := n - 1 - i
		e, ok := StatementEpoch(r, seq)
		if !ok {
			return nil, types.Errorf(types.CodeInternal, "statement index entry %d is missing", seq)
		}
		st, ok := Statement(r, e)
		if !ok {
			return nil, types.Errorf(types.CodeInternal, "statement %d (epoch %d) is missing", seq, e)
		}
		out.Statements = append(out.Statements, st)
	}
	return out, nil
}
