#!/usr/bin/env bash
# Issue 15: the Inner Mongolia vs Sichuan study of docs/energy-carbon.md is run with failures on by default (its
# "failures" scenarios have no failures block and report the defaults; the ideal ones turn them off) and the
# document carries the table this build gives (tools/energy-study.sh).
# Usage: energy_study.sh BIN
set -uo pipefail
bin=$1
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash "$root/tools/energy-study.sh" "$bin" "$tmp/runs" >"$tmp/table.md" || { echo "FAIL: tools/energy-study.sh exited $?"; exit 1; }
python3 - "$root" "$tmp" <<'PY'
import glob, json, os, sys
root, tmp = sys.argv[1:3]
fail = []
def check(cond, what):
    print(("PASS " if cond else "FAIL ") + what)
    if not cond:
        fail.append(what)
files = sorted(glob.glob(f"{root}/scenarios/studies/llama3-70b-*.json"))
check(len(files) == 8, f"eight study scenarios ({len(files)})")
for f in files:
    name = os.path.basename(f)
    scenario = json.load(open(f))
    report = json.load(open(f"{tmp}/runs/{name}"))
    if name.endswith("-failures.json"):
        check("failures" not in scenario and report["failures"]["source"] == "defaults" and report["interruptions"] > 0,
              f"{name}: failures on by default (no failures block, source defaults, {report['interruptions']:.0f} interruptions)")
    else:
        check(scenario.get("failures", {}).get("enabled") is False and report["failures"]["source"] == "disabled",
              f"{name}: the ideal run turns failures off")
doc = open(f"{root}/docs/energy-carbon.md").read()
rows = [l for l in open(f"{tmp}/table.md").read().splitlines() if l.startswith("| cn-")]
stale = [r for r in rows if r not in doc]
check(len(rows) == 8 and not stale, "docs/energy-carbon.md carries this build's study table" +
      ("" if not stale else "; stale: regenerate it with tools/energy-study.sh build/trainsim, first stale row:\n  " + stale[0]))
sys.exit(1 if fail else 0)
PY
