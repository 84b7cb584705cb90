#!/usr/bin/env bash
# Golden end-to-end runs: scenarios/NAME.json is run and its JSON report compared with
# tests/golden/NAME.json (numbers to 1e-9 relative). A second run of each must be byte-identical.
# Usage:
#   golden_runs.sh BIN                          every scenarios/*.json, each run twice
#   golden_runs.sh BIN --reports DIR NAME...    ctest golden_NAME: the first run is DIR/NAME.json, written by
#                                               the fixture report_NAME (tests/scenario_report.sh); one more run
# Regenerate the goldens after a deliberate model change with: tests/golden_runs.sh BIN --update
set -uo pipefail
bin=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
update="" reports=""
case "${1:-}" in
--update) update=--update ;;
--reports) reports=$2; shift 2 ;;
esac
names=("$@")
if [ -z "$reports" ]; then
  names=()
  for f in "$root"/scenarios/*.json; do names+=("$(basename "$f" .json)"); done
fi
[ "${#names[@]}" -gt 0 ] || { echo "FAIL: no scenario named"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
for name in "${names[@]}"; do
  f=$root/scenarios/$name.json
  first=$tmp/$name.json
  if [ -n "$reports" ]; then
    first=$reports/$name.json
    [ -s "$first" ] || { echo "FAIL $name: no report $first (fixture report_$name)"; failed=$((failed + 1)); continue; }
  elif ! "$bin" run "$f" --json "$first" -q; then
    echo "FAIL $name: run exited $?"; failed=$((failed + 1)); continue
  fi
  "$bin" run "$f" --json "$tmp/$name.again.json" -q
  if ! cmp -s "$first" "$tmp/$name.again.json"; then
    echo "FAIL $name: two runs differ (not deterministic)"; failed=$((failed + 1)); continue
  fi
  if [ "$update" = "--update" ]; then
    cp "$first" "$root/tests/golden/$name.json"; echo "updated $name"; continue
  fi
  if python3 - "$root/tests/golden/$name.json" "$first" <<'PY'
import json, sys, math
def cmp(a, b, path):
    if isinstance(a, dict):
        if not isinstance(b, dict) or set(a) != set(b):
            raise SystemExit(f"{path}: keys differ")
        for k in a: cmp(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, list):
        if not isinstance(b, list) or len(a) != len(b):
            raise SystemExit(f"{path}: lengths differ")
        for i, (x, y) in enumerate(zip(a, b)): cmp(x, y, f"{path}/{i}")
    elif isinstance(a, float) or isinstance(b, float):
        if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12):
            raise SystemExit(f"{path}: golden {a} != {b}")
    elif a != b:
        raise SystemExit(f"{path}: golden {a!r} != {b!r}")
try:
    golden = json.load(open(sys.argv[1]))
except FileNotFoundError:
    raise SystemExit("no golden file; create it with --update")
cmp(golden, json.load(open(sys.argv[2])), "")
PY
  then echo "ok   $name"; passed=$((passed + 1))
  else echo "FAIL $name: report differs from tests/golden/$name.json"; failed=$((failed + 1)); fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
