// Checks a proven state entry's Merkle proof against an app hash, in the
// browser, with WebCrypto SHA-256 (the format of app/store/proof.go, the
// same algorithm as the auditor's page's verify.js):
//   leaf = SHA-256(0x00 | SHA-256(key) | SHA-256(value));
//   each level, from the leaf up, node = SHA-256(0x01 | occupancy (uint16 BE)
//   | the occupied slots' hashes in slot order); the top one is the app hash.

export const fromHex = (h) => {
  if (h.length % 2 || /[^0-9a-f]/i.test(h)) throw new Error("bad hex");
  return Uint8Array.from((h.match(/../g) || []).map((x) => parseInt(x, 16)));
};
export const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

async function sha(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0), buf = new Uint8Array(n);
  let at = 0;
  for (const p of parts) { buf.set(p, at); at += p.length; }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}

const nibble = (h, d) => (d % 2 === 0 ? h[d >> 1] >> 4 : h[d >> 1] & 15);
const ones = (x) => { let c = 0; for (; x; x &= x - 1) c++; return c; };

// verifyPresent checks that key holds value under appHash (hex). It throws
// with the reason when it does not.
export async function verifyPresent(key, value, p, appHash) {
  const kh = await sha(key), vh = await sha(value);
  if (p.length < 3 || p[0] !== 1 || p[1] === 0 || p[1] > 64) throw new Error("malformed proof");
  const n = p[1], levels = [];
  let at = 2;
  for (let i = 0; i < n; i++) {
    if (at + 2 > p.length) throw new Error("truncated proof");
    const occ = (p[at] << 8) | p[at + 1];
    if (!((occ >> nibble(kh, i)) & 1)) throw new Error("the path leaves the trie at level " + i);
    const c = ones(occ) - 1;
    levels.push({ occ, sib: p.slice(at + 2, at + 2 + 32 * c) });
    at += 2 + 32 * c;
  }
  if (p[at] !== 1 || p.length !== at + 65) throw new Error("the proof does not end in a leaf");
  if (toHex(p.slice(at + 1, at + 33)) !== toHex(kh) || toHex(p.slice(at + 33, at + 65)) !== toHex(vh))
    throw new Error("the proven leaf holds another key or value");
  let h = await sha(Uint8Array.of(0), kh, vh);
  for (let d = n - 1; d >= 0; d--) {
    const { occ, sib } = levels[d], parts = [Uint8Array.of(1, occ >> 8, occ & 255)];
    let s = 0;
    for (let slot = 0; slot < 16; slot++) {
      if (!((occ >> slot) & 1)) continue;
      if (slot === nibble(kh, d)) parts.push(h);
      else { parts.push(sib.slice(32 * s, 32 * s + 32)); s++; }
    }
    h = await sha(...parts);
  }
  if (toHex(h) !== appHash.toLowerCase()) throw new Error("the proof gives root " + toHex(h).slice(0, 16) + "…, not the app hash");
}

// verifyAll checks every present entry of a proven answer and returns
// them decoded from hex: [{key, value}]. Absent entries are skipped (the
// wallet draws no figure from an absence).
export async function verifyAll(answer) {
  const out = [];
  for (const e of answer.entries) {
    if (!e.exists) continue;
    const key = fromHex(e.key), value = fromHex(e.value);
    await verifyPresent(key, value, fromHex(e.proof), answer.app_hash);
    out.push({ key, value });
  }
  return out;
}
