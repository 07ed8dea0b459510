#!/usr/bin/env bash
# Stops the network started by start.sh (SIGINT, then SIGKILL after 20 s).
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=${LOCALNET_DIR:-./localnet}
if [ ! -f "$DIR/pids" ]; then
  echo "no localnet running (no $DIR/pids)"
  exit 0
fi
pids=$(cat "$DIR/pids")
kill -INT $pids 2>/dev/null || true
for _ in $(seq 1 20); do
  alive=0
  for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ $alive -eq 0 ] && break
  sleep 1
done
kill -KILL $pids 2>/dev/null || true
rm -f "$DIR/pids"
echo "localnet stopped; its homes and logs stay in $DIR"
