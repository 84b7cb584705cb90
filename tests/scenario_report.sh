#!/usr/bin/env bash
# ctest fixture report_NAME (tests/CMakeLists.txt): simulate one scenario once, at its own fidelity, into
# REPORT, which golden_NAME and fidelity_NAME then read instead of simulating it again.
# Usage: scenario_report.sh BIN SCENARIO REPORT
set -uo pipefail
bin=$1 scenario=$2 report=$3
rm -f "$report" # a failed run must not leave an older report for the entries that read it
"$bin" run "$scenario" --json "$report" -q || { echo "FAIL $(basename "$scenario"): run exited $?"; exit 1; }
echo "ok   $(basename "$scenario") -> $report"
