#!/usr/bin/env python3
"""Rewrites tests/ci_costs.txt (ctest COST per entry, so that ctest -j starts the slow entries first) from a
ctest JUnit file:  cd build && ctest -j2 --output-junit junit.xml && python3 ../tests/tools/ci_costs.py junit.xml
Entries under MIN seconds (default 0.5) are left out: they get the default cost of their tier."""
import sys
import xml.etree.ElementTree as ET

path = sys.argv[1]
low = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
rows = []
for case in ET.parse(path).getroot().iter("testcase"):
    secs = float(case.get("time", "0"))
    name = case.get("name", "")
    if secs >= low and "\t" not in name and "\n" not in name:
        rows.append((secs, name))
out = __file__.replace("tools/ci_costs.py", "ci_costs.txt")
with open(out) as f:
    lines = [line for line in f.read().splitlines() if line.startswith("#")]
lines += [f"{secs:.1f}\t{name}" for secs, name in sorted(rows, key=lambda r: (-r[0], r[1]))]
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"{out}: {len(rows)} entries of at least {low} s")
