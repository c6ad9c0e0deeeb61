"""``load_ct(voxels=...)``: voxels already held (the Slicer volume node) stand in for the pixel data."""

from __future__ import annotations

import numpy as np
from OARContourLib.ct.load import load_ct
from OARContourLib.phantom import write_phantom


def test_voxels_of_the_grid_are_used_and_others_ignored(tmp_path) -> None:
    phantom = write_phantom(tmp_path / "p", rows=32, columns=24, slices=6, pixel_spacing_mm=8.0,
                            slice_spacing_mm=10.0, seed=1)
    decoded = load_ct(phantom.ct_dir)
    held = decoded.hu.copy()
    reused = load_ct(phantom.ct_dir, voxels=held)
    assert reused.hu is held and reused.geometry == decoded.geometry and reused.slices == decoded.slices
    wrong = np.zeros((3, 24, 32), dtype=decoded.hu.dtype)
    read_again = load_ct(phantom.ct_dir, voxels=wrong)
    assert read_again.hu is not wrong
    np.testing.assert_array_equal(read_again.hu, decoded.hu)
