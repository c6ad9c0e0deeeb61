"""``make bench``: run every benchmark and print a table of times and ratios against peers.

``--quick`` (or OARCONTOUR_BENCH_QUICK=1) runs only the small RTSTRUCT and Slicer-path cases.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_autoseg  # noqa: E402
import bench_autoseg_eval  # noqa: E402
import bench_compare  # noqa: E402
import bench_ct_loader  # noqa: E402
import bench_deid  # noqa: E402
import bench_naming  # noqa: E402
import bench_node  # noqa: E402
import bench_queue  # noqa: E402
import bench_rtstruct  # noqa: E402
import bench_slicer_path  # noqa: E402
import bench_startup  # noqa: E402

CACHE = HERE.parents[2] / "bench_output"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    CACHE.mkdir(exist_ok=True)
    results = [bench_ct_loader.run(CACHE)]
    print(f"{'benchmark':<28} {'ours (s)':>9} {'peer (s)':>9} {'ratio':>7} {'goal':>8}  met")
    for r in results:
        print(f"{r['benchmark']:<28} {r['oarcontour_s']:>9} {r['simpleitk_s']:>9} {r['ratio']:>7} {r['goal']:>8}  "
              f"{'yes' if r['met'] else 'NO'}", flush=True)
    rtstruct = bench_rtstruct.run(CACHE, quick=True if "--quick" in argv else None)
    bench_rtstruct.print_tables(rtstruct)
    (CACHE / "rtstruct_results.json").write_text(json.dumps(rtstruct, indent=2, default=str) + "\n")
    naming = bench_naming.run(CACHE)
    bench_naming.print_table(naming)
    (CACHE / "naming_results.json").write_text(json.dumps(naming, indent=2, default=str) + "\n")
    startup = bench_startup.run(CACHE)
    bench_startup.print_table(startup)
    (CACHE / "startup_results.json").write_text(json.dumps(startup, indent=2, default=str) + "\n")
    slicer_path = bench_slicer_path.run(CACHE, quick=True if "--quick" in argv else None)
    bench_slicer_path.print_table(slicer_path)
    (CACHE / "slicer_path_results.json").write_text(json.dumps(slicer_path, indent=2, default=str) + "\n")
    autoseg = bench_autoseg.run(CACHE)
    bench_autoseg.print_table(autoseg)
    (CACHE / "autoseg_results.json").write_text(json.dumps(autoseg, indent=2, default=str) + "\n")
    evaluation = bench_autoseg_eval.run()
    bench_autoseg_eval.print_table(evaluation)
    (CACHE / "autoseg_evaluation.json").write_text(json.dumps(evaluation, indent=2, default=str) + "\n")
    comparison = bench_compare.run(CACHE)
    bench_compare.print_table(comparison)
    (CACHE / "compare_results.json").write_text(json.dumps(comparison, indent=2, default=str) + "\n")
    node = bench_node.run(CACHE)
    bench_node.print_table(node)
    (CACHE / "node_results.json").write_text(json.dumps(node, indent=2, default=str) + "\n")
    queue = bench_queue.run(CACHE)
    bench_queue.print_table(queue)
    (CACHE / "queue_results.json").write_text(json.dumps(queue, indent=2, default=str) + "\n")
    deid = bench_deid.run(CACHE)
    bench_deid.print_table(deid)
    (CACHE / "deid_results.json").write_text(json.dumps(deid, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
