#!/usr/bin/env python3
"""mypy over src/tkeras against a per-module baseline that may only shrink.

    python scripts/check_mypy.py            # check: exit 1 if a module has more errors than its baseline
    python scripts/check_mypy.py --update   # rewrite scripts/mypy_baseline.txt with today's counts

The baseline (scripts/mypy_baseline.txt) lists "<errors> <module path>" for every module that still
has errors; a module not listed must have none. Modules under the CLEAN folders must have none,
whatever the baseline says. mypy's settings are in pyproject.toml ([tool.mypy]); its cache lives in
the virtual environment running this script, so a second run only rechecks what changed.
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scripts" / "mypy_baseline.txt"
CLEAN = ("src/tkeras/engine/", "src/tkeras/backend/")
ERROR = re.compile(r"^(?P<path>[^:\s]+\.py):\d+(?::\d+)?: error: ")


def run_mypy() -> tuple[dict[str, int], str]:
    cache = os.environ.get("MYPY_CACHE_DIR") or str(Path(sys.prefix) / ".mypy_cache")
    proc = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(cache)],
                          cwd=ROOT, capture_output=True, text=True)
    if proc.returncode not in (0, 1):  # 2: mypy itself failed (bad config, crash)
        sys.exit(f"mypy failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
    counts: dict[str, int] = collections.Counter()
    for line in proc.stdout.splitlines():
        m = ERROR.match(line)
        if m:
            counts[m["path"]] += 1
    return dict(counts), proc.stdout


def read_baseline() -> dict[str, int]:
    if not BASELINE.exists():
        return {}
    out = {}
    for line in BASELINE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            n, path = line.split(maxsplit=1)
            out[path] = int(n)
    return out


def write_baseline(counts: dict[str, int]) -> None:
    lines = ["# mypy errors per module (scripts/check_mypy.py); counts may only go down."]
    lines += [f"{counts[p]} {p}" for p in sorted(counts)]
    BASELINE.write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update", action="store_true",
                        help="write today's counts to the baseline (modules under CLEAN are never written)")
    args = parser.parse_args()
    counts, report = run_mypy()
    baseline = read_baseline()
    if args.update:
        write_baseline({p: n for p, n in counts.items() if not p.startswith(CLEAN)})
        print(f"wrote {BASELINE.relative_to(ROOT)}: {sum(counts.values())} errors in {len(counts)} modules")
        baseline = read_baseline()
    worse = {p: n for p, n in counts.items() if n > (0 if p.startswith(CLEAN) else baseline.get(p, 0))}
    if worse:
        print(report, end="")
        print("\nmypy: more errors than the baseline allows in:")
        for p in sorted(worse):
            allowed = 0 if p.startswith(CLEAN) else baseline.get(p, 0)
            print(f"  {p}: {worse[p]} (allowed {allowed})")
        print("Fix them (modules under " + ", ".join(CLEAN) + " must have none).")
        return 1
    better = {p: n for p, n in baseline.items() if counts.get(p, 0) < n}
    if better:
        print("mypy: fewer errors than the baseline in "
              + ", ".join(f"{p} ({baseline[p]} -> {counts.get(p, 0)})" for p in sorted(better))
              + ".\nLock the gain in: python scripts/check_mypy.py --update")
    print(f"mypy: {sum(counts.values())} errors in {len(counts)} modules, none above the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
