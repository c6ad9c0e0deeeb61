"""``oarcontour demo`` (what ``make demo`` runs): the whole workflow through the Logic, every step leaving its output."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
from OARContourLib.cli.main import main

STEPS = ["phantom", "inspect", "load", "auto-contour", "names", "derive PRV", "check", "export + verify RTSTRUCT",
         "review report"]


def test_demo_runs_the_whole_job_and_refuses_to_overwrite(tmp_path: Path, capsys) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [s["step"].split(" (")[0].split(",")[0] for s in summary["steps"]] == STEPS
    assert summary["ct_dimensions_ijk"] == [512, 512, 120] and summary["problems"] == []
    assert all(Path(s["output"]).exists() for s in summary["steps"])
    assert summary["dice_vs_truth"]["Body"] >= 0.97 and summary["dice_vs_truth"]["SpinalCanal"] >= 0.85
    assert min(summary["dice_vs_truth"][n] for n in ("Lung_L", "Lung_R")) >= 0.95
    # The hand-drawn segments typed as clinicians do get their TG-263 names.
    assert {(r["old_name"], r["new_name"]) for r in summary["renames"]} == {
        ("heart", "Heart"), ("Oesophagus", "Esophagus"), ("Spinal Cord", "SpinalCord")}
    rtstruct = pydicom.dcmread(summary["rtstruct"])
    names = {r.ROIName for r in rtstruct.StructureSetROISequence}
    assert names == set(summary["structures"])
    assert {"Heart", "Esophagus", "SpinalCord", "SpinalCanal_PRV5", "Body", "Lung_L"} <= names
    assert "heart" not in names and "Spinal Cord" not in names
    assert all(f["severity"] != "error" for f in summary["check"])
    verification = json.loads(Path(summary["verification"]).read_text())
    assert verification["findings"] == [] and min(verification["dice"].values()) == 1.0
    page = Path(summary["report"]).read_text(encoding="utf-8")
    assert all(name in page for name in names)
    assert main(["demo", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
