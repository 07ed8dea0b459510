// The Byte Points wallet (docs/wallet.md). Plain ES module, no build step.
import { decodeSignBytes, decodeCustomer, decodeLot, decodeHistoryEntry, keyOf, startsWith, PREFIX, u64be } from "./proto.js";
import { verifyAll, toHex } from "./proof.js";

const $ = (id) => document.getElementById(id);
const chainId = document.body.dataset.chainId;
const enc = new TextEncoder();

function say(state, text) { const s = $("status"); s.dataset.state = state; s.textContent = text; }

// ---- the key, in IndexedDB ----

function idb() {
  return new Promise((ok, fail) => {
    const r = indexedDB.open("bytepoints-wallet", 1);
    r.onupgradeneeded = () => r.result.createObjectStore("kv");
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
}
async function kv(mode, fn) {
  const db = await idb();
  return new Promise((ok, fail) => {
    const t = db.transaction("kv", mode), req = fn(t.objectStore("kv"));
    t.oncomplete = () => ok(req && req.result);
    t.onerror = () => fail(t.error);
  });
}
const load = (k) => kv("readonly", (s) => s.get(k));
const store = (k, v) => kv("readwrite", (s) => s.put(v, k));

// The private key is made non-extractable: the browser signs with it and
// never hands it out, not even to this page. CryptoKey objects are stored
// in IndexedDB as they are.
async function createKey() {
  const kp = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  const pub = new Uint8Array(await crypto.subtle.exportKey("raw", kp.publicKey));
  const rec = { privateKey: kp.privateKey, publicKey: kp.publicKey, pubHex: toHex(pub), created: Date.now() };
  await store("key", rec);
  return rec;
}

const sign = async (key, bytes) => new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, bytes));

const b64 = (b) => btoa(String.fromCharCode(...b));
const b64url = (b) => b64(b).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

// Proof of possession (node/gateway.PossessionBytes):
// "bytepoints/wallet-pop/v1" 0x00 chain id 0x00 public key.
function possessionBytes(pub) {
  const d = enc.encode("bytepoints/wallet-pop/v1"), c = enc.encode(chainId);
  const out = new Uint8Array(d.length + 1 + c.length + 1 + pub.length);
  out.set(d, 0); out.set(c, d.length + 1); out.set(pub, d.length + 2 + c.length);
  return out;
}

// ---- words ----

const rupees = (paise) => "₹\u00a0" + (paise / 100n).toString() + "." + (paise % 100n).toString().padStart(2, "0");
const pts = (n) => n.toString() + (n === 1n ? " point" : " points");
const when = (unix) => new Date(Number(unix) * 1000).toLocaleString("en-IN", { dateStyle: "medium", timeStyle: "short" });
const day = (unix) => new Date(Number(unix) * 1000).toLocaleDateString("en-IN", { dateStyle: "medium" });
function inWords(seconds) {
  const s = Math.round(seconds);
  if (s <= 0) return "now";
  if (s < 90) return s + " seconds";
  if (s < 5400) return Math.round(s / 60) + " minutes";
  if (s < 172800) return Math.round(s / 3600) + " hours";
  return Math.round(s / 86400) + " days";
}

async function api(path, opts) {
  const r = await fetch(path, Object.assign({ headers: { Accept: "application/json" }, cache: "no-store" }, opts));
  let body = null;
  try { body = await r.json(); } catch { /* not JSON */ }
  return { status: r.status, ok: r.ok, body };
}

// ---- the account: balance, lots, history, each checked here ----

async function showAccount(key, customer) {
  $("account").hidden = false;
  const check = $("balance-check");
  try {
    const r = await api("/v1/wallets/" + key.pubHex + "/balance");
    if (!r.ok) throw new Error(r.body ? r.body.message : "HTTP " + r.status);
    const proven = await verifyAll(r.body);
    const ck = keyOf(PREFIX.customer, customer), lp = keyOf(PREFIX.lot, customer);
    const rec = proven.find((e) => toHex(e.key) === toHex(ck));
    if (!rec) throw new Error("the answer has no proven record of your card");
    const c = decodeCustomer(rec.value);
    const lots = proven.filter((e) => startsWith(e.key, lp)).map((e) => decodeLot(e.value));
    const sum = lots.reduce((a, l) => a + l.points, 0n);
    // The record's own totals make the lot list complete (as the node's
    // query checks): a lot left out would show here.
    if (sum !== c.points || BigInt(lots.length) !== c.lotCount) throw new Error("the proven lots (" + sum + " points in " + lots.length + ") do not add up to the card's balance " + c.points);
    const mine = toHex(c.walletPubkey) === key.pubHex;
    $("balance").textContent = c.points.toString();
    $("balance").dataset.value = c.points.toString();
    const body = $("lots");
    body.replaceChildren();
    lots.sort((a, b) => (a.expiresAt < b.expiresAt ? -1 : 1));
    const now = Date.now() / 1000;
    for (const l of lots) {
      const tr = document.createElement("tr");
      tr.dataset.issuer = l.issuer; tr.dataset.points = l.points.toString(); tr.dataset.expiresAt = l.expiresAt.toString();
      for (const t of [l.points.toString(), l.issuer, day(l.expiresAt) + " (in " + inWords(Number(l.expiresAt) - now) + ")"]) {
        const td = document.createElement("td"); td.textContent = t; tr.append(td);
      }
      body.append(tr);
    }
    check.dataset.state = mine ? "ok" : "failed";
    check.dataset.proofs = String(1 + lots.length);
    check.dataset.height = String(r.body.height);
    check.textContent = (mine ? "✔ Verified in this browser: " : "✘ Your key is NOT the one bound to this card. ") + (1 + lots.length) +
      " Merkle proofs (your card's record and its " + lots.length + (lots.length === 1 ? " lot" : " lots") + ") recomputed with SHA-256 give app hash " +
      r.body.app_hash.slice(0, 8) + "…, the node's committed state at height " + r.body.height +
      ". The balance and lots above are decoded from those proven records, not from the gateway's summary. " +
      "The app hash's validator signatures are checked by the auditor's page (/audit/), not here.";
    await store("last", { customer, points: c.points.toString(), height: r.body.height });
    await showHistory(key, customer);
  } catch (e) {
    check.dataset.state = "failed";
    check.textContent = "✘ Not verified: " + e.message;
    const last = await load("last");
    if (last && last.customer === customer) $("balance").textContent = last.points + " (last verified, height " + last.height + ")";
  }
}

async function showHistory(key, customer) {
  const check = $("history-check");
  const r = await api("/v1/wallets/" + key.pubHex + "/history?limit=20");
  if (!r.ok) { check.dataset.state = "failed"; check.textContent = "✘ History unavailable: " + (r.body ? r.body.message : r.status); return; }
  try {
    const proven = await verifyAll(r.body);
    const hp = keyOf(PREFIX.history, customer);
    const entries = proven.filter((e) => startsWith(e.key, hp) && e.key.length === hp.length + 8)
      .map((e) => Object.assign(decodeHistoryEntry(e.value), { keySeq: u64be(e.key, hp.length) }))
      .sort((a, b) => (a.keySeq > b.keySeq ? -1 : 1));
    const ol = $("history");
    ol.replaceChildren();
    for (const h of entries) {
      const li = document.createElement("li");
      li.dataset.kind = h.kind; li.dataset.delta = h.pointsDelta.toString();
      const sign = h.pointsDelta > 0n ? "+" : "";
      li.textContent = when(h.time) + ": " + h.kind + " " + sign + h.pointsDelta + " at " + h.sellerId + " (balance " + h.balanceAfter + ")";
      ol.append(li);
    }
    check.dataset.state = "ok";
    check.dataset.proofs = String(entries.length);
    check.textContent = "✔ " + entries.length + (entries.length === 1 ? " history entry" : " history entries") + " verified in this browser against app hash " + r.body.app_hash.slice(0, 8) + "… (height " + r.body.height + ").";
  } catch (e) {
    check.dataset.state = "failed";
    check.textContent = "✘ History not verified: " + e.message;
  }
}

// ---- an intent: decode what is to be signed, then sign exactly it ----

async function showIntent(key, customer, id) {
  $("intent").hidden = false;
  const res = $("intent-result"), approve = $("approve"), reject = $("reject");
  const done = (state, text) => { res.dataset.state = state; res.textContent = text; approve.disabled = true; reject.disabled = true; };
  const r = await api("/v1/redemption-intents/" + encodeURIComponent(id));
  if (!r.ok) { done("refused", "✘ " + (r.body ? r.body.code_name + ": " + r.body.message : "HTTP " + r.status)); return; }
  const sb = unb64(r.body.sign_bytes);
  let b;
  try { b = decodeSignBytes(sb); } catch (e) { done("refused", "✘ Not signing: " + e.message); return; }
  const m = b.redeem;
  // Every figure shown comes from the decoded bytes; the gateway's
  // summary fields are not read.
  $("intent-seller").textContent = m.sellerId || "(the till's own shop)";
  $("intent-terminal").textContent = m.terminalId;
  $("intent-points").textContent = pts(m.points);
  $("intent-bill").textContent = rupees(m.billPaise);
  const topay = m.billPaise > m.points * 100n ? m.billPaise - m.points * 100n : 0n;
  $("intent-topay").textContent = rupees(topay);
  $("intent-customer").textContent = m.customerId.slice(0, 8) + "…";
  const left = r.body.expires_at_unix - Date.now() / 1000;
  $("intent-expiry").textContent = "signed body valid until block " + b.validUntilHeight + " (the chain is at " + r.body.height +
    "); the till's offer ends " + when(r.body.expires_at_unix) + (left > 0 ? " (in " + inWords(left) + ")" : " (passed)");
  const dataset = $("intent").dataset;
  dataset.seller = m.sellerId; dataset.terminal = m.terminalId; dataset.points = m.points.toString(); dataset.billPaise = m.billPaise.toString();
  dataset.customer = m.customerId; dataset.validUntil = b.validUntilHeight.toString(); dataset.chain = b.chainId;
  $("intent-words").textContent = "Spend " + pts(m.points) + " at " + (m.sellerId || "this shop") + " on a bill of " + rupees(m.billPaise) +
    "; you then pay " + rupees(topay) + ".";
  $("intent-source").textContent = "These figures were decoded in this browser from the exact " + sb.length +
    " bytes you are asked to sign (a protobuf TxBody with one MsgRedeem), not from the gateway's description.";
  const warn = [];
  if (b.chainId !== chainId) warn.push("it is for chain " + b.chainId + ", not " + chainId);
  if (customer && m.customerId !== customer) warn.push("it spends another card's points");
  if (warn.length) { const w = $("intent-warning"); w.hidden = false; w.textContent = "Careful: " + warn.join("; ") + "."; }
  if (r.body.status !== "open") { done("refused", "✘ This intent is " + r.body.status + ": nothing to sign."); return; }
  say("intent", "A till asks you to approve a redemption.");
  approve.onclick = async () => {
    approve.disabled = true; reject.disabled = true;
    res.dataset.state = "signing"; res.textContent = "Signing and sending…";
    const sig = await sign(key, sb);
    const a = await api("/v1/redemption-intents/" + encodeURIComponent(id) + "/signature", {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify({ signature: b64(sig) }) });
    if (a.ok) {
      const x = a.body;
      done("committed", "✔ Approved: " + pts(BigInt(x.points_redeemed)) + " redeemed at " + x.seller_id + " (" + x.authorised_by + "), balance " + x.balance + ". Transaction " + x.tx_hash.slice(0, 12) + "…");
      res.dataset.txHash = x.tx_hash;
      if (customer) showAccount(key, customer);
    } else {
      done("refused", "✘ Refused: " + (a.body ? a.body.code_name + ": " + a.body.message : "HTTP " + a.status));
      if (a.body) res.dataset.code = a.body.code_name;
    }
  };
  reject.onclick = async () => {
    const a = await api("/v1/redemption-intents/" + encodeURIComponent(id) + "/rejection", { method: "POST" });
    done("rejected", a.ok ? "Rejected: nothing was signed; the till sees it declined." : "Rejected here (the gateway said: " + (a.body ? a.body.message : a.status) + ")");
  };
}

// ---- start ----

async function bindingOf(key) {
  const r = await api("/v1/wallets/" + key.pubHex);
  if (r.ok) { await store("customer", { pubHex: key.pubHex, customer: r.body.customer_id }); return r.body.customer_id; }
  if (r.status === 404) return null;
  throw new Error(r.body ? r.body.message : "HTTP " + r.status);
}

async function showKey(key) {
  const pub = Uint8Array.from(key.pubHex.match(/../g), (x) => parseInt(x, 16));
  const pop = await sign(key, possessionBytes(pub));
  const payload = "bpwallet:1:" + key.pubHex + ":" + b64url(pop);
  $("key").hidden = false;
  $("pubkey").textContent = key.pubHex;
  $("bind-payload").textContent = payload;
  $("key").dataset.pubkey = key.pubHex;
  $("key").dataset.proof = b64(pop);
  $("qr").src = "qr.png?text=" + encodeURIComponent(payload);
}

function boundKey() {
  $("key-title").textContent = "Your wallet key (bound)";
  $("key-help").textContent = "This phone is bound to your card. To move to a new phone, bind the new one at a till with your PIN: this key then stops working.";
}

async function main() {
  $("chain").textContent = chainId;
  if (!window.crypto || !crypto.subtle || !window.indexedDB) { say("unavailable", "This browser cannot keep a wallet here: open it over HTTPS."); return; }
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js", { scope: "/wallet/" }).catch(() => {});
  let key = await load("key");
  if (!key) {
    say("setup", "No wallet key on this phone yet.");
    $("setup").hidden = false;
    await new Promise((ok) => { $("create").onclick = ok; });
    $("create").disabled = true;
    try { key = await createKey(); } catch (e) { say("unavailable", "This browser cannot make an Ed25519 key: " + e.message); return; }
    $("setup").hidden = true;
  }
  await showKey(key);
  const intent = new URLSearchParams(location.hash.slice(1)).get("intent");
  let customer = null, offline = false;
  try { customer = await bindingOf(key); } catch (e) {
    const c = await load("customer");
    if (c && c.pubHex === key.pubHex) customer = c.customer;
    offline = true;
  }
  if (intent) await showIntent(key, customer, intent);
  if (customer) {
    boundKey();
    if (offline) {
      say("offline", "Offline: the gateway cannot be reached. Showing what this phone kept; nothing can be signed until it is back.");
      const last = await load("last");
      if (last && last.customer === customer) {
        $("account").hidden = false;
        $("balance").textContent = last.points;
        $("balance-check").dataset.state = "stale";
        $("balance-check").textContent = "Last verified in this browser at height " + last.height + " (not now: offline).";
      }
      return;
    }
    if (!intent) say("bound", "Bound to your card.");
    await showAccount(key, customer);
    return;
  }
  if (offline) { say("offline", "Offline: the gateway cannot be reached."); return; }
  if (!intent) say("unbound", "Not bound yet: show the code below at a till.");
  // Wait for the till to bind the key (the gateway answers once the bind
  // is committed).
  for (;;) {
    await new Promise((ok) => setTimeout(ok, 1500));
    try { customer = await bindingOf(key); } catch { continue; }
    if (customer) { boundKey(); say("bound", "Bound to your card."); await showAccount(key, customer); return; }
  }
}

// A new intent link opened in the same tab starts the page again.
window.addEventListener("hashchange", () => location.reload());

main().catch((e) => say("failed", "The wallet stopped: " + e.message));
