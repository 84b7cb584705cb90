#!/usr/bin/env bash
# Reuse of identical activities is exact (issue 20, docs/performance.md): the report of a scenario run with
# /simulation/reuse off (every activity simulated) and on (identical ones replayed) must agree to 1e-9
# relative in every number, except the counts of issued and replayed activities (simulation.transfers,
# simulation.executions, simulation.replayed). Usage: BIN SCENARIO [FIDELITY]
# FIDELITY (full or reduced) is passed to --fidelity; without it the scenario's own (auto) choice runs.
set -uo pipefail
bin=$1
scenario=$2
fidelity=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$scenario" "$tmp/off.json" "$tmp/on.json" <<'PY' || { echo "FAIL: cannot write the reuse-off/on copies"; exit 1; }
import json, sys
s = json.load(open(sys.argv[1]))
for value, path in ((False, sys.argv[2]), (True, sys.argv[3])):
    s.setdefault("simulation", {})["reuse"] = value
    json.dump(s, open(path, "w"), indent=2)
PY
args=(-q)
[ -n "$fidelity" ] && args+=(--fidelity "$fidelity")
"$bin" run "$tmp/on.json" --json "$tmp/on.report.json" "${args[@]}" || { echo "FAIL: reuse-on run exited $?"; exit 1; }
"$bin" run "$tmp/off.json" --json "$tmp/off.report.json" "${args[@]}" || { echo "FAIL: reuse-off run exited $?"; exit 1; }
python3 - "$tmp/off.report.json" "$tmp/on.report.json" "$(basename "$scenario")" <<'PY'
import json, math, sys
off, on = (json.load(open(p)) for p in sys.argv[1:3])
counts = {"/simulation/transfers", "/simulation/executions", "/simulation/replayed", "/resolved_scenario/simulation/reuse",
          "/resolved_scenario/name"}
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
            raise SystemExit(f"FAIL {sys.argv[3]}: {path}: reuse off {a!r}, on {b!r} (relative {d:.3g})")
    elif a != b:
        raise SystemExit(f"FAIL {sys.argv[3]}: {path}: reuse off {a!r}, on {b!r}")
cmp(off, on, "")
s_off, s_on = off["simulation"], on["simulation"]
print(f'{sys.argv[3]}: {on["simulation"]["fidelity"]}, step {on["step_time_s"]:.9f} s, largest relative difference '
      f'{worst[0]:.3g}{" at " + worst[1] if worst[1] else ""}; activities off {s_off["transfers"] + s_off["executions"]}, '
      f'on {s_on["transfers"] + s_on["executions"]} issued + {s_on["replayed"]} replayed')
PY
