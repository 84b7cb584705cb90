#!/usr/bin/env bash
# Issue 4, memory: every Megatron SC21 validation configuration fits; the same model and accelerator count
# with pp = 1 (dp x pp data-parallel replicas instead) is rejected as out of memory with the per-component
# breakdown (exit 2, one line naming /parallelism). Usage: memory_sc21.sh BIN
set -uo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 checked=0
for f in "$here"/../scenarios/validation/megatron-sc21-*.json; do
  name=$(basename "$f" .json)
  if ! "$bin" validate "$f" >/dev/null 2>"$tmp/err"; then
    echo "FAIL $name: the published configuration is rejected: $(cat "$tmp/err")"; fail=1; continue
  fi
  pp=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['parallelism'].get('pp', 1))" "$f")
  if [ "$pp" -eq 1 ]; then echo "PASS $name fits (pp is already 1)"; continue; fi
  python3 - "$f" "$tmp/$name-pp1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); p = d["parallelism"]
p["dp"] = p["dp"] * p["pp"]; p["pp"] = 1; p["vpp"] = 1
json.dump(d, open(sys.argv[2], "w"))
PY
  "$bin" validate "$tmp/$name-pp1.json" >/dev/null 2>"$tmp/err"
  rc=$?
  if [ $rc -ne 2 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q "^trainsim: error: /parallelism: out of memory on pipeline stage 0: weights .* optimizer .* activations .* exceeds the usable" "$tmp/err"; then
    echo "FAIL $name with pp 1: exit $rc: $(cat "$tmp/err")"; fail=1; continue
  fi
  checked=$((checked + 1))
  echo "PASS $name fits; with pp 1: $(cut -c1-160 "$tmp/err")"
done
[ "$checked" -ge 6 ] || { echo "FAIL: only $checked configurations with pp > 1 checked"; fail=1; }
exit $fail
