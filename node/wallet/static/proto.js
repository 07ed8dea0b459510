// A small protobuf reader for the few messages the wallet decodes itself:
// the TxBody of a redemption it is asked to sign, and the state records
// (Customer, Lot, HistoryEntry) whose Merkle proofs it checks. Field
// numbers are proto/bytepoints/v1/{tx,state}.proto's. Integers are BigInt:
// no figure is ever rounded by a float.

const utf8 = new TextDecoder("utf-8", { fatal: true });

// fields reads one message into {number: [values]}: varints as BigInt,
// length-delimited fields as Uint8Array. Anything else (groups, fixed
// 32/64-bit fields, which none of these messages has) is refused.
export function fields(buf) {
  const out = {};
  let i = 0;
  const varint = () => {
    let v = 0n, shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error("truncated varint");
      const b = buf[i++];
      v |= BigInt(b & 127) << shift;
      if (!(b & 128)) break;
      shift += 7n;
      if (shift > 63n) throw new Error("varint too long");
    }
    return v;
  };
  while (i < buf.length) {
    const tag = varint(), num = Number(tag >> 3n), wire = Number(tag & 7n);
    if (num === 0) throw new Error("field number 0");
    let v;
    if (wire === 0) v = varint();
    else if (wire === 2) {
      const n = Number(varint());
      if (i + n > buf.length) throw new Error("truncated field " + num);
      v = buf.subarray(i, i + n);
      i += n;
    } else throw new Error("unexpected wire type " + wire + " for field " + num);
    (out[num] ||= []).push(v);
  }
  return out;
}

const one = (f, n) => (f[n] ? f[n][f[n].length - 1] : undefined);
export const str = (f, n) => { const v = one(f, n); return v === undefined ? "" : utf8.decode(v); };
export const bytes = (f, n) => one(f, n) || new Uint8Array(0);
export const u64 = (f, n) => { const v = one(f, n); return v === undefined ? 0n : v; };
// int64: the varint is the two's complement of 64 bits.
export const i64 = (f, n) => BigInt.asIntN(64, u64(f, n));
export const bool = (f, n) => u64(f, n) !== 0n;

export const SIGN_DOMAIN = "bytepoints/tx/v1";

// TxBody field numbers (tx.proto): the only message a wallet signs is
// redeem (11); any other is refused before anything is shown.
const BODY = { chain_id: 1, signer: 2, idempotency_key: 3, valid_until_height: 4, memo: 5, redeem: 11 };
const MSGS = { 10: "purchase", 11: "redeem", 12: "refund", 13: "void_redemption", 14: "register_terminal", 15: "revoke_terminal",
  16: "confirm_settlement", 17: "propose", 18: "vote", 19: "bind_wallet", 20: "set_seller_config" };

// decodeSignBytes splits "bytepoints/tx/v1" 0x00 | TxBody and decodes the
// body of a redemption. It throws on anything else.
export function decodeSignBytes(sb) {
  const dom = new TextEncoder().encode(SIGN_DOMAIN);
  if (sb.length <= dom.length || sb[dom.length] !== 0 || !dom.every((b, k) => sb[k] === b))
    throw new Error("not Byte Points transaction sign bytes");
  const f = fields(sb.subarray(dom.length + 1));
  const msgs = Object.keys(f).map(Number).filter((n) => n >= 10);
  if (msgs.length !== 1 || f[msgs[0]].length !== 1) throw new Error("the body must carry exactly one message");
  if (msgs[0] !== BODY.redeem) throw new Error("this is a " + (MSGS[msgs[0]] || "message " + msgs[0]) + ", not a redemption: the wallet signs only redemptions");
  for (const n of Object.keys(f).map(Number)) if (n < 10 && !Object.values(BODY).includes(n)) throw new Error("unknown body field " + n);
  const m = fields(one(f, BODY.redeem));
  for (const n of Object.keys(m).map(Number)) if (n > 7) throw new Error("unknown redeem field " + n);
  return {
    chainId: str(f, 1), signer: bytes(f, 2), idempotencyKey: str(f, 3), validUntilHeight: u64(f, 4), memo: str(f, 5),
    redeem: {
      sellerId: str(m, 1), terminalId: str(m, 2), customerId: str(m, 3), points: u64(m, 4), billPaise: u64(m, 5),
      contextNano: i64(m, 6), flow: m[7] ? fields(one(m, 7)) : null,
    },
  };
}

// State records (state.proto).
export function decodeCustomer(v) {
  const f = fields(v);
  return { customerId: str(f, 1), points: u64(f, 2), lotCount: u64(f, 3), historyCount: u64(f, 5), walletPubkey: bytes(f, 6),
    earnedTotal: u64(f, 7), redeemedTotal: u64(f, 8) };
}

export function decodeLot(v) {
  const f = fields(v);
  return { seq: u64(f, 1), issuer: str(f, 2), points: u64(f, 3), originalPoints: u64(f, 4), issuedAt: i64(f, 5), expiresAt: i64(f, 6),
    purchaseId: bytes(f, 7) };
}

export const HISTORY_KINDS = { 1: "earned", 2: "redeemed", 3: "refunded", 4: "redemption voided", 5: "expired" };

export function decodeHistoryEntry(v) {
  const f = fields(v);
  return { seq: u64(f, 1), kind: HISTORY_KINDS[Number(u64(f, 2))] || "other", pointsDelta: i64(f, 3), sellerId: str(f, 4),
    txId: bytes(f, 5), height: i64(f, 6), time: i64(f, 7), balanceAfter: u64(f, 8) };
}

// Store keys (types/keys.go): one-byte prefix, length-prefixed strings,
// big-endian integers.
export const PREFIX = { customer: 0x20, lot: 0x21, history: 0x23 };

export function keyOf(prefix, id) {
  const s = new TextEncoder().encode(id);
  if (s.length > 255) throw new Error("id too long");
  const k = new Uint8Array(2 + s.length);
  k[0] = prefix; k[1] = s.length; k.set(s, 2);
  return k;
}

export const startsWith = (b, p) => b.length >= p.length && p.every((x, k) => b[k] === x);

// u64be reads the big-endian integer at off (a history key's sequence).
export function u64be(b, off) {
  let v = 0n;
  for (let k = 0; k < 8; k++) v = (v << 8n) | BigInt(b[off + k]);
  return v;
}
