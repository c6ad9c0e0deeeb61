"""Shared fixtures: paths to ../shared test data beside the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
SHARED_DATA = SHARED / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"../shared/data not found beside the checkout (looked in {SHARED_DATA})")
    return SHARED_DATA


SMALL_PHANTOM = dict(rows=64, columns=64, slices=16, pixel_spacing_mm=8.0, slice_spacing_mm=10.0)


@pytest.fixture(scope="session")
def small_phantom(tmp_path_factory: pytest.TempPathFactory):
    """A 64×64×16 thorax phantom (HFS), written once; tests copy ``ct_dir`` before editing anything."""
    from OARContourLib.phantom import write_phantom

    return write_phantom(tmp_path_factory.mktemp("phantom") / "ct", seed=7, **SMALL_PHANTOM)


@pytest.fixture()
def small_ct_copy(small_phantom, tmp_path: Path) -> Path:
    from testsupport.series_factory import copy_series

    return copy_series(small_phantom.ct_dir, tmp_path / "ct")


#: Suites that need the service extra (pynetdicom 3 and so pydicom 3, dicognito, celery, Orthanc, Redis).
SERVICE_TESTS = tuple(Path(__file__).resolve().parent / name for name in ("service", "deid"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests under Testing/service/ and Testing/deid/ need the service extra: mark them so pinned runs leave them out."""
    for item in items:
        parents = Path(str(item.fspath)).resolve().parents
        if any(folder in parents for folder in SERVICE_TESTS):
            item.add_marker(pytest.mark.service)
