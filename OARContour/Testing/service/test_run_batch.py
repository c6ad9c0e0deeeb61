"""`oarcontour run`: the node's pipeline and ledger on files, resumable, with a summary table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from service.conftest import oarcontour, write_config


def test_run_contours_every_series_and_skips_finished_ones(small_phantom, tmp_path: Path):
    from OARContourLib.phantom import write_phantom

    tree = tmp_path / "patients"
    shutil.copytree(small_phantom.ct_dir, tree / "a" / "ct")
    write_phantom(tree / "b", seed=11, rows=64, columns=64, slices=16, pixel_spacing_mm=8.0, slice_spacing_mm=10.0)
    broken = tree / "c"
    shutil.copytree(small_phantom.ct_dir, broken)
    for path in broken.iterdir():  # a third series: same slices under a new Series UID, one missing
        import pydicom

        ds = pydicom.dcmread(path)
        ds.SeriesInstanceUID = "1.2.826.0.1.3680043.10.1234.99"
        ds.SOPInstanceUID = ds.SOPInstanceUID + ".9"
        ds.save_as(path)
    sorted(broken.iterdir(), key=lambda p: float(pydicom.dcmread(p).ImagePositionPatient[2]))[7].unlink()
    config = write_config(tmp_path / "node.toml", port=11112, destination_port=4242)
    out = tmp_path / "out"

    first = oarcontour("run", str(tree), "--config", str(config), "--out", str(out), "--json")
    assert first.returncode == 1, first.stderr  # one series failed its checks
    rows = json.loads(first.stdout)["series"]
    assert sorted(r["state"] for r in rows) == ["approved", "approved", "failed"]
    assert not any(r["skipped"] for r in rows)
    written = sorted(p.name for p in out.iterdir())
    assert len([n for n in written if n.endswith(".dcm")]) == 2 and len([n for n in written if n.endswith(".html")]) == 2
    failed = next(r for r in rows if r["state"] == "failed")
    assert "MISSING_SLICE" in failed["reason"]

    second = oarcontour("run", str(tree), "--config", str(config), "--out", str(out))
    assert second.returncode == 1
    assert second.stdout.count("(skipped)") == 3 and "JOB" in second.stdout.splitlines()[0]
    listed = json.loads(oarcontour("jobs", "list", "--config", str(config), "--json").stdout)
    assert len(listed) == 3 and {j["state"] for j in listed} == {"approved", "failed"}
    assert sorted(j["instances"] for j in listed) == [15, 16, 16]


def test_run_refuses_an_output_folder_inside_the_ct_tree(small_phantom, tmp_path: Path):
    tree = tmp_path / "patients"
    shutil.copytree(small_phantom.ct_dir, tree / "a" / "ct")
    before = sorted(p.relative_to(tree) for p in tree.rglob("*"))
    config = write_config(tmp_path / "node.toml", port=11112, destination_port=4242)

    result = oarcontour("run", str(tree), "--config", str(config), "--out", str(tree / "a" / "rs"))

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "inside the input" in result.stderr
    assert sorted(p.relative_to(tree) for p in tree.rglob("*")) == before  # nothing created in the inputs
