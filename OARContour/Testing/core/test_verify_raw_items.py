"""The verifier's raw reading of still-encoded sequences gives what pydicom's Datasets give."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from OARContourLib.ct.load import load_ct
from OARContourLib.phantom import write_phantom
from OARContourLib.rtstruct.model import ExportOptions, Structure
from OARContourLib.rtstruct.profiles import load_profile
from OARContourLib.rtstruct.raw_items import raw_items
from OARContourLib.rtstruct.rules import VerificationContext
from OARContourLib.rtstruct.rules.elements import walk
from OARContourLib.rtstruct.rules.geometry import _distinct_up_to
from OARContourLib.rtstruct.write import write_rtstruct


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("raw")
    phantom = write_phantom(root / "p", rows=48, columns=40, slices=8, pixel_spacing_mm=7.0, slice_spacing_mm=9.0,
                            seed=4)
    ct = load_ct(phantom.ct_dir)
    mask = np.zeros(ct.hu.shape, dtype=bool)
    mask[1:6, 10:30, 5:20] = True
    mask[3, 15:20, 8:12] = False  # a hole
    write_rtstruct(root / "rs.dcm", ct, [Structure("Organ", mask), Structure("Dot", np.roll(mask, 7, axis=2))],
                   ExportOptions())
    return root / "rs.dcm", ct


def _converted(path) -> pydicom.Dataset:
    """The file read by pydicom with every ContourImageSequence turned into Datasets."""
    dataset = pydicom.dcmread(path)
    for roi in dataset.ROIContourSequence:
        for contour in roi.ContourSequence:
            assert len(contour.ContourImageSequence) == 1
    return dataset


def test_walk_and_image_uids_equal_the_pydicom_reading(written) -> None:
    path, ct = written
    raw, converted = pydicom.dcmread(path), _converted(path)
    first = raw.ROIContourSequence[0].ContourSequence[0]
    assert raw_items(first.get_item(0x30060016)) is not None  # the fast path is really taken
    assert list(walk(raw)) == list(walk(converted))
    profile = load_profile("generic")
    fast, slow = VerificationContext(raw, ct, profile), VerificationContext(converted, ct, profile)
    assert [c.image_uids for c in fast.contours] == [c.image_uids for c in slow.contours]
    assert all(len(c.image_uids or ()) == 1 and c.image_uids[0][1] for c in fast.contours)


def test_sequences_it_cannot_read_are_left_to_pydicom(written) -> None:
    path, _ = written
    dataset = pydicom.dcmread(path)
    roi_contours = dataset.get_item(0x30060039)
    assert raw_items(roi_contours) is not None  # ROIContourSequence: items holding sequences are read too
    cut = roi_contours._replace(value=roi_contours.value[:-40])  # the last item's value runs past its end
    assert raw_items(cut) is None
    assert raw_items(roi_contours._replace(value=None)) is None  # a deferred value: pydicom must read it
    assert raw_items(roi_contours._replace(value=None, length=0)) == []  # an empty sequence
    contour_images = dataset.ROIContourSequence[0].ContourSequence[0].get_item(0x30060016)
    assert raw_items(contour_images._replace(is_implicit_VR=True)) is None
    assert raw_items(contour_images._replace(is_little_endian=False)) is None
    assert raw_items(dataset.ROIContourSequence[0].ContourSequence[0].ContourImageSequence) is None  # converted


@pytest.mark.parametrize("seed", range(8))
def test_distinct_point_count_matches_numpy_unique(seed: int) -> None:
    rng = np.random.default_rng(seed)
    points = rng.integers(0, 3, size=(int(rng.integers(0, 7)), 3)).astype(float)
    assert _distinct_up_to(points, 3) == min(len(np.unique(points, axis=0)), 3)
