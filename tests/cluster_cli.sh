#!/usr/bin/env bash
# trainsim cluster (docs/cluster.md): console, JSON, CSV and HTML outputs, byte-identical reruns, exit code 2
# with the cluster file's JSON path, and the 30-day queue of 50 jobs on 10,240 accelerators within 60 s.
set -uo pipefail
bin=$1
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
small=$root/scenarios/cluster/small-two-pools.json
out=$("$bin" cluster "$small" --json "$tmp/a.json" --csv "$tmp/a.csv" --html "$tmp/a.html"); rc=$?
check "cluster exits 0" '[ $rc -eq 0 ]'
check "console lists jobs and totals" 'grep -q "utilisation" <<<"$out" && grep -q "tCO2e" <<<"$out"'
check "json has jobs[] with wait, run, energy, carbon" 'python3 -c "
import json,sys; j=json.load(open(sys.argv[1])); assert j[\"kind\"]==\"cluster\" and len(j[\"jobs\"])==3
for x in j[\"jobs\"]: assert x[\"run_s\"]>0 and x[\"wait_s\"]>=0 and x[\"energy_mwh\"]>0 and x[\"carbon_tco2e\"]>0
t=j[\"totals\"]; assert 0<t[\"utilisation\"]<1 and t[\"energy_mwh\"]>0 and t[\"coal_share\"]==0.6" "$tmp/a.json"'
check "csv power over time" 'head -1 "$tmp/a.csv" | grep -q "^t_s,power_mw,busy_accelerators" && [ $(wc -l <"$tmp/a.csv") -gt 3 ]'
check "html plots utilisation and power" 'grep -q "Utilisation over time" "$tmp/a.html" && grep -q "<polyline" "$tmp/a.html"'
"$bin" cluster "$small" --json "$tmp/b.json" --csv "$tmp/b.csv" -q; rc=$?
check "rerun byte-identical (json, csv)" '[ $rc -eq 0 ] && cmp -s "$tmp/a.json" "$tmp/b.json" && cmp -s "$tmp/a.csv" "$tmp/b.csv"'
python3 -c "
import json; d=json.load(open('$small')); d['jobs'][1]['pool']='a100'; json.dump(d, open('$tmp/bad.json','w'))"
err=$("$bin" cluster "$tmp/bad.json" 2>&1); rc=$?
check "unknown pool: exit 2 naming /jobs/1/pool" '[ $rc -eq 2 ] && grep -q "/jobs/1/pool" <<<"$err"'
python3 -c "
import json; d=json.load(open('$small')); d['jobs'][0]['parallelism']['dp']=3; json.dump(d, open('$tmp/bad2.json','w'))"
err=$("$bin" cluster "$tmp/bad2.json" 2>&1); rc=$?
check "job parallelism mismatch: exit 2 naming /jobs/0" '[ $rc -eq 2 ] && grep -q "^trainsim: error: /jobs/0" <<<"$err"'
domestic=$root/scenarios/cluster/small-domestic-pools.json
"$bin" cluster "$domestic" --json "$tmp/d.json" -q; rc=$?
check "domestic pools (P800, BW1000 in fp16): exit 0, every job runs" '[ $rc -eq 0 ] && python3 -c "
import json,sys; j=json.load(open(sys.argv[1])); assert len(j[\"jobs\"])==4
for x in j[\"jobs\"]: assert x[\"run_s\"]>0 and x[\"energy_mwh\"]>0" "$tmp/d.json"'
python3 -c "
import json; d=json.load(open('$domestic')); d['jobs'][1]['training']['precision']='bf16'; json.dump(d, open('$tmp/bad3.json','w'))"
err=$("$bin" cluster "$tmp/bad3.json" 2>&1); rc=$?
check "bf16 on a P800 pool (no published rate): exit 2 naming the precision" '[ $rc -eq 2 ] && grep -q "precision" <<<"$err"'
start=$(date +%s.%N)
"$bin" cluster "$root/scenarios/cluster/month-10240-mixed.json" --json "$tmp/m.json" -q; rc=$?
wall=$(python3 -c "import time; print(round(time.time()-$start, 2))")
echo "30-day queue of 50 jobs on 10,240 accelerators: $wall s"
check "month queue exits 0 within 60 s" '[ $rc -eq 0 ] && python3 -c "import sys; assert float(sys.argv[1]) <= 60" $wall'
check "month queue: 50 jobs, 10,240 accelerators" 'python3 -c "
import json,sys; j=json.load(open(sys.argv[1])); assert len(j[\"jobs\"])==50 and j[\"accelerators\"]==10240" "$tmp/m.json"'
exit $fail
