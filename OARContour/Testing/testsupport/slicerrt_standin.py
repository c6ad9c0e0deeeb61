"""Files like SlicerRT's RTSTRUCT export, made by plastimatch (PyPI) for tests outside Slicer.

SlicerRT hands the CT and each segment's labelmap to Plastimatch's ``Rt_study::save_dicom``;
``plastimatch convert --input <ct> --input-prefix <masks> --output-dicom <dir>`` runs the same
writer. It writes the same kind of output: a new CT series with new Series, SOP Instance and Frame
of Reference UIDs, and an RTSTRUCT referencing that copy with empty ROI types, Manufacturer
"Plastimatch" and label "AutoSS". Tests check these properties rather than assume them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from .validators import tool


def plastimatch_rt_study(ct_dir: Path, masks: Mapping[str, np.ndarray], out_dir: Path) -> Path:
    """Write ``ct_dir``'s series and ``masks`` ((k, j, i) bool on its grid) as a new CT + RTSTRUCT in ``out_dir``."""
    work = out_dir.parent / f"{out_dir.name}-input"
    (work / "masks").mkdir(parents=True)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(ct_dir)))
    ct = reader.Execute()
    sitk.WriteImage(ct, str(work / "ct.nrrd"))
    for name, mask in masks.items():
        image = sitk.GetImageFromArray(np.asarray(mask, dtype=np.uint8))
        image.CopyInformation(ct)
        sitk.WriteImage(image, str(work / "masks" / f"{name}.nrrd"))
    subprocess.run([tool("plastimatch"), "convert", "--input", str(work / "ct.nrrd"), "--input-prefix",
                    str(work / "masks"), "--output-dicom", str(out_dir)], check=True, capture_output=True, text=True)
    return out_dir


def rtstruct_in(folder: Path) -> Path:
    """The one ``rtss_*.dcm`` plastimatch wrote into ``folder``."""
    (path,) = folder.glob("rtss_*.dcm")
    return path
