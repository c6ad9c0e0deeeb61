"""Benchmark: the Slicer path (the Logic on real MRML, headless slicer-core) with many structures.

Cases: the anatomical phantom CT (512×512, DICOM on disk) with its body split into TotalSegmentator
"total" classes (parcels of a grid inside the body: a 117-class label image, like TotalSegmentator's
``--ml`` output, written as NIfTI with a ``label,name`` table), and a segmentation node holding the
parcels plus overlapping structures (Body, a union of parcels, a slab across many), so segments are
stored the way Slicer stores them: non-overlapping ones share a labelmap layer.

Each case runs in its own process (wall time per step; peak RSS of that process after each step,
``ru_maxrss`` read in the process itself, which starts small):

- TotalSegmentator label image → segmentation node (``import_totalsegmentator_output`` + the Logic's
  node writer);
- ``exportRTSTRUCT`` (builtin writer, round-trip verification included, CT re-read from its files);
- ``check`` (QA), ``deriveStructures`` (one 5 mm PRV), ``writeReport`` (the HTML review page: reads
  the RTSTRUCT back, verifies and checks it, draws the views from the ROIs' blocks).

Goals (issue 10): 117 segments on 512×512×300 exported and verified in < 5 s with peak < 3 GB on
2 cores; the 117-class import < 5 s; the review report < 5 s with the run's peak < 1.2 GB. Run
alone: ``python bench_slicer_path.py [--quick]``.
"""

from __future__ import annotations

import csv
import json
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

GOAL_EXPORT_S = 5.0
GOAL_PEAK_MB = 3072.0
GOAL_IMPORT_S = 5.0
GOAL_REPORT_S = 5.0
GOAL_REPORT_PEAK_MB = 1200.0
GENERATOR_VERSION = 1
OVERLAPPING = 3  # Body, a union of three parcels, a slab across the body


@dataclass(frozen=True)
class SlicerCase:
    name: str
    slices: int
    slice_spacing_mm: float
    segments: int
    seed: int


CASES = (
    SlicerCase("slicer_512x512x120_60", 120, 2.5, 60, 120),
    SlicerCase("slicer_512x512x300_117", 300, 1.0, 117, 300),
)


# --------------------------------------------------------------------------------------------- case files

def ensure_case(cache: Path, case: SlicerCase) -> Path:
    """Phantom CT, label image (``labels.nii.gz`` + ``labels.csv``): generated once, then reused."""
    root = cache / case.name
    manifest = root / "case.json"
    if manifest.is_file() and json.loads(manifest.read_text()).get("generator_version") == GENERATOR_VERSION:
        return root
    import SimpleITK as sitk
    from OARContourLib.phantom import write_phantom

    phantom = write_phantom(root / "phantom", slices=case.slices, slice_spacing_mm=case.slice_spacing_mm,
                            seed=case.seed, overwrite=True)
    body_image = sitk.ReadImage(str(phantom.truth_files["Body"]))
    body = sitk.GetArrayFromImage(body_image) > 0
    classes = _ts_classes(117)
    labels = parcels(body, len(classes))
    image = sitk.GetImageFromArray(labels)
    image.CopyInformation(body_image)
    sitk.WriteImage(image, str(root / "labels.nii.gz"))
    with (root / "labels.csv").open("w", newline="", encoding="utf-8") as table:
        writer = csv.writer(table)
        writer.writerow(["label", "name"])
        writer.writerows((n, name) for n, name in enumerate(classes, start=1))
    manifest.write_text(json.dumps({"generator_version": GENERATOR_VERSION, "classes": len(classes)}) + "\n")
    return root


def _ts_classes(count: int) -> list[str]:
    """The first ``count`` single classes of TotalSegmentator's ``total`` task, from our mapping table."""
    from OARContourLib.naming.tables import load_tables

    names = [m.ts_class for m in load_tables().ts_map if m.ts_task == "total" and "+" not in m.ts_class]
    return list(dict.fromkeys(names))[:count]


def parcels(body: np.ndarray, count: int) -> np.ndarray:
    """Label image: the body's bounding box cut into a grid of cells, cells inside the body labelled 1..count."""
    k, j, i = (np.flatnonzero(body.any(axis=axes)) for axes in ((1, 2), (0, 2), (0, 1)))
    side = int(np.ceil(count ** (1 / 3))) + 1
    edges = [np.linspace(a[0], a[-1] + 1, side + 1).astype(int) for a in (k, j, i)]
    cell = [np.clip(np.searchsorted(e, np.arange(n), side="right") - 1, 0, side - 1)
            for e, n in zip(edges, body.shape)]
    index = (cell[0][:, None, None] * side + cell[1][None, :, None]) * side + cell[2][None, None, :]
    present = np.unique(index[body])
    lookup = np.zeros(side ** 3, dtype=np.uint8)
    lookup[present[:count]] = np.arange(1, min(count, len(present)) + 1, dtype=np.uint8)
    return np.where(body, lookup[index], np.uint8(0))


# --------------------------------------------------------------------------------------------- driver

def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _structures(labels: np.ndarray, segments: int) -> list:
    """Parcels as blocks (shared layers when written), plus overlapping Body, union and slab."""
    from OARContourLib.mask_block import crop
    from OARContourLib.rtstruct.model import RoiType, Structure
    from scipy import ndimage

    boxes = ndimage.find_objects(labels)
    count = segments - OVERLAPPING
    out = []
    for value in range(1, count + 1):
        box = boxes[value - 1]
        out.append(Structure(f"Parcel_{value:03d}", np.ascontiguousarray(labels[box] == value),
                             tuple(s.start for s in box), color=(40 + value % 200, 120, 200)))  # type: ignore[arg-type]
    out.append(Structure("Body", *crop(labels > 0), roi_type=RoiType.EXTERNAL, color=(0, 200, 0)))
    union = np.isin(labels, [1, 2, 3])
    out.append(Structure("Parcels_1to3", *crop(union), color=(250, 10, 10)))
    slab = np.zeros(labels.shape, dtype=bool)
    slab[labels.shape[0] // 3: labels.shape[0] // 2] = labels[labels.shape[0] // 3: labels.shape[0] // 2] > 0
    out.append(Structure("Slab", *crop(slab), color=(10, 10, 250)))
    del union, slab
    return out


def driver(case_root: str, segments: str, out_json: str) -> None:
    """In a fresh process: load the CT, then time each Logic step; peak RSS after each."""
    import SimpleITK as sitk
    from OARContourLib import headless
    from OARContourLib.autoseg import import_totalsegmentator_output
    from OARContourLib.logic import OARContourLogic, segmentation_nodes

    root = Path(case_root)
    steps: dict[str, dict[str, float]] = {}

    def step(name: str, started: float) -> None:
        steps[name] = {"s": round(time.perf_counter() - started, 3), "peak_mb": round(_peak_mb())}

    context = headless.setup()
    logic = OARContourLogic()
    started = time.perf_counter()
    ct_node = logic.loadCT(root / "phantom" / "ct")
    step("load_ct", started)
    geometry = logic._ct_volume(ct_node).geometry
    started = time.perf_counter()
    result = import_totalsegmentator_output(root / "labels.nii.gz", SimpleNamespace(geometry=geometry),  # type: ignore[arg-type]
                                            label_map=root / "labels.csv")
    ts_node = segmentation_nodes.create_segmentation_node(context.scene, ct_node, result.structures, "TS")
    step("ts_import", started)
    ts_info = {"ts_structures": len(result.structures), "ts_layers": ts_node.GetSegmentation().GetNumberOfLayers()}
    context.scene.RemoveNode(ts_node)
    del result, ts_node
    labels = sitk.GetArrayFromImage(sitk.ReadImage(str(root / "labels.nii.gz")))
    structures = _structures(labels, int(segments))
    del labels
    started = time.perf_counter()
    seg_node = segmentation_nodes.create_segmentation_node(context.scene, ct_node, structures, "OARs")
    step("node_from_blocks", started)
    del structures
    started = time.perf_counter()
    exported = logic.exportRTSTRUCT(seg_node, ct_node, root / "out", overwrite=True)
    step("export_verify", started)
    started = time.perf_counter()
    findings = logic.check(seg_node, ct_node)
    step("check", started)
    started = time.perf_counter()
    logic.deriveStructures(seg_node, ct_node, ["Parcel_001:5"])
    step("derive_prv", started)
    started = time.perf_counter()
    logic.writeReport(exported.path, ct_node, root / "out" / "report.html", overwrite=True)
    step("report", started)
    Path(out_json).write_text(json.dumps({
        "segments": seg_node.GetSegmentation().GetNumberOfSegments() - 1,
        "layers": seg_node.GetSegmentation().GetNumberOfLayers(), **ts_info,
        "rois_written": sum(r.written for r in exported.export.rois), "verify_errors": exported.verification.has_errors,
        "min_dice": min(exported.verification.dice.values()), "check_findings": len(findings), "steps": steps}))


# --------------------------------------------------------------------------------------------- running

def run(cache: Path, quick: bool | None = None) -> list[dict[str, object]]:
    """Both cases (only the 120-slice one with ``quick`` / OARCONTOUR_BENCH_QUICK=1), each in a subprocess."""
    from bench_rtstruct import measure

    if quick is None:
        quick = os.environ.get("OARCONTOUR_BENCH_QUICK", "") not in ("", "0")
    rows: list[dict[str, object]] = []
    for case in CASES[:1] if quick else CASES:
        root = ensure_case(cache / "slicer_path", case)
        (root / "out").mkdir(exist_ok=True)
        out = root / "result.json"
        out.unlink(missing_ok=True)
        result = measure([sys.executable, __file__, "--driver", str(root), str(case.segments), str(out)],
                         root / "driver.log")
        row: dict[str, object] = {"case": case.name, "wall_s": round(float(result["wall_s"]), 2),  # type: ignore[arg-type]
                                  "process_peak_mb": round(float(result["peak_mb"]))}  # type: ignore[arg-type]
        if result["rc"] != 0 or not out.is_file():
            row["error"] = (root / "driver.log").read_text(errors="replace")[-1500:]
        else:
            row.update(json.loads(out.read_text()))
        rows.append(row)
    return rows


def print_table(rows: list[dict[str, object]]) -> None:
    for row in rows:
        print(f"\nSlicer path (Logic on headless MRML), {row['case']}")
        if row.get("error"):
            print(f"  FAILED {row['error']}")
            continue
        steps: dict = row["steps"]  # type: ignore[assignment]
        print(f"  {row['segments']} segments in {row['layers']} labelmap layers; TS import: "
              f"{row['ts_structures']} structures in {row['ts_layers']} layers; min round-trip Dice "
              f"{float(row['min_dice']):.4f}; verification errors: {row['verify_errors']}")
        print(f"  {'step':<22} {'s':>7} {'peak MB so far':>15}")
        for name, value in steps.items():
            print(f"  {name:<22} {value['s']:>7.2f} {value['peak_mb']:>15}")
        if row["case"] == CASES[-1].name:
            export, ts = steps["export_verify"], steps["ts_import"]
            print(f"  goals: exportRTSTRUCT+verify < {GOAL_EXPORT_S} s: {'yes' if export['s'] < GOAL_EXPORT_S else 'NO'}"
                  f" ({export['s']:.2f}); peak < {GOAL_PEAK_MB:.0f} MB: "
                  f"{'yes' if export['peak_mb'] < GOAL_PEAK_MB else 'NO'} ({export['peak_mb']}); "
                  f"TS import < {GOAL_IMPORT_S} s: {'yes' if ts['s'] < GOAL_IMPORT_S else 'NO'} ({ts['s']:.2f})")
            page = steps["report"]
            print(f"  report < {GOAL_REPORT_S} s: {'yes' if page['s'] < GOAL_REPORT_S else 'NO'} ({page['s']:.2f}); "
                  f"peak < {GOAL_REPORT_PEAK_MB:.0f} MB: {'yes' if page['peak_mb'] < GOAL_REPORT_PEAK_MB else 'NO'} "
                  f"({page['peak_mb']})")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--driver"]:
        driver(*argv[1:])
        return 0
    cache = HERE.parents[2] / "bench_output"
    cache.mkdir(exist_ok=True)
    rows = run(cache, quick=True if "--quick" in argv else None)
    print_table(rows)
    (cache / "slicer_path_results.json").write_text(json.dumps(rows, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
