// Package settle owns money between sellers and the escrow: each seller's
// cumulative settlement position, the per-epoch activity that becomes a
// settlement statement when the first block after the epoch boundary closes
// it, and sellers' confirmations of their statement lines (SPEC §5.4).
//
// Sign convention: a position is what the escrow owes the seller. Issuing
// points lowers the issuer's position by their value (the seller pays the
// escrow); accepting points raises it (the escrow pays the seller). The
// escrow balance is the negated sum of all positions and always equals the
// value of the outstanding points (SPEC §5.5).
package settle
