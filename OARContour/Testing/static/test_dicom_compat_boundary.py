"""Every pydicom 2.4 / 3 difference goes through ``OARContourLib/dicom_compat.py``, nowhere else.

Slicer 5.10 bundles pydicom 2.4.4 and Slicer 5.12 pydicom 3.0.2. A call that exists in only one of them
(``pydicom.pixels``, ``save_as(enforce_file_format=...)``, ``dcmwrite(implicit_vr=...)``) works in one
Slicer and is a start-up or export failure in the other, so this test finds them in the source and
the tests (parsed, not grepped, so strings and comments do not count).
"""

from __future__ import annotations

import ast
from pathlib import Path

MODULE_DIR = Path(__file__).resolve().parents[2]
COMPAT = MODULE_DIR / "OARContourLib" / "dicom_compat.py"

#: Modules that exist in only one pydicom major version.
VERSION_MODULES = ("pydicom.pixels", "pydicom.pixel_data_handlers")
#: Writer keywords that exist in only one version (3.0 and 2.4 respectively).
VERSION_KEYWORDS = {"enforce_file_format", "write_like_original", "implicit_vr", "little_endian"}
#: pydicom's writers (``Dataset.save_as``, ``pydicom.dcmwrite``/``filewriter.dcmwrite``).
PYDICOM_WRITERS = {"save_as", "dcmwrite"}


def _sources() -> list[Path]:
    return sorted(p for p in MODULE_DIR.rglob("*.py") if p != COMPAT and "__pycache__" not in p.parts)


def _called_name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _version_specific_uses(tree: ast.AST) -> list[tuple[int, str]]:
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Attribute) and node.attr in ("pixels", "pixel_data_handlers", "__version__"):
            base = node.value
            names = [f"pydicom.{node.attr}"] if isinstance(base, ast.Name) and base.id == "pydicom" else []
        elif isinstance(node, ast.Call) and _called_name(node.func) in PYDICOM_WRITERS:
            names = [f"keyword {k.arg}=" for k in node.keywords if k.arg in VERSION_KEYWORDS]
        else:
            continue
        matches = [name for name in names
                   if name.startswith(VERSION_MODULES) or name == "pydicom.__version__" or name.startswith("keyword")]
        uses += [(node.lineno, matches[0])] if matches else []
    return uses


def test_the_scan_finds_what_it_looks_for() -> None:
    sample = ("import pydicom.pixels\nfrom pydicom.pixel_data_handlers import util\nfrom pydicom import pixels\n"
              "v = pydicom.__version__\nds.save_as(p, enforce_file_format=True)\n"
              "pydicom.dcmwrite(p, ds, implicit_vr=True)\nds.save_as(p, write_like_original=False)\n")
    found = _version_specific_uses(ast.parse(sample))
    assert [line for line, _ in found] == [1, 2, 3, 4, 5, 6, 7]
    assert _version_specific_uses(ast.parse(COMPAT.read_text(encoding="utf-8")))  # the one allowed home


def test_no_version_specific_pydicom_call_outside_dicom_compat() -> None:
    found = [f"{path.relative_to(MODULE_DIR)}:{line}: {name}" for path in _sources()
             for line, name in _version_specific_uses(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))]
    assert not found, ("pydicom API that differs between 2.4 (Slicer 5.10) and 3 (Slicer 5.12) outside "
                       "OARContourLib/dicom_compat.py; use save_dataset, save_without_file_meta, stored_pixels, "
                       "decoder_available or decoder_problem there, or add the difference to that module:\n"
                       + "\n".join(found))
