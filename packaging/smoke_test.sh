#!/usr/bin/env bash
# Air-gapped smoke test of the built bundle (dist/scythe/scythe by default).
#
# Runs the binary inside a fresh network namespace whose only interface is loopback (`unshare -n`, or
# `unshare -rn` when not root) under `strace -f -e trace=connect`, and checks that it
#   1. prints its version, and runs `-m MODULE` the way the app's helper processes call it;
#   2. renders the embedded world (shipped PPO policy proposing) to a non-blank PNG under Xvfb (Mesa llvmpipe);
#   3. serves scythe.v1 (`scythe serve`) and a client records its stream over loopback (`scythe record`),
#      and the recording checks out (`scythe recording check`);
#   4. trains (the batched ObserverVecEnv, two worlds) and evaluates the policy it trained (inference); the field
#      build (no torch: `scythe --version` says so) instead refuses to train in one line and evaluates the
#      shipped network and brain on numpy;
#   5. never connect()s anywhere but loopback or a unix socket (every connect() in the strace log);
#   6. ships the product only: the module list (dist/package-modules.txt) holds no reliability harness, test
#      oracle or dev tool (packaging/check_modules.py).
# Usage: packaging/smoke_test.sh [BINARY]   (needs unshare, ip, strace, xvfb-run; the PNG check uses .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$(realpath "${1:-dist/scythe/scythe}")
PY=${PY:-$ROOT/.venv/bin/python}

if [ "${SCYTHE_SMOKE_INNER:-}" != 1 ]; then
  for tool in unshare ip strace xvfb-run; do
    command -v "$tool" >/dev/null || { echo "smoke test: '$tool' is missing (scripts/ensure-system-deps.sh)" >&2; exit 2; }
  done
  [ -x "$BIN" ] || { echo "smoke test: no binary at $BIN (run make package)" >&2; exit 2; }
  VARIANT=full
  "$BIN" --version | grep -q "field build" && VARIANT=field
  field_flag=()
  [ "$VARIANT" = field ] && field_flag=(--field)
  "$PY" "$ROOT/packaging/check_modules.py" "${field_flag[@]}" "$(dirname "$(dirname "$BIN")")/package-modules.txt"
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/scythe-smoke.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  ns=(unshare -n)
  [ "$(id -u)" -eq 0 ] || ns=(unshare -rn)
  echo "smoke test: $BIN ($VARIANT build) in an isolated network namespace (work dir $WORK)"
  SCYTHE_SMOKE_INNER=1 WORK="$WORK" VARIANT="$VARIANT" "${ns[@]}" "$0" "$BIN"
  # Every connect() the binary (and its children, and Xvfb) made: unix sockets, netlink or loopback only.
  "$PY" - "$WORK/connect.log" <<'PYEOF'
import re, sys
calls = [l for l in open(sys.argv[1]) if "connect(" in l]
allowed = re.compile(
    r"sa_family=AF_(UNIX|LOCAL|NETLINK)"
    r"|inet_addr\(\"127\.\d+\.\d+\.\d+\"\)"
    r"|inet_pton\(AF_INET6, \"::1\"|inet_pton\(AF_INET6, \"::ffff:127\.\d+\.\d+\.\d+\""
)
outside = [l.strip() for l in calls if not allowed.search(l)]
loopback = [l for l in calls if "127.0.0.1" in l or '"::1"' in l]
print(f"smoke test: {len(calls)} connect() calls, {len(loopback)} to loopback, {len(outside)} elsewhere")
if outside:
    print("smoke test: FAILED, connections outside loopback:\n  " + "\n  ".join(outside[:20]), file=sys.stderr)
    sys.exit(1)
if not loopback:
    print("smoke test: FAILED, no loopback connection seen (is strace tracing the client?)", file=sys.stderr)
    sys.exit(1)
PYEOF
  # Non-blank globe: the canvas in the middle of the window must show the globe, borders and swarm. A console
  # without working GL still draws its docks, but leaves the canvas one flat colour, so only the canvas counts.
  QT_QPA_PLATFORM=offscreen "$PY" packaging/check_screenshot.py "$WORK/shot.png"
  echo "smoke test: PASSED"
  exit 0
fi

# ---- inside the namespace ----------------------------------------------------------------------------------
ip link set lo up
ifaces=$(ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')
[ "$ifaces" = "lo " ] || { echo "smoke test: expected only loopback, found: $ifaces" >&2; exit 1; }
if ip route get 1.1.1.1 >/dev/null 2>&1; then echo "smoke test: a route to the outside exists" >&2; exit 1; fi

# Writable caches (Qt shader cache, Mesa, SB3 temp dirs), nothing from the invoking user's home.
export HOME=$WORK/home XDG_CACHE_HOME=$WORK/cache XDG_CONFIG_HOME=$WORK/config TMPDIR=$WORK/tmp
mkdir -p "$HOME" "$XDG_CACHE_HOME" "$XDG_CONFIG_HOME" "$TMPDIR"
cd "$WORK"

exec strace -f -qq -e trace=connect -o "$WORK/connect.log" bash -euo pipefail -c '
BIN=$1
step() { echo "smoke test: $*"; }

step "--version"
"$BIN" --version | tee version.txt
grep -q "^scythe [0-9]" version.txt
"$BIN" -m scythe_desktop --version | grep -q "^scythe [0-9]"

step "--screenshot of the embedded world under Xvfb"
timeout 300 xvfb-run -a -s "-screen 0 1920x1200x24" "$BIN" --screenshot shot.png --frames 5
test -s shot.png

step "serve + a client over loopback (record its stream, check the recording)"
"$BIN" serve --scenario tutorial --port 0 --state state > serve.log 2>&1 &
serve_pid=$!
for _ in $(seq 600); do grep -q "^serving" serve.log && break; kill -0 $serve_pid; sleep 0.1; done
target=$(sed -n "s/^serving .* on \([^;]*\);.*/\1/p" serve.log)
case $target in 127.0.0.1:*) ;; *) echo "no loopback target in: $(cat serve.log)" >&2; exit 1;; esac
timeout 120 "$BIN" record --source "grpc://$target" --token-file state/viewer.token --out live.mcap --duration 3s
kill -TERM $serve_pid; wait $serve_pid
timeout 60 "$BIN" recording check live.mcap --json | tee check.json
grep -q "\"messages\": [1-9]" check.json

if [ "$VARIANT" = field ]; then
  step "field build: train refuses in one line; the shipped network and brain infer on numpy"
  if "$BIN" train --scenario tutorial --timesteps 64 --out train 2> train.err; then
    echo "the field build trained" >&2; exit 1
  fi
  grep -q "this build has no torch" train.err
  [ "$(wc -l < train.err)" -eq 1 ]
  timeout 600 "$BIN" evaluate --policy ppo,brain --seeds 1000 --ticks 10 --equal-spend none --no-progress
else
  step "train (batched env, 2 worlds) and evaluate the trained policy"
  timeout 600 "$BIN" train --scenario tutorial --timesteps 1024 --envs 2 --checkpoint-every 1024 --out train --no-progress
  timeout 300 "$BIN" evaluate --policy ppo,greedy --model train/policy.pt --scenario tutorial --seeds 1000 --ticks 20 --no-progress
fi
' smoke "$BIN"
