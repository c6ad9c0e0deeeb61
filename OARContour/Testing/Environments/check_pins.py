"""Check that this interpreter has exactly the package versions a Slicer environment file pins.

Usage: ``python check_pins.py slicer-5.10.txt`` prints each pinned package with the version installed
here and exits 1 when any differs or is missing, so a pinned test run cannot silently use other
versions. Run by ``make test-slicer510`` / ``make test-slicer512`` before the suites.
"""

from __future__ import annotations

import platform
import re
import sys
from importlib import metadata
from pathlib import Path

_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)")


def read_pins(path: Path) -> dict[str, str]:
    """``{package: version}`` for every ``name==version`` line of a pip requirements/constraints file."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            pins[match.group(1)] = match.group(2)
    return pins


def installed_version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def mismatches(pins: dict[str, str]) -> list[str]:
    """One line per pinned package whose installed version differs (or that is not installed)."""
    return [f"{name}: pinned {wanted}, installed {installed_version(name) or 'nothing'}"
            for name, wanted in pins.items() if installed_version(name) != wanted]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    pins = read_pins(Path(argv[0]))
    print(f"{Path(argv[0]).name}: Python {platform.python_version()}; "
          + ", ".join(f"{name} {installed_version(name) or 'missing'}" for name in pins))
    wrong = mismatches(pins)
    for line in wrong:
        print(f"  VERSION MISMATCH {line}", file=sys.stderr)
    return 1 if wrong or not pins else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
