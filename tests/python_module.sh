#!/usr/bin/env bash
# The Python module (docs/python.md): `import trainsim` from build/python; run() from Python and
# `trainsim run --json` give byte-identical reports (from a path and from a dict); errors raise
# trainsim.Error carrying the JSON pointer and exit code; sweep() returns the CLI's result rows.
# Usage: python_module.sh BIN PYTHON_DIR PYTHON
set -uo pipefail
bin=$1 pydir=$2 python=$3
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
scenario=$root/scenarios/llama3-8b-64xAscend910B.json
"$bin" run "$scenario" --json "$tmp/cli.json" -q || { echo "FAIL trainsim run exited $?"; exit 1; }
"$bin" sweep "$root/tests/sweep/llama8b-parallelism.sweep.json" -o "$tmp/cli-sweep" -q -j 2 ||
  { echo "FAIL trainsim sweep exited $?"; exit 1; }
cd "$tmp" && PYTHONPATH=$pydir "$python" - "$scenario" "$tmp" "$root/tests/sweep/llama8b-parallelism.sweep.json" <<'PY'
import json, sys
import trainsim
scenario, tmp, sweep_file = sys.argv[1:4]
passed = failed = 0
def check(ok, what):
    global passed, failed
    print(("ok   " if ok else "FAIL ") + what)
    if ok: passed += 1
    else: failed += 1
cli = open(tmp + "/cli.json").read()
check(trainsim.run_json(scenario) == cli, "run_json(path) is byte-identical to trainsim run --json")
doc = json.load(open(scenario))
check(trainsim.run_json(doc) == cli, "run_json(dict) is byte-identical to trainsim run --json (second run, same process)")
check(trainsim.run(doc) == json.loads(cli), "run(dict) returns the report as a dict")
check(trainsim.validate(doc)["parallelism"]["tp"] == doc["parallelism"]["tp"], "validate(dict) returns the resolved scenario")
bad = json.loads(json.dumps(doc)); bad["parallelism"]["tp"] = 3
try:
    trainsim.run(bad); check(False, "tp 3 raises trainsim.Error")
except trainsim.Error as e:
    check(e.pointer.startswith("/parallelism") and e.exit_code == 2 and "tp" in str(e),
          "tp 3 raises trainsim.Error with pointer %s, exit_code %d" % (e.pointer, e.exit_code))
bad = json.loads(json.dumps(doc)); bad["model"]["no_such_key"] = 1
try:
    trainsim.run(bad); check(False, "an unknown key raises trainsim.Error")
except trainsim.Error as e:
    check(e.pointer == "/model/no_such_key", "an unknown key raises trainsim.Error with pointer " + str(e.pointer))
try:
    trainsim.run(doc, fidelity="fast"); check(False, "fidelity 'fast' raises trainsim.Error")
except trainsim.Error as e:
    check(e.pointer is None and e.exit_code == 2, "fidelity 'fast' raises trainsim.Error (usage, exit_code 2)")
rows = trainsim.sweep(sweep_file, jobs=2)
cli_rows = [json.loads(l) for l in open(tmp + "/cli-sweep.jsonl") if l.strip()]
check(rows == cli_rows, "sweep(path) returns the CLI's %d result rows" % len(cli_rows))
spec = json.load(open(sweep_file)); spec["base"] = json.load(open(scenario))
check(trainsim.sweep(spec, jobs=2) == cli_rows, "sweep(dict) returns the same rows")
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
