#!/usr/bin/env bash
# End-to-end checks of trainsim sweep / search / regress on small scenarios (well under a minute on 2 cores).
# Usage: sweep_cli.sh /path/to/trainsim
set -uo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
sweepfile=$root/tests/sweep/llama8b-parallelism.sweep.json
scenario=$root/scenarios/llama3-8b-64xAscend910B.json
work=$(mktemp -d "${TMPDIR:-/tmp}/trainsim_sweep_cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
ok() { echo "ok   $*"; }

# 1. A local sweep: 24 points, constraints applied, progress lines, deterministic sorted output.
"$bin" sweep "$sweepfile" -j 2 --out ref --pareto time,carbon --reports reports 2>progress.txt >summary.txt
rc=$?
[ $rc -eq 0 ] || fail "sweep exited $rc"
n=$(wc -l <ref.jsonl)
[ "$n" -eq 24 ] && ok "24 points recorded" || fail "expected 24 points, got $n"
grep -q "6 more skipped by constraints" summary.txt && ok "constraints skip the 6 points with tp > 8" || fail "skip count: $(cat summary.txt)"
grep -q "ETA" progress.txt && ok "progress lines with ETA" || fail "no progress lines"
grep -q '"status":"infeasible"' ref.jsonl && ok "out-of-memory points recorded as infeasible" || fail "no infeasible point"
python3 - ref.jsonl <<'PY' || fail "results not sorted or Pareto marks missing"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["point"] for r in rows] == list(range(len(rows)))
ok = [r for r in rows if r["status"] == "ok"]
assert any(r["pareto"] for r in ok) and not all(r["pareto"] for r in ok)
PY
[ "$(head -1 ref.csv | cut -d, -f1-4)" = "point,/parallelism/tp,/parallelism/pp,/training/micro_batch_size" ] && ok "CSV header" || fail "CSV header: $(head -1 ref.csv)"

# 2. Every point matches a single run of the same scenario exactly (byte-identical JSON report).
mismatch=0
for i in 6 13 21; do
  "$bin" sweep "$sweepfile" --point $i >p$i.json || mismatch=1
  "$bin" run p$i.json --json single$i.json -q || mismatch=1
  cmp -s single$i.json reports/point-$(printf %06d $i).json || mismatch=1
done
[ $mismatch -eq 0 ] && ok "sweep points equal single runs byte for byte" || fail "a sweep point differs from its single run"

# 3. -j does not change the result set.
"$bin" sweep "$sweepfile" -j 1 --out serial --pareto time,carbon -q
cmp -s ref.jsonl serial.jsonl && cmp -s ref.csv serial.csv && ok "-j 1 and -j 2 give identical files" || fail "-j changes the results"

# 4. SIGKILL halfway, a torn last line, then --resume: same result set as the uninterrupted run.
"$bin" sweep "$sweepfile" -j 1 --out killed --pareto time,carbon -q &
pid=$!
for _ in $(seq 1 600); do
  [ -f killed.jsonl ] && [ "$(wc -l <killed.jsonl)" -ge 10 ] && break
  sleep 0.05
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
have=$(wc -l <killed.jsonl)
printf '{"point":23,"axes":{"/parallelism/tp"' >>killed.jsonl # a write torn by the kill
if [ "$have" -ge 10 ] && [ "$have" -lt 24 ]; then ok "killed after $have of 24 points"; else fail "kill came at $have points"; fi
"$bin" sweep "$sweepfile" -j 2 --out killed --pareto time,carbon -q 2>/dev/null
[ $? -eq 2 ] && ok "existing results without --resume: exit 2" || fail "existing results were not protected"
"$bin" sweep "$sweepfile" -j 2 --out killed --pareto time,carbon --resume -q
cmp -s ref.jsonl killed.jsonl && cmp -s ref.csv killed.csv && ok "resumed result set identical" || fail "resumed results differ"
cp "$sweepfile" other.sweep.json && sed -i 's/\[1, 2\]/[1]/' other.sweep.json && sed -i "s#\.\./\.\./scenarios#$root/scenarios#" other.sweep.json
"$bin" sweep other.sweep.json --out killed --resume -q 2>err.txt
[ $? -eq 2 ] && grep -q "different sweep" err.txt && ok "resume of another sweep's results refused" || fail "resume accepted another sweep: $(cat err.txt)"

# 5. Shards and merge give the local result set.
"$bin" sweep "$sweepfile" --slurm job --shards 3 -q || fail "--slurm"
for i in 1 2 3; do
  "$bin" sweep job/sweep.json --shard $i/3 --out "$(printf 'job/shard-%04d-of-%04d' $i 3)" -j 2 -q || fail "shard $i"
done
"$bin" sweep merge job --pareto time,carbon >/dev/null || fail "merge"
cmp -s ref.jsonl job/results.jsonl && cmp -s ref.csv job/results.csv && ok "merged shards identical to the local run" || fail "merge differs"
rm job/shard-0002-of-0003.jsonl
"$bin" sweep merge job 2>err.txt >/dev/null
[ $? -eq 2 ] && grep -q "shards without output: 2" err.txt && ok "merge names the missing shard" || fail "merge with a missing shard: $(cat err.txt)"

# 6. Bad input: one line naming the pointer, exit 2.
echo '{"base": "'$scenario'", "axes": {"/parallelism/tp": [1, 2]}, "constraints": ["tp <"]}' >bad.json
"$bin" sweep bad.json 2>err.txt; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <err.txt)" -eq 1 ] && grep -q "^trainsim: error: /constraints/0:" err.txt && ok "bad constraint: exit 2 naming /constraints/0" || fail "bad constraint: rc $rc $(cat err.txt)"
echo '{"base": "'$scenario'", "axes": {"/parallelism/tpp": [1, 2]}}' >bad2.json
"$bin" sweep bad2.json -q --out bad2 2>err.txt; rc=$?
[ $rc -eq 2 ] && grep -q "every point is invalid" err.txt && grep -q "/parallelism/tpp" err.txt && ok "all-invalid sweep: exit 2 with the parser's error" || fail "all-invalid: rc $rc $(cat err.txt)"
"$bin" sweep "$sweepfile" --shard 4/3 -q 2>err.txt; [ $? -eq 2 ] && ok "bad --shard: exit 2" || fail "bad --shard"
"$bin" sweep "$sweepfile" --pareto time,colour -q --out x 2>err.txt; [ $? -eq 2 ] && ok "bad --pareto: exit 2" || fail "bad --pareto"

# 7. search: the same best configurations as exhaustive enumeration, with fewer simulations and less time.
# (cp and ep are fixed at the scenario's 1, as the other fixed dimensions, to keep the exhaustive runs short.)
space=(--fix zero_stage,recompute,sequence_parallel,cp,ep --space micro_batch_size=1,2 --space pp=1,2,4 --top 3 -q -j 2)
for obj in time carbon time=0.5,energy=0.5; do
  s0=$(date +%s.%N); "$bin" search "$scenario" --objective $obj "${space[@]}" --json bb.json >/dev/null || fail "search $obj"
  s1=$(date +%s.%N); "$bin" search "$scenario" --objective $obj "${space[@]}" --json ex.json --exhaustive >/dev/null || fail "exhaustive $obj"
  s2=$(date +%s.%N)
  if python3 - bb.json ex.json "$s0" "$s1" "$s2" "$obj" <<'PY'
import json, sys
bb, ex = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
t_bb, t_ex = float(sys.argv[4]) - float(sys.argv[3]), float(sys.argv[5]) - float(sys.argv[4])
same = [e["config"] for e in bb["top"]] == [e["config"] for e in ex["top"]]
print(f"     {sys.argv[6]}: branch and bound {bb['simulated']} simulations {t_bb:.1f} s, exhaustive {ex['simulated']} simulations {t_ex:.1f} s")
assert same, "top configurations differ"
assert bb["simulated"] < ex["simulated"], "no pruning"
assert all(e["lower_bound"] <= e["score"] * (1 + 1e-9) for e in ex["top"])
PY
  then ok "search $obj: same top 3 as exhaustive, fewer simulations"; else fail "search $obj"; fi
done
"$bin" search "$scenario" --objective speed 2>/dev/null; [ $? -eq 2 ] && ok "bad --objective: exit 2" || fail "bad --objective"

# 8. regress: exit 0 within tolerance, 1 on regression, 2 on bad input; --update writes the baseline.
"$bin" regress --baseline base.json --update "$scenario" >/dev/null || fail "regress --update"
"$bin" regress --baseline base.json "$scenario" >table.txt; [ $? -eq 0 ] && ok "regress within tolerance: exit 0" || fail "regress 0"
python3 -c "
import json; b = json.load(open('base.json')); e = b['scenarios']['llama3-8b-64xAscend910B.json']
e['tokens_per_s'] *= 1.10; json.dump(b, open('base.json', 'w'))"
"$bin" regress --baseline base.json "$scenario" >table.txt 2>/dev/null; rc=$?
[ $rc -eq 1 ] && grep -q "REGRESSED" table.txt && ok "10% slower: exit 1 with a diff table" || fail "regression: rc $rc"
"$bin" regress --baseline base.json --tolerance 0.2 "$scenario" >/dev/null; [ $? -eq 0 ] && ok "within a 20% tolerance: exit 0" || fail "tolerance"
echo '{"trainsim_regress_baseline": 1, "scenarios": {"x.json": {"tokens_per_s": 1}}}' >bad_base.json
"$bin" regress --baseline bad_base.json "$scenario" 2>err.txt >/dev/null; rc=$?
[ $rc -eq 2 ] && grep -q "/scenarios/x.json" err.txt && ok "malformed baseline: exit 2" || fail "malformed baseline: rc $rc"
"$bin" regress --baseline missing.json "$scenario" 2>/dev/null >/dev/null; [ $? -eq 2 ] && ok "missing baseline: exit 2" || fail "missing baseline"

# Points that differ only in their site share one simulation (docs/sweep.md), and each still gets exactly
# the report of its own single run.
cat >site.sweep.json <<EOF
{"base": "$scenario", "axes": {"/training/global_batch_size": [256, 512], "/site/pue": [1.1, 1.3, 1.5],
 "/site/grid": ["cn-national-2023", "cn-sichuan-2022"]}}
EOF
"$bin" --log-level info sweep site.sweep.json -j 2 --out site --reports site_reports --progress off 2>site_log.txt >/dev/null
rc=$?
# One "[... simulated]" line per simulation (cli::run_scenario); an extrapolated step runs the engine 3 times.
n=$(grep -c "s simulated\]" site_log.txt)
[ $rc -eq 0 ] && [ "$(wc -l <site.jsonl)" -eq 12 ] && [ "$n" -eq 2 ] && ok "12 site points, 2 simulations" ||
  fail "site groups: rc $rc, $(wc -l <site.jsonl) points, $n simulations"
mismatch=0
for i in 0 4 7 11; do
  "$bin" sweep site.sweep.json --point $i >s$i.json || mismatch=1
  "$bin" run s$i.json --json site_single$i.json -q || mismatch=1
  cmp -s site_single$i.json site_reports/point-$(printf %06d $i).json || mismatch=1
done
[ $mismatch -eq 0 ] && ok "grouped site points equal single runs byte for byte" || fail "a grouped site point differs from its single run"

echo "$failed failed"
[ $failed -eq 0 ]
