#!/usr/bin/env bash
# trainsim search over the whole plan (issue 18, docs/planning.md): a 70B model, 15T tokens, over 4 hub
# sites (provinces) x 3 power caps x 4 start months x tensor/pipeline parallelism with a 60-day deadline.
# Branch and bound finds the same best plans as exhaustive evaluation with fewer simulations; plans that
# differ only in their site share one simulation and get exactly the figures of their own `trainsim run`.
# Usage: planner_search.sh BIN
set -uo pipefail
bin=$1
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
failed=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
scenario=$root/scenarios/planning/llama3-70b-4096xH800-plan.json
plan=(--space site=hub-horinger,hub-tianfu,hub-zhangjiakou,hub-guian --space power_cap=500W,600W,700W
      --space start_date=2025-01-01,2025-04-01,2025-07-01,2025-10-01 --space tp=2,4,8 --space pp=2,4,8
      --fix vpp,zero_stage,recompute,sequence_parallel,cp,ep,micro_batch_size --constraint "time_to_train<=60d"
      --objective coal --top 3 -q -j 2)
"$bin" search "$scenario" "${plan[@]}" --json bb.json --html bb.html --rows bb.jsonl >bb.txt || fail "search exited $?"
"$bin" search "$scenario" "${plan[@]}" --json ex.json --exhaustive >ex.txt || fail "exhaustive search exited $?"
cat bb.txt
if python3 - bb.json ex.json <<'PY'
import json, sys
bb, ex = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print(f"     branch and bound: {bb['simulated']} simulations for {bb['evaluated']} plans; "
      f"exhaustive: {ex['simulated']} simulations for {ex['evaluated']} plans of {ex['configurations']}")
assert [e["config"] for e in bb["top"]] == [e["config"] for e in ex["top"]], "top plans differ"
# An exhaustive sweep simulates every plan; search simulates one per site group, and prunes groups by bound.
assert bb["simulated"] < ex["configurations"] and bb["simulated"] <= ex["simulated"], "no fewer simulations"
assert ex["configurations"] == 4 * 3 * 4 * 3 * 3, ex["configurations"]
assert ex["simulated"] < ex["evaluated"], "site variants did not share simulations"
for e in ex["top"]:
    assert e["report"]["time_to_train_days"] <= 60 + 1e-9, "the deadline is broken"
    assert e["lower_bound"] <= e["score"] * (1 + 1e-9)
assert ex["violated"] + ex["constrained_by_bound"] > 0, "the deadline never binds: the test would not see it"
best = ex["top"][0]
json.dump(best["scenario"], open("best.json", "w"))
json.dump(best["report"], open("best-report.json", "w"))
PY
then ok "same top 3 plans as exhaustive, fewer simulations, within the deadline"; else fail "search against exhaustive"; fi
grep -q "coal_tCO2e" bb.txt && grep -q "hub-" bb.txt && ok "prints the plan and its coal tCO2e" || fail "console table"
"$bin" run best.json --json run.json -q || fail "run of the best plan"
python3 - best-report.json run.json <<'PY' && ok "the best plan's figures equal its own trainsim run (shared simulation is exact)" || fail "shared simulation differs from trainsim run"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for k in ("step_time_s", "time_to_train_s", "energy_mwh", "carbon_tco2e", "carbon_coal_tco2e", "pue"):
    if k in a:
        assert a[k] == b[k], (k, a[k], b[k])
PY
grep -q "<svg" bb.html && [ "$(wc -l <bb.jsonl)" -ge 1 ] && ok "--html Pareto page and --rows written" || fail "--html/--rows"

# Bad input: exit 2, one line naming the option.
"$bin" search "$scenario" --constraint "time<60d" 2>err.txt >/dev/null; rc=$?
[ $rc -eq 2 ] && grep -q "^trainsim: error: .*--constraint" err.txt && ok "bad --constraint: exit 2" || fail "bad --constraint: rc $rc $(cat err.txt)"
"$bin" search "$scenario" --constraint "energy<=5kWh" 2>err.txt >/dev/null; rc=$?
[ $rc -eq 2 ] && grep -q "MWh" err.txt && ok "wrong constraint unit: exit 2 naming MWh" || fail "constraint unit: rc $rc $(cat err.txt)"
"$bin" search "$scenario" --space site=nowhere --fix tp,pp,vpp,zero_stage,recompute,sequence_parallel,cp,ep,micro_batch_size 2>err.txt >/dev/null; rc=$?
[ $rc -eq 2 ] && grep -q "/site/preset" err.txt && ok "unknown site: exit 2 naming /site/preset" || fail "unknown site: rc $rc $(cat err.txt)"
"$bin" search "$scenario" --space nodes=abc 2>err.txt >/dev/null; rc=$?
[ $rc -eq 2 ] && ok "--space nodes=abc: exit 2" || fail "nodes=abc: rc $rc"
"$bin" search "$scenario" --objective cost --fix tp,pp,vpp,zero_stage,recompute,sequence_parallel,cp,ep,micro_batch_size 2>err.txt >/dev/null; rc=$?
[ $rc -eq 2 ] && grep -q "electricity_rmb_per_kwh" err.txt && ok "cost without prices: exit 2 naming the price keys" || fail "cost without prices: rc $rc $(cat err.txt)"
"$bin" search "$scenario" --constraint "time_to_train<=1d" --fix tp,pp,vpp,zero_stage,recompute,sequence_parallel,cp,ep,micro_batch_size 2>err.txt >/dev/null; rc=$?
[ $rc -eq 2 ] && grep -q "no plan meets the constraints" err.txt && ok "an impossible deadline: exit 2" || fail "impossible deadline: rc $rc $(cat err.txt)"

# cost_rmb: accelerator-hours at the site's rate plus the facility's energy at its price.
python3 -c "
import json; d = json.load(open('$scenario')); d['site']['electricity_rmb_per_kwh'] = 0.45
d['site']['accelerator_rmb_per_hour'] = 12.0; json.dump(d, open('priced.json', 'w'))"
"$bin" run priced.json --json priced-report.json -q || fail "run priced"
python3 - priced-report.json <<'PY' && ok "cost_rmb = accelerator-hours x rate + kWh x price" || fail "cost_rmb"
import json, sys
r = json.load(open(sys.argv[1]))
rs = r["resolved_scenario"]
spares = r["failures"].get("hot_spare_nodes", 0) * rs["cluster"]["accelerators_per_node"] # paid for, idle
acc = r["accelerators"]
hours = (acc + spares) * r["time_to_train_s"] / 3600
want = hours * 12.0 + r["energy_mwh"] * 1000 * 0.45
assert abs(r["cost_rmb"] - want) <= 1e-6 * want, (r["cost_rmb"], want)
PY
echo "$failed failed"
[ $failed -eq 0 ]
