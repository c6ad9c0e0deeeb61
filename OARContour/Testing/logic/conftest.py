"""Fixtures for Logic tests on real MRML (the slicer-core wheel): a fresh scene per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from OARContourLib import headless
from OARContourLib.ct.load import REFERENCE_KEYWORDS
from OARContourLib.ct.model import CTVolume, ImageGeometry, SeriesReference, SliceReference

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
UID_ROOT = "1.2.826.0.1.3680043.10.1234"  # test-only UIDs, never seen in clinical data


@pytest.fixture()
def context() -> Iterator[headless.HeadlessContext]:
    """A fresh headless context; closed after the test."""
    ctx = headless.setup()
    yield ctx
    headless.teardown()


@pytest.fixture()
def scene(context: headless.HeadlessContext) -> Any:
    """A fresh ``vtkMRMLScene``, published as ``slicer.mrmlScene``."""
    return context.scene


@pytest.fixture()
def logic(scene: Any) -> Any:
    from OARContourLib.logic import OARContourLogic

    return OARContourLogic()


def rotated_geometry(shape_kji: tuple[int, int, int]) -> ImageGeometry:
    """An oblique grid: 30° about the patient's superior axis, anisotropic voxels, off-centre origin."""
    angle = np.deg2rad(30.0)
    row = (float(np.cos(angle)), float(np.sin(angle)), 0.0)  # i axis
    column = (float(-np.sin(angle)), float(np.cos(angle)), 0.0)  # j axis
    normal = (0.0, 0.0, 1.0)  # k axis
    return ImageGeometry(
        shape=shape_kji,
        spacing_mm=(0.8, 0.9, 2.5),
        origin_lps=(-120.5, -80.25, 42.0),
        direction=tuple(zip(row, column, normal, strict=True)),  # unit vectors as columns
    )


def make_reference(
    *,
    study: str = "1",
    series: str = "1",
    patient_id: str = "OARC-TEST-001",
    series_description: str = "Thorax 2.5mm",
    anonymised: bool = False,
) -> SeriesReference:
    attributes = {keyword: "" for keyword in REFERENCE_KEYWORDS}
    attributes.update(
        PatientName="Test^Phantom", PatientID="" if anonymised else patient_id, PatientBirthDate="19700101",
        PatientSex="O", StudyDate="20240102", StudyTime="101500", StudyID="S42",
        StudyDescription="RT planning", AccessionNumber="ACC7", ReferringPhysicianName="Doe^Jane",
        SeriesDescription=series_description, SeriesNumber=series, PatientPosition="HFS", Manufacturer="OARContour",
    )
    if anonymised:
        return SeriesReference("", "", "", "CT", attributes)
    return SeriesReference(
        study_instance_uid=f"{UID_ROOT}.1.{study}",
        series_instance_uid=f"{UID_ROOT}.2.{study}.{series}",
        frame_of_reference_uid=f"{UID_ROOT}.3.{study}",
        modality="CT",
        attributes=attributes,
    )


def make_ct_volume(
    folder: Path,
    *,
    shape_kji: tuple[int, int, int] = (5, 6, 7),
    dtype: Any = np.int16,
    reference: SeriesReference | None = None,
    seed: int = 0,
) -> CTVolume:
    """A CTVolume built from numpy: random HU on an oblique grid, one slice reference per k."""
    reference = reference or make_reference()
    geometry = rotated_geometry(shape_kji)
    hu = np.random.default_rng(seed).integers(-1024, 3000, size=shape_kji).astype(dtype)
    ijk_to_lps = geometry.ijk_to_lps()
    slices = []
    for k in range(shape_kji[0]):
        ipp = ijk_to_lps @ np.array([0.0, 0.0, k, 1.0])
        sop_uid = f"{reference.series_instance_uid}.{k + 1}" if reference.series_instance_uid else ""
        slices.append(SliceReference(
            sop_class_uid=CT_IMAGE_STORAGE if sop_uid else "",
            sop_instance_uid=sop_uid,
            image_position_patient=(float(ipp[0]), float(ipp[1]), float(ipp[2])),
            position_along_normal_mm=float(ipp[2]),
            path=folder / f"slice {k:03d}.dcm",
        ))
    return CTVolume(hu=hu, geometry=geometry, slices=tuple(slices), reference=reference)


@pytest.fixture()
def ct_volume_factory(tmp_path: Path) -> Callable[..., CTVolume]:
    """``ct_volume_factory(**kwargs)``: see :func:`make_ct_volume`; ``reference_kwargs`` go to
    :func:`make_reference`."""

    def factory(reference_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> CTVolume:
        reference = make_reference(**(reference_kwargs or {}))
        return make_ct_volume(tmp_path, reference=reference, **kwargs)

    return factory
