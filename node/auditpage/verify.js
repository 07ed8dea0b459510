// Checks the Merkle proof of /totals in the browser (format: app/store/proof.go):
// leaf = SHA-256(0x00 | SHA-256(key) | SHA-256(value)); each level, from the
// leaf up, node = SHA-256(0x01 | occupancy (uint16 BE) | the occupied slots'
// hashes in slot order); the top one must be the app hash. Then it decodes the
// proven Totals record and compares it with the figures the page shows.
(async () => {
  const el = document.getElementById("browser-check");
  if (!el) return;
  const say = (state, text) => { el.dataset.state = state; el.textContent = text; };
  if (!window.crypto || !crypto.subtle) {
    say("unavailable", "Not checked in your browser: WebCrypto needs HTTPS or a loopback address.");
    return;
  }
  const bytes = (h) => Uint8Array.from((h.match(/../g) || []).map((x) => parseInt(x, 16)));
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const sha = async (...parts) => {
    const n = parts.reduce((a, p) => a + p.length, 0), buf = new Uint8Array(n);
    let at = 0;
    for (const p of parts) { buf.set(p, at); at += p.length; }
    return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
  };
  const nibble = (h, d) => (d % 2 === 0 ? h[d >> 1] >> 4 : h[d >> 1] & 15);
  const ones = (x) => { let c = 0; for (; x; x &= x - 1) c++; return c; };
  try {
    const key = bytes(el.dataset.key), value = bytes(el.dataset.value), p = bytes(el.dataset.proof);
    const appHash = el.dataset.appHash.toLowerCase();
    const kh = await sha(key), vh = await sha(value);
    if (p.length < 3 || p[0] !== 1 || p[1] === 0 || p[1] > 64) throw new Error("malformed proof");
    const n = p[1], levels = [];
    let at = 2;
    for (let i = 0; i < n; i++) {
      const occ = (p[at] << 8) | p[at + 1], on = (occ >> nibble(kh, i)) & 1;
      if (!on) throw new Error("the path leaves the trie at level " + i);
      const c = ones(occ) - 1;
      levels.push({ occ, sib: p.slice(at + 2, at + 2 + 32 * c) });
      at += 2 + 32 * c;
    }
    if (p[at] !== 1 || p.length !== at + 65) throw new Error("the proof does not end in a leaf");
    if (hex(p.slice(at + 1, at + 33)) !== hex(kh) || hex(p.slice(at + 33, at + 65)) !== hex(vh))
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
    if (hex(h) !== appHash) throw new Error("the proof gives root " + hex(h) + ", not the app hash");
    // Totals is protobuf of varints: field 1 outstanding_points, 2 escrow_paise.
    const fields = {};
    for (let i = 0; i < value.length; ) {
      let tag = 0n, shift = 0n, b;
      do { b = value[i++]; tag |= BigInt(b & 127) << shift; shift += 7n; } while (b & 128);
      if ((tag & 7n) !== 0n) throw new Error("unexpected field type in Totals");
      let v = 0n; shift = 0n;
      do { b = value[i++]; v |= BigInt(b & 127) << shift; shift += 7n; } while (b & 128);
      fields[Number(tag >> 3n)] = v;
    }
    const shown = (id) => BigInt(document.querySelector('[data-testid="' + id + '"]').dataset.value);
    const outstanding = fields[1] || 0n, escrow = fields[2] || 0n;
    if (outstanding !== shown("totals-outstanding-points") || escrow !== shown("totals-escrow"))
      throw new Error("the proven record says " + outstanding + " points and " + escrow + " paise, not what the page shows");
    const rupees = (escrow / 100n) + "." + String(escrow % 100n).padStart(2, "0");
    say("ok", "✔ Verified in your browser: the Merkle proof of /totals (" + outstanding + " points outstanding, escrow ₹ " +
      rupees + ") recomputed with SHA-256 gives app hash " + appHash.slice(0, 8) + "…" + appHash.slice(-8) +
      ". That app hash's signatures were checked by the node.");
  } catch (e) {
    say("failed", "✘ Browser check FAILED: " + e.message);
  }
})();
