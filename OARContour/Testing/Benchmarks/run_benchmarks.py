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


def _step(name: str, run, print_table, output: str) -> None:
    """Run one benchmark, print its table and keep its figures in ``bench_output/<output>``."""
    print(f"-- {name}", file=sys.stderr, flush=True)
    results = run()
    print_table(results)
    (CACHE / output).write_text(json.dumps(results, indent=2, default=str) + "\n")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    quick = True if "--quick" in argv else None
    CACHE.mkdir(exist_ok=True)
    results = [bench_ct_loader.run(CACHE)]
    print(f"{'benchmark':<28} {'ours (s)':>9} {'peer (s)':>9} {'ratio':>7} {'goal':>8}  met")
    for r in results:
        print(f"{r['benchmark']:<28} {r['oarcontour_s']:>9} {r['simpleitk_s']:>9} {r['ratio']:>7} {r['goal']:>8}  "
              f"{'yes' if r['met'] else 'NO'}", flush=True)
    # (benchmark, how to run it, its table printer, the JSON file it leaves in bench_output/), in order.
    steps = (
        ("rtstruct", lambda: bench_rtstruct.run(CACHE, quick=quick), bench_rtstruct.print_tables, "rtstruct_results.json"),
        ("naming", lambda: bench_naming.run(CACHE), bench_naming.print_table, "naming_results.json"),
        ("startup", lambda: bench_startup.run(CACHE), bench_startup.print_table, "startup_results.json"),
        ("slicer path", lambda: bench_slicer_path.run(CACHE, quick=quick), bench_slicer_path.print_table,
         "slicer_path_results.json"),
        ("autoseg", lambda: bench_autoseg.run(CACHE), bench_autoseg.print_table, "autoseg_results.json"),
        ("autoseg evaluation", bench_autoseg_eval.run, bench_autoseg_eval.print_table, "autoseg_evaluation.json"),
        ("compare", lambda: bench_compare.run(CACHE), bench_compare.print_table, "compare_results.json"),
        ("node", lambda: bench_node.run(CACHE), bench_node.print_table, "node_results.json"),
        ("queue", lambda: bench_queue.run(CACHE), bench_queue.print_table, "queue_results.json"),
        ("deid", lambda: bench_deid.run(CACHE), bench_deid.print_table, "deid_results.json"),
    )
    for name, run, print_table, output in steps:
        _step(name, run, print_table, output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
