#!/usr/bin/env bash
# Renders trainsim's HTML reports in headless Chromium and checks them: the run report of the default
# scenario and a sweep report (JSON Lines and CSV rows of real runs). For each page: the screenshot is
# not blank (many colours, a good share of non-background pixels) and the rendered DOM has the expected
# sections and charts. Installs Debian's `chromium` when missing (as root with apt-get); otherwise exits
# 77 (ctest: skipped) saying why.
# Usage: tests/html_report.sh BIN [--save-screenshots DIR]   (DIR: where to copy the PNGs, e.g. docs/img)
set -uo pipefail
bin=$1
save=${3:-}
[ "${2:-}" = "--save-screenshots" ] || save=""
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

find_chromium() {
  for c in chromium chromium-browser google-chrome; do
    if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi
  done
  return 1
}
# .ci/run installs the extras in the background during the builds, holding TRAINSIM_APT_LOCK: wait for it.
if [ -n "${TRAINSIM_APT_LOCK:-}" ] && [ -e "$TRAINSIM_APT_LOCK" ] && command -v flock >/dev/null; then
  flock "$TRAINSIM_APT_LOCK" true
fi
if ! chrome=$(find_chromium); then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the HTML rendering test" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null 2>&1
    apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null 2>&1
  fi
  if ! chrome=$(find_chromium); then
    echo "SKIP: Chromium is not installed and could not be installed (needs root and apt-get:" \
         "apt-get install chromium); the HTML reports were not rendered"
    exit 77
  fi
fi

fail=0
check() { # message, command...
  local msg=$1; shift
  if "$@"; then echo "ok   $msg"; else echo "FAIL $msg"; fail=1; fi
}

render() { # html, png, dom, height
  local html=$1 png=$2 dom=$3 height=${4:-2400}
  # --no-sandbox: CI containers run as root. The page must need nothing from the network.
  timeout 120 "$chrome" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
    --no-first-run --disable-extensions --window-size=1200,"$height" --screenshot="$png" "file://$html" \
    >/dev/null 2>&1
  timeout 120 "$chrome" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --disable-extensions --dump-dom "file://$html" > "$dom" 2>/dev/null
  [ -s "$png" ] && [ -s "$dom" ]
}

not_blank() { # png
  python3 "$root/tests/tools/png_stats.py" "$1" | tee "$1.stats" &&
    python3 - "$1.stats" <<'PY'
import sys
stats = dict(kv.split("=") for kv in open(sys.argv[1]).read().split())
ok = int(stats["colours"]) >= 16 and float(stats["non_background"]) >= 0.05
sys.exit(0 if ok else 1)
PY
}

dom_has() { # dom, python expression over `dom` (text) that must hold
  python3 - "$1" "$2" <<'PY'
import re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
def section(name):
    m = re.search(r'<section id="%s".*?</section>' % name, dom, re.S)
    return m.group(0) if m else ""
ok = eval(sys.argv[2])
if not ok:
    print("  condition failed:", sys.argv[2])
sys.exit(0 if ok else 1)
PY
}

self_contained() { # html: no scripts, no external resources
  ! grep -E -q '<script|<link |src="|href="http|@import|url\(' "$1"
}

# 1. The run report of the default scenario.
check "trainsim run --html --trace" "$bin" run -q --html "$tmp/run.html" --trace "$tmp/trace.json"
check "run report is self-contained" self_contained "$tmp/run.html"
check "run report renders in Chromium" render "$tmp/run.html" "$tmp/run.png" "$tmp/run.dom" 3400
check "run screenshot is not blank" not_blank "$tmp/run.png"
check "run DOM has every section" dom_has "$tmp/run.dom" \
  'all(section(s) for s in ["summary", "scenario", "breakdown", "timeline", "energy", "memory", "fields"])'
check "run DOM: timeline has a row per stage and hundreds of ops" dom_has "$tmp/run.dom" \
  'section("timeline").count("<rect") > 500 and all(("stage %d (rank" % i) in section("timeline") for i in range(4))'
check "run DOM: breakdown, energy, carbon and memory charts" dom_has "$tmp/run.dom" \
  'section("breakdown").count("<svg") >= 5 and "Energy by component" in section("energy") and "Carbon by component" in section("energy") and "<svg" in section("memory")'
check "run DOM: headline figures" dom_has "$tmp/run.dom" \
  '"step time" in section("summary") and "MWh" in section("summary") and "tCO2e" in section("summary")'

# 2. A sweep report from real runs: pipeline depth and interleaving of the default scenario.
python3 - "$root/scenarios/default.json" "$tmp" <<'PY'
import json, sys
base = json.load(open(sys.argv[1]))
for pp, vpp in [(4, 1), (4, 2), (4, 5), (8, 1), (8, 2), (2, 1)]:
    s = json.loads(json.dumps(base))
    s["name"] = f"default-pp{pp}-vpp{vpp}"
    s["parallelism"].update({"pp": pp, "vpp": vpp, "dp": 512 // (8 * pp)})
    json.dump(s, open(f"{sys.argv[2]}/sweep-pp{pp}-vpp{vpp}.json", "w"))
PY
: > "$tmp/rows.jsonl"
n=0
for f in "$tmp"/sweep-*.json; do
  if "$bin" run "$f" -q --json "$f.report" --csv "$f.csv" 2>/dev/null; then
    python3 - "$f" "$f.report" >> "$tmp/rows.jsonl" <<'PY'
import json, sys
s, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
r.pop("resolved_scenario", None)
print(json.dumps({"axes": {"/parallelism/pp": s["parallelism"]["pp"], "/parallelism/vpp": s["parallelism"]["vpp"]},
                  "report": r}))
PY
    [ $n -eq 0 ] && head -1 "$f.csv" > "$tmp/rows.csv"
    tail -n +2 "$f.csv" >> "$tmp/rows.csv"
    n=$((n + 1))
  else
    echo "{\"axes\": {\"file\": \"$(basename "$f")\"}, \"error\": \"does not run\"}" >> "$tmp/rows.jsonl"
  fi
done
check "sweep: at least 4 configurations ran" test "$n" -ge 4
check "trainsim html-sweep (JSON Lines)" "$bin" html-sweep "$tmp/rows.jsonl" --x energy_mwh --y step_time_s -o "$tmp/sweep.html"
check "trainsim html-sweep (CSV)" "$bin" html-sweep "$tmp/rows.csv" --x tokens_per_s --y carbon_tco2e -o "$tmp/sweep-csv.html"
check "sweep report is self-contained" self_contained "$tmp/sweep.html"
check "sweep report renders in Chromium" render "$tmp/sweep.html" "$tmp/sweep.png" "$tmp/sweep.dom" 1000
check "sweep screenshot is not blank" not_blank "$tmp/sweep.png"
check "sweep DOM: a point per configuration, a Pareto front and its table" dom_has "$tmp/sweep.dom" \
  "section('scatter').count('<circle') == $n and section('scatter').count('class=\"pareto\"') >= 1 and section('pareto').count('<tr>') >= 2"
check "CSV sweep renders" render "$tmp/sweep-csv.html" "$tmp/sweep-csv.png" "$tmp/sweep-csv.dom" 1000
check "CSV sweep DOM: a point per configuration" dom_has "$tmp/sweep-csv.dom" "section('scatter').count('<circle') == $n"
"$bin" html-sweep "$tmp/rows.jsonl" --x energy --y step_time_s -o "$tmp/bad.html" 2> "$tmp/bad.err"
check "html-sweep with an unknown field: exit 2 naming the valid fields" \
  bash -c "[ $? -eq 2 ] && grep -q 'report.energy_mwh' '$tmp/bad.err'"

if [ -n "$save" ]; then
  mkdir -p "$save"
  cp "$tmp/run.png" "$save/report-default.png"
  cp "$tmp/sweep.png" "$save/report-sweep.png"
  echo "screenshots saved in $save"
fi
[ $fail -eq 0 ] && echo "all HTML report checks passed"
exit $fail
