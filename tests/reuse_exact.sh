#!/usr/bin/env bash
# A switch of the engine that must not change a number (issue 20, docs/performance.md): the report of a
# scenario run with the switch off and on must agree to 1e-9 relative in every number.
#   reuse (the default): /simulation/reuse off (every activity simulated) and on (identical ones replayed);
#     the counts of issued and replayed activities (simulation.transfers, executions, replayed) may differ.
#   extrapolate: /simulation/extrapolate false (the whole step simulated) and true (the step at three small
#     micro-batch counts, extrapolated); the activity counts must be equal too. When the step is not
#     extrapolated (simulation.extrapolated_from empty: too few micro-batches, or not affine), the report says
#     why and that run is the whole step, so there is nothing to compare.
# Usage: BIN SCENARIO [FIDELITY] [--key reuse|extrapolate] [--micro-batches M]
# FIDELITY (full or reduced) is passed to --fidelity; without it the scenario's own (auto) choice runs.
# --micro-batches sets global_batch_size to M x dp x micro_batch_size.
set -uo pipefail
bin=$1
scenario=$2
shift 2
fidelity="" key=reuse mb=0
while [ $# -gt 0 ]; do
  case "$1" in
  --key) key=$2; shift 2 ;;
  --micro-batches) mb=$2; shift 2 ;;
  *) fidelity=$1; shift ;;
  esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$scenario" "$tmp/off.json" "$tmp/on.json" "$key" "$mb" <<'PY' || { echo "FAIL: cannot write the $key off/on copies"; exit 1; }
import json, sys
s = json.load(open(sys.argv[1]))
key, mb = sys.argv[4], int(sys.argv[5])
if mb:
    s["name"] += f"-mb{mb}"
    s["training"]["global_batch_size"] = mb * s["parallelism"].get("dp", 1) * s["training"].get("micro_batch_size", 1)
if key == "reuse":  # whole steps: reuse is proven on every micro-batch, not on extrapolated ones
    s.setdefault("simulation", {})["extrapolate"] = False
for value, path in ((False, sys.argv[2]), (True, sys.argv[3])):
    s.setdefault("simulation", {})[key] = value
    json.dump(s, open(path, "w"), indent=2)
PY
args=(-q)
[ -n "$fidelity" ] && args+=(--fidelity "$fidelity")
"$bin" run "$tmp/on.json" --json "$tmp/on.report.json" "${args[@]}" || { echo "FAIL: $key-on run exited $?"; exit 1; }
if [ "$key" = extrapolate ] && python3 -c 'import json,sys; sys.exit(bool(json.load(open(sys.argv[1]))["simulation"]["extrapolated_from"]))' "$tmp/on.report.json"; then
  python3 -c 'import json,sys; why=json.load(open(sys.argv[1]))["simulation"]["extrapolation"]; print(sys.argv[2] + ": not extrapolated, the whole step ran: " + why)' "$tmp/on.report.json" "$(basename "$scenario")"
  exit 0
fi
"$bin" run "$tmp/off.json" --json "$tmp/off.report.json" "${args[@]}" || { echo "FAIL: $key-off run exited $?"; exit 1; }
python3 - "$tmp/off.report.json" "$tmp/on.report.json" "$(basename "$scenario")" "$key" <<'PY'
import json, math, sys
off, on = (json.load(open(p)) for p in sys.argv[1:3])
key = sys.argv[4]
counts = {"/simulation/transfers", "/simulation/executions", "/simulation/replayed"} if key == "reuse" else \
    {"/simulation/extrapolated_from", "/simulation/extrapolation"}
counts |= {f"/resolved_scenario/simulation/{key}", "/resolved_scenario/name"}
worst = [0.0, ""]
def cmp(a, b, path):
    if path in counts:
        return
    if isinstance(a, dict):
        keys = (set(a) | set(b)) - {k for k in set(a) | set(b) if f"{path}/{k}" in counts}
        for k in sorted(keys):
            if k not in a or k not in b:
                raise SystemExit(f"FAIL {sys.argv[3]}: {path}/{k} in one report only")
            cmp(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, list):
        if len(a) != len(b):
            raise SystemExit(f"FAIL {sys.argv[3]}: {path}: lengths differ")
        for i, (x, y) in enumerate(zip(a, b)):
            cmp(x, y, f"{path}/{i}")
    elif isinstance(a, float) or isinstance(b, float):
        d = abs(a - b) / max(abs(a), abs(b)) if a != b else 0.0
        if d > worst[0]:
            worst[:] = [d, path]
        # A time can be no closer than SimGrid's own timing precision (precision/timing, 1e-9 s by default):
        # the engine merges events that close, so the reference itself is known to 1e-9 s. Every other figure,
        # and every time above that, must agree to 1e-9 relative.
        is_time = path.endswith("_s") or "_s/" in path
        if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9 if is_time else 1e-12):
            raise SystemExit(f"FAIL {sys.argv[3]}: {path}: {key} off {a!r}, on {b!r} (relative {d:.3g})")
    elif a != b:
        raise SystemExit(f"FAIL {sys.argv[3]}: {path}: {key} off {a!r}, on {b!r}")
cmp(off, on, "")
s_off, s_on = off["simulation"], on["simulation"]
print(f'{sys.argv[3]}: {on["simulation"]["fidelity"]}, step {on["step_time_s"]:.9f} s, largest relative difference '
      f'{worst[0]:.3g}{" at " + worst[1] if worst[1] else ""}; {s_on["extrapolation"]}; activities off {s_off["transfers"] + s_off["executions"]}, '
      f'on {s_on["transfers"] + s_on["executions"]} issued + {s_on["replayed"]} replayed')
PY
