"""What the module panel needs before it can work: the packages under the core, the Logic and the panel choices.

Slicer executes every module file at start-up and drops a module whose file raises, with nothing
shown but a line in the log (Slicer ``qSlicerScriptedUtils.cxx``). So ``OARContour.py`` imports
nothing of the core at import; its panel calls :func:`start` when it is first shown, and a missing
or too old package becomes a :class:`StartupProblem` that the panel shows with what to do.

This module imports only the standard library: it must work when numpy or pydicom do not.
"""

from __future__ import annotations

import csv
import importlib.metadata
import logging
import platform
import re
import shlex
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .errors import OARContourError
from .resources import resource_path

logger = logging.getLogger(__name__)

#: The oldest versions OARContour is tested with; ``package`` "python" is the interpreter.
REQUIREMENTS_FILE = "Requirements/minimum_versions.csv"
REINSTALL_HINT = ("Reinstall OARContour from the Extensions Manager and restart Slicer; the Python console "
                  "(View > Python Console) shows the full error.")


@dataclass(frozen=True)
class Requirement:
    """One package the core needs: its pip name, import name and oldest tested version."""

    package: str
    module: str
    minimum: str
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {"package": self.package, "module": self.module, "minimum": self.minimum, "why": self.why}


@dataclass(frozen=True)
class StartupProblem:
    """Why the panel cannot work, what to do about it, and the full error for the details box."""

    message: str
    hint: str
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "hint": self.hint, "detail": self.detail}


def in_slicer_app() -> bool:
    """True inside the Slicer application: only it sets ``slicer.app`` (the slicer-core wheel does not)."""
    module = sys.modules.get("slicer")
    return module is not None and hasattr(module, "app")


def install_command(packages: str) -> str:
    """How to install pip packages where this code runs: ``slicer.util.pip_install`` inside Slicer."""
    if in_slicer_app():
        return f'slicer.util.pip_install("{packages}") in the Python console, then restart Slicer'
    return "pip install " + " ".join(shlex.quote(package) for package in packages.split())


@lru_cache(maxsize=1)
def minimum_versions() -> tuple[Requirement, ...]:
    """The rows of ``Resources/Requirements/minimum_versions.csv``."""
    with resource_path(REQUIREMENTS_FILE).open(newline="", encoding="utf-8") as handle:
        return tuple(Requirement(row["package"], row["module"], row["minimum"], row["why"])
                     for row in csv.DictReader(handle))


def version_tuple(text: str) -> tuple[int, ...]:
    """The leading numeric release of a version string: ``"2.0.2rc1"`` → ``(2, 0, 2)``."""
    found = re.match(r"\d+(?:\.\d+)*", text.strip())
    return tuple(int(part) for part in found.group(0).split(".")) if found else ()


def installed_version(requirement: Requirement) -> str | None:
    """The installed version, read from package metadata without importing the package.

    None when there is no metadata (Slicer builds some packages from source); the import of the
    Logic then tells whether the package is really missing.
    """
    if requirement.package == "python":
        return platform.python_version()
    try:
        return importlib.metadata.version(requirement.package)
    except importlib.metadata.PackageNotFoundError:
        return None


def version_problem(version_of: Callable[[Requirement], str | None] = installed_version) -> StartupProblem | None:
    """A problem listing every package older than its minimum; None when all are new enough."""
    too_old = []
    for requirement in minimum_versions():
        version = version_of(requirement)
        if version and version_tuple(version) < version_tuple(requirement.minimum):
            too_old.append((requirement, version))
    if not too_old:
        return None
    listing = "; ".join(f"{r.package} {version} is older than {r.minimum} ({r.why})" for r, version in too_old)
    if any(r.package == "python" for r, _ in too_old):
        hint = "Use Slicer 5.10 or newer (its Python is 3.12)."
    else:
        hint = "Update them with: " + install_command(" ".join(f"{r.package}>={r.minimum}" for r, _ in too_old))
    return StartupProblem(f"OARContour cannot start: {listing}.", hint)


def problem_from_error(error: BaseException) -> StartupProblem:
    """Turn the error raised while building the Logic into what the panel says."""
    detail = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    missing = (getattr(error, "name", None) or "") if isinstance(error, ImportError) else ""
    requirement = next((r for r in _requirements_or_none() if r.module and r.module == missing.split(".")[0]), None)
    if requirement is not None:
        return StartupProblem(
            f"OARContour cannot start: the Python package {requirement.package} is missing or too old ({error}).",
            "Install it with: " + install_command(f"{requirement.package}>={requirement.minimum}"), detail)
    if isinstance(error, OARContourError):
        return StartupProblem(f"OARContour cannot start: {error.message}", error.hint or REINSTALL_HINT, detail)
    return StartupProblem(f"OARContour cannot start: {type(error).__name__}: {error}", REINSTALL_HINT, detail)


def start(log_callback: Callable[[str], None] | None = None) -> tuple[Any, Any, StartupProblem | None]:
    """``(logic, panel_choices, None)``, or ``(None, None, problem)`` when the panel cannot work.

    Never raises: whatever goes wrong is returned for the panel to show.
    """
    try:
        problem = version_problem()
        if problem is not None:
            logger.error("%s %s", problem.message, problem.hint)
            return None, None, problem
        from .logic import OARContourLogic

        logic = OARContourLogic(log_callback=log_callback)
        return logic, logic.panelChoices(), None
    except Exception as error:  # any failure must reach the panel instead of leaving it blank
        problem = problem_from_error(error)
        logger.error("%s %s\n%s", problem.message, problem.hint, problem.detail)
        return None, None, problem


def _requirements_or_none() -> tuple[Requirement, ...]:
    # Explaining an error must not raise another one (a broken install may lack the table).
    try:
        return minimum_versions()
    except (OSError, OARContourError, KeyError):
        return ()
