"""``oarcontour demo`` (what ``make demo`` runs): every step produces its output."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
from OARContourLib.cli.main import main


def test_demo_runs_the_whole_job_and_refuses_to_overwrite(tmp_path: Path, capsys) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    steps = [s["step"].split(" (")[0].split(",")[0] for s in summary["steps"]]
    assert steps == ["phantom", "inspect", "load", "auto-contour", "derive PRV", "export + verify RTSTRUCT"]
    assert summary["ct_dimensions_ijk"] == [512, 512, 120] and summary["problems"] == []
    assert all(Path(s["output"]).exists() for s in summary["steps"])
    assert summary["dice_vs_truth"]["Body"] >= 0.97 and summary["dice_vs_truth"]["SpinalCanal"] >= 0.85
    assert min(summary["dice_vs_truth"][n] for n in ("Lung_L", "Lung_R")) >= 0.95
    assert summary["not_tg263"] == [] and "SpinalCanal_PRV5" in summary["structures"]  # 17 characters: TG-263 drops a digit
    rtstruct = pydicom.dcmread(out / "RS_phantom.dcm")
    assert {r.ROIName for r in rtstruct.StructureSetROISequence} == set(summary["structures"])
    verification = json.loads((out / "RS_phantom.verify.json").read_text())
    assert verification["findings"] == [] and min(verification["dice"].values()) == 1.0
    assert main(["demo", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
