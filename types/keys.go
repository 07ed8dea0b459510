package types

import (
	"encoding/binary"
	"errors"
)

// State key layout. Every key is built here: a one-byte prefix, then
// length-prefixed variable parts and big-endian integers, so a prefix scan
// returns entries in the order the code means (lots by expiry, history by
// sequence, statements by epoch).
const (
	PrefixParams      byte = 0x01 // singleton
	PrefixTotals      byte = 0x02 // singleton
	PrefixEpoch       byte = 0x03 // singleton: the open settlement epoch
	PrefixClock       byte = 0x04 // singleton: the last block's height and time
	PrefixSeller      byte = 0x10 // seller id -> SellerRecord
	PrefixTerminal    byte = 0x11 // seller id, terminal id -> Terminal
	PrefixSigner      byte = 0x12 // pubkey -> SignerRef
	PrefixCustomer    byte = 0x20 // customer id -> Customer
	PrefixLot         byte = 0x21 // customer id, expires_at, seq -> Lot
	PrefixExpiry      byte = 0x22 // expires_at, customer id, seq -> empty
	PrefixHistory     byte = 0x23 // customer id, seq -> HistoryEntry
	PrefixCard        byte = 0x24 // customer id -> CardHistory (CRMS)
	PrefixPurchase    byte = 0x30 // tx hash -> Purchase
	PrefixRedemption  byte = 0x31 // tx hash -> Redemption
	PrefixSellerEpoch byte = 0x40 // seller id -> SellerEpoch (open epoch)
	PrefixStatement   byte = 0x41 // epoch -> Statement
	PrefixStmtIndex   byte = 0x42 // closing sequence number -> epoch (8 bytes, big-endian)
	PrefixIdem        byte = 0x50 // signer, key -> IdempotencyRecord
	PrefixIdemExpiry  byte = 0x51 // forget-after time, signer, key -> empty
	PrefixIdemHold    byte = 0x52 // valid_until_height, signer, key -> empty (window over, envelope still valid)
	PrefixProposal    byte = 0x60 // id -> Proposal
	PrefixPropExpiry  byte = 0x61 // expires height, id -> empty
	PrefixValUpdate   byte = 0x70 // validator pubkey -> power, pending until block end
	PrefixUpgradePlan byte = 0x80 // singleton: the scheduled UpgradePlan (app/upgrade)
	PrefixUpgradeDone byte = 0x81 // singleton: UpgradeHistory, the applied upgrades and the app version
	// Programs (SPEC §5.7-5.10), owned by app/program and app/ledger.
	PrefixProgram        byte = 0x88 // seller id -> SellerProgram
	PrefixRelease        byte = 0x89 // pending_until, customer id, expires_at, seq -> empty (pending lots)
	PrefixCampaign       byte = 0x8A // seller id, campaign id -> Campaign
	PrefixActiveCampaign byte = 0x8B // seller id, campaign id -> empty (the active ones)
	PrefixTiers          byte = 0x8C // singleton: TierTable
	PrefixSpend          byte = 0x8D // customer id -> CustomerSpend (tier buckets)
	PrefixReferralCode   byte = 0x8E // referral code -> customer id (raw)
	PrefixReferral       byte = 0x8F // referee customer id -> Referral
	// Retention (issue 20): per-booking records by booking time, pruned
	// oldest first once past record_retention_seconds.
	PrefixRetention byte = 0x90 // booked at, record key -> empty
	PrefixPrunedTo  byte = 0x91 // singleton: booking time of the newest pruned record (8 bytes, big-endian, sign bit flipped)
)

func appendStr(b []byte, s string) []byte {
	if len(s) > 255 {
		panic("key part longer than 255 bytes") // ids are validated far below this
	}
	b = append(b, byte(len(s)))
	return append(b, s...)
}

func appendU64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

// appendI64 keeps signed order under byte comparison by flipping the sign bit.
func appendI64(b []byte, v int64) []byte { return appendU64(b, uint64(v)^(1<<63)) }

func ParamsKey() []byte          { return []byte{PrefixParams} }
func TotalsKey() []byte          { return []byte{PrefixTotals} }
func EpochStateKey() []byte      { return []byte{PrefixEpoch} }
func ClockKey() []byte           { return []byte{PrefixClock} }
func SellerKey(id string) []byte { return appendStr([]byte{PrefixSeller}, id) }
func SellerPrefix() []byte       { return []byte{PrefixSeller} }

func TerminalKey(seller, terminal string) []byte {
	return appendStr(appendStr([]byte{PrefixTerminal}, seller), terminal)
}
func TerminalPrefix(seller string) []byte { return appendStr([]byte{PrefixTerminal}, seller) }
func SignerKey(pub []byte) []byte         { return append([]byte{PrefixSigner}, pub...) }

func CustomerKey(id string) []byte { return appendStr([]byte{PrefixCustomer}, id) }
func CustomerPrefix() []byte       { return []byte{PrefixCustomer} }

func LotKey(customer string, expiresAt int64, seq uint64) []byte {
	return appendU64(appendI64(appendStr([]byte{PrefixLot}, customer), expiresAt), seq)
}
func LotPrefix(customer string) []byte { return appendStr([]byte{PrefixLot}, customer) }

func ExpiryKey(expiresAt int64, customer string, seq uint64) []byte {
	return appendU64(appendStr(appendI64([]byte{PrefixExpiry}, expiresAt), customer), seq)
}

// ExpiryBound is the first expiry-index key at or after time t.
func ExpiryBound(t int64) []byte { return appendI64([]byte{PrefixExpiry}, t) }

// ParseExpiryKey splits an expiry-index key.
func ParseExpiryKey(k []byte) (expiresAt int64, customer string, seq uint64, err error) {
	if len(k) < 1+8+1+8 || k[0] != PrefixExpiry {
		return 0, "", 0, errors.New("malformed expiry key")
	}
	expiresAt = int64(binary.BigEndian.Uint64(k[1:9]) ^ (1 << 63))
	n := int(k[9])
	if len(k) != 10+n+8 {
		return 0, "", 0, errors.New("malformed expiry key")
	}
	customer = string(k[10 : 10+n])
	seq = binary.BigEndian.Uint64(k[10+n:])
	return expiresAt, customer, seq, nil
}

func HistoryKey(customer string, seq uint64) []byte {
	return appendU64(appendStr([]byte{PrefixHistory}, customer), seq)
}
func HistoryPrefix(customer string) []byte { return appendStr([]byte{PrefixHistory}, customer) }
func CardKey(customer string) []byte       { return appendStr([]byte{PrefixCard}, customer) }

func PurchaseKey(id []byte) []byte   { return append([]byte{PrefixPurchase}, id...) }
func RedemptionKey(id []byte) []byte { return append([]byte{PrefixRedemption}, id...) }

func SellerEpochKey(seller string) []byte { return appendStr([]byte{PrefixSellerEpoch}, seller) }
func SellerEpochPrefix() []byte           { return []byte{PrefixSellerEpoch} }
func StatementKey(epoch uint64) []byte    { return appendU64([]byte{PrefixStatement}, epoch) }
func StatementPrefix() []byte             { return []byte{PrefixStatement} }

// StatementIndexKey is the n-th closed statement's index entry (0-based):
// epochs in which no block was made have no statement, so statement epochs
// are not consecutive; the index numbers them 0..Totals.Statements-1.
func StatementIndexKey(n uint64) []byte { return appendU64([]byte{PrefixStmtIndex}, n) }

func IdemKey(signer []byte, key string) []byte {
	return appendStr(append([]byte{PrefixIdem}, signer...), key)
}

// IdemExpiryKey indexes an idempotency record by the block time (Unix
// seconds) after which it may be forgotten.
func IdemExpiryKey(forgetAfter int64, signer []byte, key string) []byte {
	return appendStr(append(appendI64([]byte{PrefixIdemExpiry}, forgetAfter), signer...), key)
}

// IdemExpiryBound is the first idempotency-expiry key for times >= t.
func IdemExpiryBound(t int64) []byte { return appendI64([]byte{PrefixIdemExpiry}, t) }

// ParseIdemExpiryKey recovers the idempotency key an expiry entry points to.
func ParseIdemExpiryKey(k []byte) (forgetAfter int64, idemKey []byte, err error) {
	if len(k) < 1+8+32+1 || k[0] != PrefixIdemExpiry {
		return 0, nil, errors.New("malformed idempotency expiry key")
	}
	forgetAfter = int64(binary.BigEndian.Uint64(k[1:9]) ^ (1 << 63))
	idemKey = append([]byte{PrefixIdem}, k[9:]...)
	return forgetAfter, idemKey, nil
}

// IdemHoldKey indexes an idempotency record whose time window has passed
// while the booked envelope is still valid (its valid_until_height is not
// behind the chain): it is kept until that height has passed.
// idemKey is the record's key (IdemKey).
func IdemHoldKey(validUntilHeight uint64, idemKey []byte) []byte {
	if len(idemKey) == 0 || idemKey[0] != PrefixIdem {
		panic("not an idempotency record key")
	}
	return append(appendU64([]byte{PrefixIdemHold}, validUntilHeight), idemKey[1:]...)
}

// IdemHoldBound is the first hold key for valid_until_height >= h.
func IdemHoldBound(h uint64) []byte { return appendU64([]byte{PrefixIdemHold}, h) }

// ParseIdemHoldKey recovers the idempotency key a hold entry points to.
func ParseIdemHoldKey(k []byte) (validUntilHeight uint64, idemKey []byte, err error) {
	if len(k) < 1+8+32+1 || k[0] != PrefixIdemHold {
		return 0, nil, errors.New("malformed idempotency hold key")
	}
	validUntilHeight = binary.BigEndian.Uint64(k[1:9])
	idemKey = append([]byte{PrefixIdem}, k[9:]...)
	return validUntilHeight, idemKey, nil
}

func ProposalKey(id uint64) []byte { return appendU64([]byte{PrefixProposal}, id) }
func ProposalPrefix() []byte       { return []byte{PrefixProposal} }
func PropExpiryKey(h int64, id uint64) []byte {
	return appendU64(appendI64([]byte{PrefixPropExpiry}, h), id)
}
func PropExpiryBound(h int64) []byte { return appendI64([]byte{PrefixPropExpiry}, h) }

// ParsePropExpiryKey returns the proposal id of an expiry entry.
func ParsePropExpiryKey(k []byte) (uint64, error) {
	if len(k) != 17 || k[0] != PrefixPropExpiry {
		return 0, errors.New("malformed proposal expiry key")
	}
	return binary.BigEndian.Uint64(k[9:]), nil
}

func ValUpdateKey(pub []byte) []byte { return append([]byte{PrefixValUpdate}, pub...) }
func ValUpdatePrefix() []byte        { return []byte{PrefixValUpdate} }

func UpgradePlanKey() []byte          { return []byte{PrefixUpgradePlan} }
func UpgradeHistoryKey() []byte       { return []byte{PrefixUpgradeDone} }
func ProgramKey(seller string) []byte { return appendStr([]byte{PrefixProgram}, seller) }

// ReleaseKey indexes a pending lot by the time after which it becomes
// available (the first block after pending_until releases it).
func ReleaseKey(pendingUntil int64, customer string, expiresAt int64, seq uint64) []byte {
	return appendU64(appendI64(appendStr(appendI64([]byte{PrefixRelease}, pendingUntil), customer), expiresAt), seq)
}

// ReleaseBound is the first release-index key at or after time t.
func ReleaseBound(t int64) []byte { return appendI64([]byte{PrefixRelease}, t) }

// ParseReleaseKey splits a release-index key.
func ParseReleaseKey(k []byte) (pendingUntil int64, customer string, expiresAt int64, seq uint64, err error) {
	if len(k) < 1+8+1+8+8 || k[0] != PrefixRelease {
		return 0, "", 0, 0, errors.New("malformed release key")
	}
	pendingUntil = int64(binary.BigEndian.Uint64(k[1:9]) ^ (1 << 63))
	n := int(k[9])
	if len(k) != 10+n+16 {
		return 0, "", 0, 0, errors.New("malformed release key")
	}
	customer = string(k[10 : 10+n])
	expiresAt = int64(binary.BigEndian.Uint64(k[10+n:18+n]) ^ (1 << 63))
	seq = binary.BigEndian.Uint64(k[18+n:])
	return pendingUntil, customer, expiresAt, seq, nil
}

func CampaignKey(seller string, id uint64) []byte {
	return appendU64(appendStr([]byte{PrefixCampaign}, seller), id)
}
func ActiveCampaignKey(seller string, id uint64) []byte {
	return appendU64(appendStr([]byte{PrefixActiveCampaign}, seller), id)
}
func ActiveCampaignPrefix(seller string) []byte {
	return appendStr([]byte{PrefixActiveCampaign}, seller)
}

// ParseActiveCampaignKey returns the campaign id of an active-index key.
func ParseActiveCampaignKey(k []byte) (uint64, error) {
	if len(k) < 1+1+8 || k[0] != PrefixActiveCampaign || len(k) != 2+int(k[1])+8 {
		return 0, errors.New("malformed active campaign key")
	}
	return binary.BigEndian.Uint64(k[len(k)-8:]), nil
}

func TiersKey() []byte                { return []byte{PrefixTiers} }
func SpendKey(customer string) []byte { return appendStr([]byte{PrefixSpend}, customer) }

func ReferralCodeKey(code string) []byte { return appendStr([]byte{PrefixReferralCode}, code) }
func ReferralKey(referee string) []byte  { return appendStr([]byte{PrefixReferral}, referee) }

// RetentionKey indexes a per-booking record (its full state key: a
// purchase, redemption or history entry) by its booking time, so that
// pruning reads the oldest first.
func RetentionKey(bookedAt int64, recordKey []byte) []byte {
	return append(appendI64([]byte{PrefixRetention}, bookedAt), recordKey...)
}

// RetentionBound is the first retention-index key for times >= t.
func RetentionBound(t int64) []byte { return appendI64([]byte{PrefixRetention}, t) }

// ParseRetentionKey splits a retention-index key.
func ParseRetentionKey(k []byte) (bookedAt int64, recordKey []byte, err error) {
	if len(k) < 1+8+2 || k[0] != PrefixRetention {
		return 0, nil, errors.New("malformed retention key")
	}
	return int64(binary.BigEndian.Uint64(k[1:9]) ^ (1 << 63)), k[9:], nil
}

func PrunedToKey() []byte { return []byte{PrefixPrunedTo} }

// EncodeTime and DecodeTime are the 8-byte form of a time value (sign bit
// flipped, big-endian), for singletons that hold only a time.
func EncodeTime(t int64) []byte { return appendI64(nil, t) }
func DecodeTime(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, errors.New("malformed time value")
	}
	return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)), nil
}

// Import of an existing program (app/imports).
const (
	PrefixImportApproval byte = 0x84 // seller id -> ImportApproval
	PrefixImportFile     byte = 0x85 // seller id, file digest -> ImportFile
	PrefixImportTotals   byte = 0x86 // singleton: ImportsTotals
)

func ImportApprovalKey(seller string) []byte { return appendStr([]byte{PrefixImportApproval}, seller) }
func ImportApprovalPrefix() []byte           { return []byte{PrefixImportApproval} }
func ImportFileKey(seller string, digest []byte) []byte {
	return append(appendStr([]byte{PrefixImportFile}, seller), digest...)
}
func ImportFilePrefix(seller string) []byte { return appendStr([]byte{PrefixImportFile}, seller) }
func ImportTotalsKey() []byte               { return []byte{PrefixImportTotals} }
