#!/usr/bin/env bash
# This project's own CI use of `trainsim regress`: every scenarios/*.json against tests/regress/baseline.json
# (2% relative tolerance on throughput and energy). A deliberate model change that moves these figures
# needs a new baseline (see docs/sweep.md):
#   build/trainsim regress --baseline tests/regress/baseline.json --update scenarios/*.json
set -uo pipefail
bin=$1
root=$(cd "$(dirname "$0")/.." && pwd)
"$bin" regress --baseline "$root/tests/regress/baseline.json" --tolerance 0.02 --allow-new -j 2 "$root"/scenarios/*.json
rc=$?
if [ $rc -ne 0 ]; then
  echo "regress exited $rc. If the change is intended, regenerate the baseline:"
  echo "  $bin regress --baseline $root/tests/regress/baseline.json --update $root/scenarios/*.json"
fi
exit $rc
