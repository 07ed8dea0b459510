// Package imports books a seller's existing loyalty program into the ledger
// (SPEC §5.6): MsgImportBalances turns rows of a file into lots issued by
// the seller, marked imported, against an allowance members approved
// (package approval). The seller pays 100 paise per point into the escrow,
// exactly as for issuance, so the conservation laws hold unchanged; an
// import creates no purchase, no payment flow and no CRMS history, and
// does not count against the epoch issuance cap. Rows of one file (by its
// SHA-256) book at most once, whatever the batch boundaries.
//
// It owns the per-file records (key prefix 0x85), the /imports queries and
// the invariant that the approvals, files and lots agree.
package imports
