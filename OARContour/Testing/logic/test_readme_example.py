"""The README's console-scripting example runs as printed (headless, on the phantom).

The example is taken from README.md itself, so an edited README that no longer works fails here.
Only the paths change, and ``import OARContour`` (the Slicer module, which needs Qt) becomes the
library package that holds the same Logic.
"""

from __future__ import annotations

import re
from pathlib import Path

import pydicom
import pytest
from OARContourLib.phantom import write_phantom

README = Path(__file__).resolve().parents[3] / "README.md"


def console_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Scripting"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory):
    return write_phantom(tmp_path_factory.mktemp("readme_phantom"), rows=192, columns=192, pixel_spacing_mm=2.6, slices=40,
                         slice_spacing_mm=6.0)


def test_readme_console_example_runs(scene, phantom, tmp_path: Path) -> None:
    code = console_example()
    assert "logic.exportRTSTRUCT" in code and "logic.autoSegment" in code
    code = (code.replace("import OARContour\n", "import OARContourLib as OARContour\n")
                .replace("/path/to/CT_folder", str(phantom.ct_dir))
                .replace("/path/to/out", str(tmp_path)))
    namespace: dict = {}
    exec(compile(code, "README.md (Scripting)", "exec"), namespace)  # noqa: S102 - our own README
    result = namespace["result"]
    assert not result.verification.has_errors
    assert (tmp_path / "review.html").is_file() and result.verification_path.is_file()
    names = {roi.ROIName for roi in pydicom.dcmread(result.path).StructureSetROISequence}
    assert {"Body", "Lung_L", "Lung_R", "SpinalCanal", "SpinalCanal_PRV5"} <= names
    assert any(name.startswith("Trachea_PRV") for name in names)
    assert namespace["rows"] and all(row.suggested_name for row in namespace["rows"])
    comparison = namespace["comparison"]
    assert len(comparison.pairs) == len(names) and all(p.metrics.dice == 1.0 for p in comparison.pairs)
