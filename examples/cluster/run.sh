#!/usr/bin/env bash
# Three checkups instances of one cluster on this machine, one after the other, each once the
# previous one is ready; stops all three on Ctrl-C or when killed. From the project root:
#   bash examples/cluster/run.sh
# Needs a Redis; STORE=redis://HOST:PORT/DB overrides the config file's server.store.
# Instance N serves gRPC on 127.0.0.1:78N0 and HTTP on 127.0.0.1:78N1.
set -euo pipefail
cd "$(dirname "$0")/../.."
config=examples/cluster/checkups.yaml
store=(${STORE:+--store "$STORE"})
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait' EXIT
trap 'exit 0' INT TERM

ready() {
  for _ in $(seq 300); do
    curl -sf "http://$1/readyz" >/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "instance $3 exited" >&2; return 1; }
    sleep 0.1
  done
  echo "instance $3 not ready on $1" >&2
  return 1
}

# The CLI `npx checkups` runs, started directly so that stopping this script stops it too.
checkups=(node dist/src/cli/main.js)
[ -f dist/src/cli/main.js ] || { echo 'dist/ is missing: run npm ci (it builds) first' >&2; exit 1; }

for n in 1 2 3; do
  "${checkups[@]}" serve --config "$config" "${store[@]}" --instance-id "node$n" \
    --grpc-listen "127.0.0.1:78${n}0" --http-listen "127.0.0.1:78${n}1" --log-level warn &
  pids+=($!)
  ready "127.0.0.1:78${n}1" "$!" "node$n"
  echo "node$n ready: gRPC 127.0.0.1:78${n}0, HTTP 127.0.0.1:78${n}1"
done
wait
