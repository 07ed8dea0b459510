// The wallet's service worker: keeps the app shell so the wallet opens
// without a network (its key and the last figures are in IndexedDB).
// Network first, the cache when the network fails; the API (/v1/) is
// never cached: balances and intents are only ever the node's answer.
const CACHE = "bytepoints-wallet-__VERSION__";
const SHELL = ["./", "index.html", "app.js", "proto.js", "proof.js", "style.css", "manifest.webmanifest", "icon.svg"];

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n.startsWith("bytepoints-wallet-") && n !== CACHE).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== location.origin || !url.pathname.startsWith("/wallet/") || url.pathname === "/wallet/qr.png") return;
  e.respondWith(fetch(e.request).then((resp) => {
    if (resp.ok) { const copy = resp.clone(); caches.open(CACHE).then((c) => c.put(e.request, copy)); }
    return resp;
  }).catch(() => caches.match(e.request, { ignoreSearch: true }).then((hit) => hit || caches.match("index.html"))));
});
