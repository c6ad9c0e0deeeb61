"""``make bench``: run every benchmark and print a table of times and ratios against peers."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_ct_loader  # noqa: E402

CACHE = HERE.parents[2] / "bench_output"


def main() -> int:
    CACHE.mkdir(exist_ok=True)
    results = [bench_ct_loader.run(CACHE)]
    print(f"{'benchmark':<28} {'ours (s)':>9} {'peer (s)':>9} {'ratio':>7} {'goal':>8}  met")
    for r in results:
        print(f"{r['benchmark']:<28} {r['oarcontour_s']:>9} {r['simpleitk_s']:>9} {r['ratio']:>7} {r['goal']:>8}  "
              f"{'yes' if r['met'] else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
