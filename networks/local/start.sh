#!/usr/bin/env bash
# Starts a 4-seller Byte Points network on this machine as separate
# processes (distinct loopback addresses 127.0.0.1-4, libp2p/QUIC by
# default; P2P=tcp for CometBFT's TCP transport). Waits until blocks commit,
# then prints every node's addresses and where its log is.
#   make localnet            start (fresh network each time)
#   make localnet-stop       stop it
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-./build/bytepointsd}
DIR=${LOCALNET_DIR:-./localnet}
N=${VALIDATORS:-4}
P2P=${P2P:-libp2p}

if [ -f "$DIR/pids" ] && kill -0 $(cat "$DIR/pids") 2>/dev/null; then
  echo "a localnet is already running (pids in $DIR/pids); run make localnet-stop first" >&2
  exit 1
fi
rm -rf "$DIR"
"$BIN" testnet --validators "$N" --dir "$DIR" --p2p "$P2P" --distinct-ips --timeout-commit 1s >/dev/null
: > "$DIR/pids"
for home in "$DIR"/seller-*; do
  "$BIN" start --home "$home" >"$home/node.log" 2>&1 &
  echo $! >> "$DIR/pids"
done

rpc0=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["homes"][0]["rpc"])' "$DIR/network.json" 2>/dev/null || echo http://127.0.0.1:26657)
printf 'waiting for blocks'
for _ in $(seq 1 60); do
  h=$(curl -s "$rpc0/status" | sed -n 's/.*"latest_block_height":"\([0-9]*\)".*/\1/p')
  if [ -n "${h:-}" ] && [ "$h" -ge 2 ]; then
    echo " - height $h"
    break
  fi
  printf '.'
  sleep 1
done
if [ -z "${h:-}" ] || [ "$h" -lt 2 ]; then
  echo; echo "no blocks after 60 s; see the logs in $DIR/seller-*/node.log" >&2
  exit 1
fi
echo
printf '%-10s %-26s %-26s %s\n' SELLER RPC GATEWAY LOG
python3 - "$DIR/network.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for h in m["homes"]:
    print(f'{h["seller_id"]:<10} {h["rpc"]:<26} {h["gateway"]:<26} {h["home"]}/node.log')
PY
echo
echo "gateway tokens: $DIR/<seller>/config/gateway.token"
echo "try: $BIN tx purchase --home $DIR/seller-0 --customer C --amount 100.00"
echo "stop: make localnet-stop"
