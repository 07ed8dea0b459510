//go:build upgradetest

package upgrade

import (
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/types"
)

// V2TestHistoryPage is the max_history_page the v2-test migration sets: a
// change anyone can see with `query params`.
const V2TestHistoryPage = 321

// testHandlers holds v2-test, the upgrade the tests schedule (networks,
// app/apptest). Built only with -tags upgradetest: production binaries
// carry no test handler.
var testHandlers = []Handler{{
	Name:       "v2-test",
	AppVersion: 2,
	Migrate: func(c *state.Ctx) error {
		p := state.Params(c.KV)
		if p == nil {
			return types.Errorf(types.CodeInternal, "no parameters in state")
		}
		p.MaxHistoryPage = V2TestHistoryPage
		state.PutParams(c.KV, p)
		return nil
	},
}}
