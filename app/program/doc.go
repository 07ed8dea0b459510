// Package program owns what sellers offer beyond their earn rate (SPEC
// §5.7-5.10): each seller's program settings (redemption rules, return
// window) and its campaigns, with their records, the rules that read them
// and the campaign match a purchase asks for. It books no points itself:
// package ledger issues every bonus as a lot of the seller whose campaign
// produced it and charges that seller's position, so conservation (SPEC
// §5.5) holds unchanged.
package program
