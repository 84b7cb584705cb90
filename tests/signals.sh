#!/usr/bin/env bash
# Orphans: SIGTERM, SIGINT or SIGKILL to the pid of `trainsim run` or `trainsim sweep` must not leave its
# forked simulation processes (run) or its workers and their simulations (sweep) running under init.
# Usage: signals.sh /path/to/trainsim. For each command and signal: start it, wait until its forked
# descendants are simulating, signal the command's own pid, and one second later find no process of it left.
# Every process of a case carries the unique work-directory path in its command line (fork keeps argv), so
# `pgrep -f` on that path finds exactly the processes of this test.
set -u
set -m # background jobs keep SIGINT (without job control, bash starts them with SIGINT ignored)

bin=${1:?usage: $0 /path/to/trainsim}
[ -x "$bin" ] || { echo "not an executable: $bin" >&2; exit 2; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/trainsim_signals.XXXXXX")
cleanup() {
  for p in $(pgrep -f -- "$work/" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

# A scenario whose simulation takes well over the few seconds a case needs (1024 accelerators, full fidelity).
base=$(cd "$here/../scenarios" && pwd)/gpt3-175b-1024xA800-sichuan.json
# A slow simulation: the whole step (steady-state extrapolation would make it quick), every replica and rail
# (the reduced simulation with reuse of identical activities takes 0.1 s here), about 8 s on one core.
python3 - "$base" "$work/slow.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["name"] = "signals"
s.setdefault("simulation", {}).update({"extrapolate": False, "fidelity": "full", "reuse": False})
json.dump(s, open(sys.argv[2], "w"), indent=1)
PY
cat >"$work/slow.sweep.json" <<JSON
{"base": "$work/slow.json", "axes": {"/training/global_batch_size": [1536, 3072, 6144, 12288]}}
JSON

failed=0
descendants() { # all descendants of pid $1, one per line
  local c
  for c in $(pgrep -P "$1" 2>/dev/null); do
    echo "$c"
    descendants "$c"
  done
}

# case NAME SIGNAL DEPTH ARGS...: DEPTH is how deep the descendants must reach before the signal
# (run: its simulation child, 1; sweep: a worker's simulation child, 2).
one_case() {
  local name=$1 sig=$2 depth=$3
  shift 3
  local pid deadline kids left d
  (cd "$work" && exec "$bin" "$@" >/dev/null 2>"$work/$name.err") &
  pid=$!
  deadline=$((SECONDS + 60))
  while :; do
    d=0
    for k in $(pgrep -P "$pid"); do
      d=1
      [ -n "$(pgrep -P "$k")" ] && d=2
    done
    [ "$d" -ge "$depth" ] && break
    if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      echo "FAIL $name: no forked process to depth $depth appeared ($(head -c 300 "$work/$name.err"))"
      failed=$((failed + 1))
      kill -KILL "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
      return
    fi
    sleep 0.2
  done
  sleep 0.5 # let the simulation start in earnest
  kids=$(descendants "$pid" | tr '\n' ' ')
  kill "-$sig" "$pid"
  wait "$pid" 2>/dev/null
  sleep 1
  left=$(pgrep -f -- "$work/" | tr '\n' ' ')
  if [ -n "$left" ]; then
    echo "FAIL $name: SIG$sig to $pid left processes running: $left (descendants before: $kids)"
    failed=$((failed + 1))
    for p in $left; do kill -KILL "$p" 2>/dev/null; done
  else
    echo "PASS $name (SIG$sig to $pid; descendants $kids gone)"
  fi
}

for sig in TERM INT KILL; do
  one_case "run-$sig" "$sig" 1 run "$work/slow.json" -q --fidelity full
  rm -f "$work"/*.jsonl "$work"/*.csv "$work"/*.meta.json "$work"/*.lock
  one_case "sweep-$sig" "$sig" 2 sweep "$work/slow.sweep.json" -j 2 -q --out "$work/res"
done
# Two sweeps on one --out: the second finds the first's lock (PREFIX.lock) and exits 2 at once, naming it.
rm -f "$work"/res.*
(cd "$work" && exec "$bin" sweep "$work/slow.sweep.json" -j 1 -q --out "$work/res" >/dev/null 2>&1) &
first=$!
for _ in $(seq 300); do [ -e "$work/res.lock" ] && break; sleep 0.1; done
(cd "$work" && timeout 60 "$bin" sweep "$work/slow.sweep.json" -j 1 -q --out "$work/res" >/dev/null 2>"$work/second.err")
rc=$?
if [ "$rc" -eq 2 ] && grep -q "another trainsim is writing there" "$work/second.err" && kill -0 "$first" 2>/dev/null; then
  echo "PASS sweep-same-out-locked (second sweep: exit 2, $(head -c 200 "$work/second.err"))"
else
  echo "FAIL sweep-same-out-locked: second sweep exit $rc, stderr: $(head -c 300 "$work/second.err")"
  failed=$((failed + 1))
fi
kill -KILL "$first" 2>/dev/null
wait "$first" 2>/dev/null

echo "$failed failed"
[ "$failed" -eq 0 ]
