package risk

import (
	"strconv"

	"github.com/bytepoints/bytepoints/app/query"
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// DecisionQuery answers /crms/{customer}/{amount_paise}[/{seller}[/{context_nano}]]
// from state alone: the parameters, the last block's time (the clock
// record), the card's window and the seller's record and open epoch, so a
// proven decision can be re-derived from its proofs. k is the engine cache
// (it never changes a result). The node's fast path (app.Decide) gives the
// same bytes from its caches.
func DecisionQuery(k *Keeper) query.Assembler {
	return func(r store.Reader, args []string) (state.Msg, error) {
		q, err := ParseQuestion(args)
		if err != nil {
			return nil, err
		}
		p, err := query.Params(r)
		if err != nil {
			return nil, err
		}
		return k.Decide(r, p, types.FloorDiv(state.Clock(r).TimeNs, 1e6), q)
	}
}

// ParseQuestion reads a decision question from the /crms path's arguments.
func ParseQuestion(args []string) (Question, error) {
	if len(args) < 2 || len(args) > 4 {
		return Question{}, types.Errorf(types.CodeInvalidArgument, "usage: /crms/{customer}/{amount_paise}[/{seller}[/{context_nano}]]")
	}
	amount, err := query.ParseU64("amount in paise", args[1])
	if err != nil {
		return Question{}, err
	}
	q := Question{CustomerID: args[0], AmountPaise: amount}
	if len(args) >= 3 {
		q.SellerID = args[2]
	}
	if len(args) == 4 {
		if q.ContextNano, err = strconv.ParseInt(args[3], 10, 64); err != nil {
			return Question{}, types.Errorf(types.CodeInvalidArgument, "context %q must be an integer in 1e-9 units", args[3])
		}
	}
	return q, nil
}
