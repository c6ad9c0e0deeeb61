"""A stand-in for TotalSegmentator's command line, run as ``[sys.executable, this_file, ...]``.

Real TotalSegmentator runs need model weights (hundreds of MB to GB, downloaded from GitHub), which
tests cannot fetch, so the runner and the engine are tested against this script. It takes the same
arguments OARContour passes (``-i -o --ml -ta -d --fast --roi_subset``), prints TotalSegmentator-like
stage lines, and writes a multilabel NIfTI on the input's grid with the label names in the same
NIfTI header extension TotalSegmentator writes (``<Label Key="n"><![CDATA[name]]></Label>``).

Label ``n`` (1-based, in the order of ``--roi_subset`` or of the task's default classes) is the box
:func:`box_kji` gives, so tests know where each structure must land.

Environment switches:

- ``FAKE_TS_MODE``: ``crash`` (traceback on stderr, exit 1), ``oom`` (SIGKILL itself), ``hang``
  (sleep until killed), ``empty`` (exit 0 without writing); anything else runs normally.
- ``FAKE_TS_RECORD``: append one JSON line ``{"argv": [...], "pid": n}`` per call to this file.
- ``FAKE_TS_CLASSES``: comma-separated class names to write instead of the defaults.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk

#: Classes written when no ``--roi_subset`` is given (a few per task; not the real class lists).
DEFAULT_CLASSES = {
    "total": ("heart", "liver", "spleen", "lung_upper_lobe_left", "lung_lower_lobe_left"),
    "head_glands_cavities": ("parotid_gland_left", "parotid_gland_right", "eye_left", "eye_right"),
}
NIFTI_HEADER_BYTES = 348


def box_kji(index: int, shape_kji: tuple[int, int, int]) -> tuple[slice, slice, slice]:
    """Voxel box of the label at 0-based ``index``: distinct i columns, same k and j ranges."""
    k, j, i = shape_kji
    start_i = (2 + 3 * index) % max(i - 2, 1)
    return slice(k // 4, k // 2 + 1), slice(j // 4, j // 4 + 4), slice(start_i, start_i + 2)


def label_xml(names: list[str]) -> bytes:
    labels = "".join(f'<Label Key="{n}" Red="1" Green="0" Blue="0" Alpha="1"><![CDATA[{name}]]></Label>\n'
                     for n, name in enumerate(names, start=1))
    return (f'<?xml version="1.0" encoding="UTF-8"?> <CaretExtension> <VolumeInformation Index="0"> '
            f'<LabelTable>{labels}</LabelTable> <VolumeType><![CDATA[Label]]></VolumeType> '
            f'</VolumeInformation></CaretExtension>').encode()


def write_multilabel(reference: sitk.Image, names: list[str], output: Path) -> None:
    """A uint8 label image on ``reference``'s grid with ``names`` in a NIfTI-1 header extension."""
    shape_kji = tuple(reversed(reference.GetSize()))
    labels = np.zeros(shape_kji, dtype=np.uint8)
    for index in range(len(names)):
        labels[box_kji(index, shape_kji)] = index + 1  # type: ignore[arg-type]
    image = sitk.GetImageFromArray(labels)
    image.CopyInformation(reference)
    with tempfile.TemporaryDirectory() as folder:
        plain = Path(folder) / "labels.nii"
        sitk.WriteImage(image, str(plain))
        data = plain.read_bytes()
    vox_offset = int(struct.unpack("<f", data[108:112])[0])
    content = label_xml(names)
    size = 8 + len(content) + (-(8 + len(content)) % 16)  # esize counts its 8-byte header; multiple of 16
    extension = struct.pack("<ii", size, 0) + content.ljust(size - 8, b"\0")
    header = bytearray(data[:NIFTI_HEADER_BYTES])
    header[108:112] = struct.pack("<f", float(NIFTI_HEADER_BYTES + 4 + size))
    output.write_bytes(gzip.compress(bytes(header) + b"\1\0\0\0" + extension + data[vox_offset:]))


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="TotalSegmentator (fake)")
    parser.add_argument("-i", dest="input", required=True)
    parser.add_argument("-o", dest="output", required=True)
    parser.add_argument("-ml", "--ml", action="store_true")
    parser.add_argument("-ta", "--task", default="total")
    parser.add_argument("-d", "--device", default="gpu")
    parser.add_argument("-f", "--fast", action="store_true")
    parser.add_argument("-rs", "--roi_subset", nargs="+")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    record = os.environ.get("FAKE_TS_RECORD")
    if record:
        with open(record, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"argv": argv, "pid": os.getpid()}) + "\n")
    mode = os.environ.get("FAKE_TS_MODE", "")
    print("If you use this tool please cite: (fake TotalSegmentator for tests)", flush=True)
    print("Resampling...", flush=True)
    if mode == "crash":
        print("Predicting...", flush=True)
        print("Traceback (most recent call last):\n  File \"nnunet.py\", line 1, in predict\n"
              "RuntimeError: fake TotalSegmentator crash", file=sys.stderr, flush=True)
        return 1
    if mode == "oom":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "hang":
        while True:
            time.sleep(1)
    print("Predicting...", flush=True)
    sys.stderr.write("\r 50%|#####     | 1/2\r100%|##########| 2/2\n")
    print("Saving segmentations...", flush=True)
    if mode == "empty":
        return 0
    override = os.environ.get("FAKE_TS_CLASSES")
    names = (override.split(",") if override else list(args.roi_subset or DEFAULT_CLASSES.get(args.task, ())))
    write_multilabel(sitk.ReadImage(args.input), names, Path(args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
