package types

// Event is an ABCI event in the app's own terms; the abci package translates
// it. Every balance or position movement emits one, naming the reason and the
// actor (the seller or terminal whose transaction caused it, or "chain" for
// block-level work such as expiry and epoch close).
type Event struct {
	Type  string
	Attrs []Attr
}

// Attr is one event attribute.
type Attr struct {
	Key, Value string
}

// Event types.
const (
	EventPointsIssued   = "points_issued"
	EventPointsRedeemed = "points_redeemed"
	EventPointsClawed   = "points_clawed_back"
	EventPointsRestored = "points_restored"
	EventPointsExpired  = "points_expired"
	EventPosition       = "position_changed"
	EventEpochClosed    = "epoch_closed"
	EventSettlement     = "settlement_confirmed"
	EventTerminal       = "terminal"
	EventSellerConfig   = "seller_config"
	EventCRMS           = "crms"
	EventProposal       = "proposal"
	EventMembership     = "membership"
	EventWalletBound    = "wallet_bound"
	EventTx             = "bytepoints_tx"
	EventPointsReleased = "points_released" // pending points became available (SPEC §5.9)
	EventCampaign       = "campaign"
	EventProgramConfig  = "program_config"
	ActorChain          = "chain"
)

// EventImport marks an import approval and each booked import batch
// (app/imports); each imported row is a points_issued event with reason
// "import".
const EventImport = "import"
