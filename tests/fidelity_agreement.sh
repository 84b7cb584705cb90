#!/usr/bin/env bash
# Full versus reduced fidelity (issue 5): the symmetry-reduced simulation must give the step time of the
# full one (every replica, every rank's transfers, every rail) within 1%. Usage: BIN SCENARIO [MAX [REPORT]]
# Scenarios with more than MAX (default 2048) accelerators are skipped: full fidelity is the reference
# only where it still runs in reasonable time. REPORT: this scenario's report at its own fidelity, already
# simulated by the ctest fixture report_NAME (tests/scenario_report.sh); it serves as the full or the
# reduced run, whichever it is, and only the other one is simulated here.
set -uo pipefail
bin=$1
scenario=$2
max=${3:-2048}
report=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
read -r n replicas < <("$bin" validate "$scenario" --dump | python3 -c "
import json, sys; d = json.load(sys.stdin); c = d['cluster']; p = d['parallelism']
print(c['nodes'] * c['accelerators_per_node'], p['dp'] * p.get('cp', 1))") || { echo "FAIL: validate"; exit 1; }
[ -n "${n:-}" ] || { echo "FAIL: validate"; exit 1; }
if [ "$n" -gt "$max" ]; then
  echo "skipped: $n accelerators > $max"; exit 0
fi
# One data-parallel replica above 256 accelerators (Korthikanti et al.'s dp-1 benchmarks): there is no
# replica to reduce; full and reduced differ only in the tensor-parallel peers' flows, which the 8- and
# 64-GPU cases of the same runs check, while the full run of a 35- or 64-stage pipeline costs minutes.
if [ "$replicas" -eq 1 ] && [ "$n" -gt 256 ]; then
  echo "skipped: one data-parallel replica on $n accelerators (nothing to reduce but tensor-parallel peers)"; exit 0
fi
shared=""
if [ -n "$report" ]; then
  [ -s "$report" ] || { echo "FAIL: no report $report (fixture report_$(basename "$scenario" .json))"; exit 1; }
  shared=$(python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['simulation']['fidelity'])" "$report") ||
    { echo "FAIL: $report has no /simulation/fidelity"; exit 1; }
fi
for fid in full reduced; do
  if [ "$shared" = "$fid" ]; then
    cp "$report" "$tmp/$fid.json"; echo "$fid: the shared report $report"; continue
  fi
  "$bin" run "$scenario" --fidelity $fid --json "$tmp/$fid.json" -q || { echo "FAIL: $fid run exited $?"; exit 1; }
done
python3 - "$tmp/full.json" "$tmp/reduced.json" "$(basename "$scenario")" "$n" <<'PY'
import json, sys
full, red = (json.load(open(p)) for p in sys.argv[1:3])
assert full["simulation"]["fidelity"] == "full" and red["simulation"]["fidelity"] == "reduced"
err = red["step_time_s"] / full["step_time_s"] - 1
print(f'{sys.argv[3]}: {sys.argv[4]} accelerators, full {full["step_time_s"]:.6f} s '
      f'({full["simulation"]["transfers"]} transfers), reduced {red["step_time_s"]:.6f} s '
      f'({red["simulation"]["transfers"]} transfers), difference {err * 100:+.4f}%')
sys.exit(0 if abs(err) < 0.01 else 1)
PY
