package upgrade

import (
	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// Query answers /upgrade: the plan, the applied upgrades and the app
// version. It reads two singleton keys, so a proven answer is complete.
func Query(r store.Reader, args []string) (state.Msg, error) {
	if len(args) != 0 {
		return nil, types.Errorf(types.CodeInvalidArgument, "/upgrade takes no arguments")
	}
	out := &types.UpgradeStatus{}
	if p, ok := Plan(r); ok {
		out.Plan = p
	}
	h := History(r)
	out.Done, out.AppVersion = h.Done, h.AppVersion
	return out, nil
}
