"""Benchmark: the file round trip of issue 16 on a 512×512×150 CT (the node benchmark's phantom).

``deidentify`` of the CT folder, then ``reidentify`` of an RTSTRUCT our exporter drew on the
de-identified copy (the phantom's truth structures), onto the original CT, including the
verification with round-trip Dice. Goals: each < 10 s on 2 cores, so the gateway adds seconds, not
minutes, to a job.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import SimpleITK as sitk
from OARContourLib.ct.load import load_ct
from OARContourLib.deid.files import deidentify_folder, reidentify_file
from OARContourLib.phantom import write_phantom
from OARContourLib.rtstruct.model import RoiType, Structure
from OARContourLib.rtstruct.write import write_rtstruct

HERE = Path(__file__).resolve().parent

GOAL_S = 10.0


def run(cache: Path) -> dict[str, object]:
    case = cache / "thorax_512x512x150"
    if not (case / "phantom.json").is_file():
        write_phantom(case, slices=150, slice_spacing_mm=2.4, seed=5, overwrite=True)
    work = cache / "deid_bench"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    started = time.perf_counter()
    report = deidentify_folder(case / "ct", work / "deid", work / "map.sqlite")
    deidentify_s = time.perf_counter() - started
    structures = [Structure(p.name.split(".")[0], sitk.GetArrayFromImage(sitk.ReadImage(str(p))).astype(bool),
                            roi_type=RoiType.EXTERNAL if p.name.startswith("Body") else RoiType.ORGAN)
                  for p in sorted((case / "truth").glob("*.nii.gz"))]
    write_rtstruct(work / "service.dcm", load_ct(work / "deid"), structures)
    started = time.perf_counter()
    result = reidentify_file(work / "service.dcm", work / "map.sqlite", case / "ct", work / "back.dcm",
                             deid_ct_dir=work / "deid")
    reidentify_s = time.perf_counter() - started
    return {"benchmark": "deid_round_trip_512x512x150", "instances": report.instances,
            "deidentify_s": round(deidentify_s, 2), "reidentify_s": round(reidentify_s, 2),
            "uids_mapped": result.uids_mapped, "rois": len(structures),
            "met": deidentify_s < GOAL_S and reidentify_s < GOAL_S}


def print_table(row: dict[str, object]) -> None:
    print(f"\n{'De-identification round trip, 512x512x150':<50} {'seconds':>9} {'goal':>8}")
    print(f"{'deidentify (' + str(row['instances']) + ' CT instances)':<50} {row['deidentify_s']:>9} {'< ' + str(GOAL_S):>8}")
    print(f"{'reidentify + verify + Dice (' + str(row['rois']) + ' ROIs, ' + str(row['uids_mapped']) + ' UIDs)':<50} "
          f"{row['reidentify_s']:>9} {'< ' + str(GOAL_S):>8}  {'met' if row['met'] else 'NOT met'}")


if __name__ == "__main__":
    cache = HERE.parents[2] / "bench_output"
    cache.mkdir(exist_ok=True)
    print_table(run(cache))
