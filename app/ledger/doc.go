// Package ledger owns points: customers' balances and lots, and the five
// ways they move (SPEC §5): issue on a purchase, redeem earliest-expiry
// first, claw back on a refund, restore on a voided redemption, and expire
// (breakage back to the issuer). Each movement also moves money through
// package settle, so points and paise stay in step (SPEC §5.5).
package ledger
