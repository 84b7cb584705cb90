#!/usr/bin/env bash
# Runs the energy/carbon study of docs/energy-carbon.md: every scenarios/studies/llama3-70b-*.json, and prints a
# Markdown table of days, accelerator-hours, MWh, tCO2e, coal tCO2e (and the figures behind them).
# Usage: tools/energy-study.sh [build/trainsim] [OUTDIR]
set -euo pipefail
bin=${1:-build/trainsim}
out=${2:-$(mktemp -d)}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
for f in "$root"/scenarios/studies/llama3-70b-*.json; do
  "$bin" run "$f" --json "$out/$(basename "$f")" -q
done
python3 - "$out" <<'PY'
import json, os, sys
d = sys.argv[1]
rows = []
for f in sorted(os.listdir(d)):
    if not f.endswith('.json'): continue
    r = json.load(open(os.path.join(d, f)))
    s = r['resolved_scenario']
    rows.append((s['site']['grid']['id'], s['power'].get('cap_w', 0), s['failures']['enabled'], r))
rows.sort(key=lambda x: (x[0], -x[1], x[2]))
print('| site (grid) | cap | failures | step (s) | clock | days | M acc-h | goodput | interruptions | ckpt every (min) | PUE | MWh | tCO2e | coal tCO2e | t/B tokens |')
print('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
for grid, cap, fail, r in rows:
    coal = r['carbon_coal_tco2e']
    print(f"| {grid} | {cap:.0f} W | {'yes' if fail else 'no'} | {r['step_time_s']:.3f} | {r['power']['clock']:.3f} | "
          f"{r['time_to_train_days']:.2f} | {r['accelerator_hours']/1e6:.3f} | {r['goodput']:.3f} | {r['interruptions']:.0f} | {r['checkpoint_interval_s']/60:.1f} | "
          f"{r['power']['pue']:.3f} | {r['energy_mwh']:.0f} | {r['carbon_tco2e']:.0f} | {coal:.0f} | {r['carbon_tco2e_per_billion_tokens']:.4f} |")
PY
