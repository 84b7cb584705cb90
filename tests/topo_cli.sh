#!/usr/bin/env bash
# trainsim topo: summary, DOT and SimGrid XML files, and exit code 2 for bad input.
set -uo pipefail
bin=$1
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
out=$("$bin" topo --preset megascale-clos --dot "$tmp/f.dot" --platform-xml "$tmp/f.xml" --json "$tmp/f.json"); rc=$?
check "topo --preset exits 0" '[ $rc -eq 0 ]'
check "summary names switches, bisection, diameter" 'grep -q "^switches" <<<"$out" && grep -q "^bisection" <<<"$out" && grep -q "^diameter" <<<"$out"'
check "dot written" 'head -1 "$tmp/f.dot" | grep -q "^graph fabric {"'
check "xml written" 'grep -q "<zone id=\"fabric\" routing=\"Dijkstra\">" "$tmp/f.xml"'
check "json summary" 'python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert j[\"accelerators\"]==12288 and j[\"switches_by_tier\"][1]==192" "$tmp/f.json"'
"$bin" topo "$root/scenarios/studies/fabrics-hpn.json" >/dev/null; rc=$?
check "topo SCENARIO exits 0" '[ $rc -eq 0 ]'
err=$("$bin" topo --preset no-such 2>&1); rc=$?
check "unknown preset: exit 2 listing presets" '[ $rc -eq 2 ] && grep -q "xingmai-2.0" <<<"$err"'
python3 -c "
import json; s=json.load(open('$root/scenarios/default.json')); s['cluster']['fabric']={'preset':'xingmai-2.0','tiers':5}
json.dump(s, open('$tmp/bad.json','w'))"
err=$("$bin" topo "$tmp/bad.json" 2>&1); rc=$?
check "bad key beside a preset: exit 2 naming the path" '[ $rc -eq 2 ] && grep -q "/cluster/fabric/tiers" <<<"$err"'
exit $fail
