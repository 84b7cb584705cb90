#!/usr/bin/env bash
# Issue 4 / 5 / 14: the DeepSeek-V3 scenario on 2,048 H800 runs, reports its all-to-all share of the step
# time and needs the published GPU-hours within 10%; the 1T-class MoE bench scenario on 98,304 accelerators runs (reduced fidelity) and is 1T-class.
# Usage: moe_scenarios.sh BIN
set -uo pipefail
bin=$1
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" run "$root/scenarios/moe/deepseek-v3-2048xH800.json" --json "$tmp/ds.json" -q || { echo "FAIL: deepseek run exited $?"; exit 1; }
"$bin" run "$root/scenarios/bench/moe-1t-98304xH800-xingmai.json" --json "$tmp/k2.json" -q || { echo "FAIL: 1T MoE run exited $?"; exit 1; }
python3 - "$tmp/ds.json" "$tmp/k2.json" <<'PY'
import json, sys
ds, k2 = (json.load(open(p)) for p in sys.argv[1:3])
fail = []
def check(cond, what):
    print(("PASS " if cond else "FAIL ") + what)
    if not cond:
        fail.append(what)
b = ds["breakdown"]
share = ds["all_to_all_share"]
check(ds["accelerators"] == 2048, "DeepSeek-V3-like: 2,048 accelerators")
check(0 < share < 1 and abs(share - b["ep_comm_exposed_s"] / ds["step_time_s"]) < 1e-12,
      f"all_to_all_share {share:.3f} = ep_comm_exposed_s {b['ep_comm_exposed_s']:.3f} s / step {ds['step_time_s']:.3f} s")
parts = sum(v for k, v in b.items() if k.endswith("_s"))
check(abs(parts - ds["step_time_s"]) < 1e-6 * ds["step_time_s"], f"breakdown sums to the step time ({parts:.4f} s)")
check(abs(ds["moe"]["total_params"] + 129280 * 7168 - 671e9) < 0.03 * 671e9, f"671B total parameters ({ds['moe']['total_params']:.4g} + output layer)")
check(ds["communication_total_s"]["ep"] >= b["ep_comm_exposed_s"] - 1e-9, "ep total >= exposed")
# DeepSeek-V3 report, Table 1: 2.664M H800 GPU-hours of pre-training for 14.8T tokens (docs/moe.md).
gpu_hours = ds["time_to_train_s"] / 3600 * ds["accelerators"]
# Issue 14: within 10% with DualPipe, which hides most of the all-to-all (docs/moe.md, term by term).
check(abs(gpu_hours / 2.664e6 - 1) < 0.10, f"{gpu_hours / 1e6:.3f}M GPU-hours for 14.8T tokens, within 10% of 2.664M")
check(ds["pipeline"]["schedule"] == "dualpipe", "DeepSeek-V3 runs DualPipe")
hidden, total = ds["moe"]["all_to_all_hidden_s"], ds["moe"]["all_to_all_total_s"]
check(0 < hidden <= total and abs(hidden + b["ep_comm_exposed_s"] - total) < 1e-9 * total,
      f"DualPipe hides {hidden:.2f} s of the {total:.2f} s all-to-all ({b['ep_comm_exposed_s']:.2f} s exposed)")
check(ds["memory_gib_per_accelerator"] <= ds["memory_breakdown_gib"]["usable_capacity"],
      f"fits: {ds['memory_gib_per_accelerator']:.1f} GiB of {ds['memory_breakdown_gib']['usable_capacity']:.1f} usable")
check(k2["accelerators"] == 98304 and k2["simulation"]["fidelity"] == "reduced", "1T MoE: 98,304 accelerators, reduced fidelity")
check(k2["moe"]["total_params"] > 1e12, f"1T-class: {k2['moe']['total_params']:.4g} parameters")
check(0 < k2["all_to_all_share"] < 1, f"1T MoE all-to-all share {k2['all_to_all_share']:.3f}")
sys.exit(1 if fail else 0)
PY
