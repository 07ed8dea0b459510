package upgrade

import (
	"fmt"
	"regexp"
	"sort"

	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
)

// InitialAppVersion is the app version of the genesis rules: what Info and
// the block headers carry until the first upgrade.
const InitialAppVersion uint64 = 1

// EventType is the event of scheduling, cancelling and applying a plan.
const EventType = "upgrade"

// MaxInfoLen bounds a plan's info (a URL, or cosmovisor's JSON of binaries).
const MaxInfoLen = 2048

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Handler is what a binary carries for one named upgrade.
type Handler struct {
	Name string
	// AppVersion is the app version from the upgrade's block on; above
	// the version the chain ran before.
	AppVersion uint64
	// Migrate changes state to the new rules. It runs once, at the start
	// of the plan's block, before that block's transactions; an error
	// halts the node (the block is not applied).
	Migrate func(c *state.Ctx) error
}

// production lists the upgrades of released binaries. A binary keeps the
// entries of every applied upgrade (a node checks at start that it knows
// every upgrade its state went through).
var production = []Handler{}

// Handlers returns the upgrades this binary carries, in name order.
func Handlers() []Handler {
	out := append(append([]Handler(nil), production...), testHandlers...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Find returns the handler named name.
func Find(hs []Handler, name string) (Handler, bool) {
	for _, h := range hs {
		if h.Name == name {
			return h, true
		}
	}
	return Handler{}, false
}

// Plan is the scheduled upgrade, if any.
func Plan(r store.Reader) (*types.UpgradePlan, bool) {
	p := &types.UpgradePlan{}
	if !state.Get(r, types.UpgradePlanKey(), p) {
		return nil, false
	}
	return p, true
}

// History is the applied upgrades and the app version they leave.
func History(r store.Reader) *types.UpgradeHistory {
	h := &types.UpgradeHistory{}
	state.Get(r, types.UpgradeHistoryKey(), h)
	if h.AppVersion == 0 {
		h.AppVersion = InitialAppVersion
	}
	return h
}

// AppVersion is the app version of the rules state r is under.
func AppVersion(r store.Reader) uint64 { return History(r).AppVersion }

func done(r store.Reader, name string) (*types.UpgradeDone, bool) {
	for _, d := range History(r).Done {
		if d.Name == name {
			return d, true
		}
	}
	return nil, false
}

// CheckSchedule validates a software_upgrade proposal against state, when
// it is proposed and again when it passes: a well-formed name not applied
// before, and a height still ahead.
func CheckSchedule(c *state.Ctx, p *types.UpgradePlan) error {
	if p == nil {
		return types.Errorf(types.CodeInvalidArgument, "software-upgrade proposal without a plan")
	}
	if !nameRE.MatchString(p.Name) {
		return types.Errorf(types.CodeInvalidArgument, "upgrade name %q: want 1 to 64 of a-z 0-9 . _ - starting with a letter or digit", p.Name)
	}
	if err := types.ValidateText("upgrade info", p.Info, MaxInfoLen); err != nil {
		return err
	}
	if p.Height <= c.Height {
		return types.Errorf(types.CodeInvalidArgument, "upgrade height %d is not after the current height %d", p.Height, c.Height)
	}
	if d, ok := done(c.KV, p.Name); ok {
		return types.Errorf(types.CodeInvalidArgument, "upgrade %s was already applied at height %d", p.Name, d.Height)
	}
	return nil
}

// Schedule records a passed plan. One plan at a time: a new one replaces
// the scheduled one (as in x/upgrade).
func Schedule(c *state.Ctx, p *types.UpgradePlan, proposalID uint64) {
	if old, ok := Plan(c.KV); ok {
		c.Emit(EventType, "action", "replaced", "name", old.Name, "height", state.I(old.Height), "actor", c.Actor)
	}
	plan := &types.UpgradePlan{Name: p.Name, Height: p.Height, Info: p.Info, ProposalId: proposalID}
	state.Put(c.KV, types.UpgradePlanKey(), plan)
	c.Emit(EventType, "action", "scheduled", "name", plan.Name, "height", state.I(plan.Height), "actor", c.Actor)
}

// CheckCancel validates a cancel_upgrade proposal: a plan is scheduled
// (of that name, when one is given).
func CheckCancel(c *state.Ctx, m *types.CancelUpgrade) error {
	p, ok := Plan(c.KV)
	if !ok {
		return types.Errorf(types.CodeNotFound, "no upgrade is scheduled")
	}
	if m != nil && m.Name != "" && m.Name != p.Name {
		return types.Errorf(types.CodeInvalidArgument, "the scheduled upgrade is %s, not %s", p.Name, m.Name)
	}
	return nil
}

// Cancel drops the scheduled plan (CheckCancel ran just before).
func Cancel(c *state.Ctx) {
	p, ok := Plan(c.KV)
	if !ok {
		return
	}
	c.KV.Delete(types.UpgradePlanKey())
	c.Emit(EventType, "action", "cancelled", "name", p.Name, "height", state.I(p.Height), "actor", c.Actor)
}

// NeededError is the refusal to apply the block at a plan's height by a
// binary that has no handler for it.
type NeededError struct{ Plan *types.UpgradePlan }

func (e *NeededError) Error() string {
	return fmt.Sprintf("UPGRADE %q NEEDED at height %d: this binary has no handler for it; install the binary for %s%s",
		e.Plan.Name, e.Plan.Height, e.Plan.Name, infoSuffix(e.Plan.Info))
}

func infoSuffix(info string) string {
	if info == "" {
		return ""
	}
	return " (info: " + info + ")"
}

// MissingError is the refusal of a binary that lacks an upgrade state
// went through.
type MissingError struct{ Done *types.UpgradeDone }

func (e *MissingError) Error() string {
	return fmt.Sprintf("UPGRADE %q was applied at height %d (app version %d) and this binary does not carry it: run the binary for %s or a later one",
		e.Done.Name, e.Done.Height, e.Done.AppVersion, e.Done.Name)
}

// Due is the plan whose height is the block height, if any.
func Due(r store.Reader, height int64) (*types.UpgradePlan, bool) {
	p, ok := Plan(r)
	if !ok || p.Height != height {
		return nil, false
	}
	return p, true
}

// Begin runs first in every block. At a plan's height it runs the
// plan's handler, records the upgrade as done, drops the plan and returns
// the new app version; without the handler it returns a *NeededError and
// the block must not be applied. Otherwise it returns 0.
func Begin(c *state.Ctx, hs []Handler) (uint64, error) {
	p, ok := Plan(c.KV)
	if !ok {
		return 0, nil
	}
	if p.Height < c.Height {
		// Only a binary that skipped the halt (or a state edited by hand)
		// gets here: the chain ran blocks past the plan under old rules.
		return 0, fmt.Errorf("upgrade %s was due at height %d and never applied; this state is at height %d", p.Name, p.Height, c.Height)
	}
	if p.Height != c.Height {
		return 0, nil
	}
	h, ok := Find(hs, p.Name)
	if !ok {
		return 0, &NeededError{Plan: p}
	}
	hist := History(c.KV)
	if h.AppVersion <= hist.AppVersion {
		return 0, fmt.Errorf("upgrade %s sets app version %d, not above the chain's %d", h.Name, h.AppVersion, hist.AppVersion)
	}
	if err := h.Migrate(c); err != nil {
		return 0, fmt.Errorf("upgrade %s: migration failed: %w", h.Name, err)
	}
	hist.Done = append(hist.Done, &types.UpgradeDone{Name: h.Name, Height: c.Height, AppVersion: h.AppVersion})
	hist.AppVersion = h.AppVersion
	state.Put(c.KV, types.UpgradeHistoryKey(), hist)
	c.KV.Delete(types.UpgradePlanKey())
	c.Emit(EventType, "action", "applied", "name", h.Name, "height", state.I(c.Height), "app_version", state.U(h.AppVersion), "actor", types.ActorChain)
	return h.AppVersion, nil
}

// CheckBinary is what a node asks before it starts: can this binary go on
// from state r committed at height? It cannot when state went through an
// upgrade the binary does not carry (a node put back on an older binary),
// nor when the next block is a plan's height and the binary lacks its
// handler (the node stopped there: it must be switched first).
func CheckBinary(r store.Reader, height int64, hs []Handler) error {
	for _, d := range History(r).Done {
		if _, ok := Find(hs, d.Name); !ok {
			return &MissingError{Done: d}
		}
	}
	if p, ok := Due(r, height+1); ok {
		if _, ok := Find(hs, p.Name); !ok {
			return &NeededError{Plan: p}
		}
	}
	return nil
}

// Names lists the handlers' names (for `version`).
func Names(hs []Handler) []string {
	out := []string{}
	for _, h := range hs {
		out = append(out, h.Name)
	}
	return out
}

// MaxAppVersion is the highest app version a binary with handlers hs can
// run: InitialAppVersion when it carries none.
func MaxAppVersion(hs []Handler) uint64 {
	v := InitialAppVersion
	for _, h := range hs {
		v = max(v, h.AppVersion)
	}
	return v
}
