"""Records shared by the TotalSegmentator planner, preflight and runner (no logic, no imports of TS).

The flow is: :class:`TSPlan` (which tasks to run for the wanted TG-263 names) →
:class:`TSEnvironment` (what the TotalSegmentator installation has, read by a probe run in its own
Python) → :class:`PreflightReport` (every problem found before any work) → runner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..findings import Finding, Severity, has_errors

#: The TotalSegmentator release whose task configuration and class map OARContour was checked against.
PINNED_VERSION = "2.18.0"
#: Tasks that accept ``roi_subset`` (TotalSegmentator ignores or rejects it elsewhere).
ROI_SUBSET_TASKS = ("total", "total_mr")
#: Tasks of our naming table that need a TotalSegmentator licence (``commercial_models`` of TS 2.18;
#: the real-package test checks this list against the installed package).
LICENSED_TASKS = ("appendicular_bones", "brain_structures", "heartchambers_highres", "tissue_types")


@dataclass(frozen=True)
class TSTaskRun:
    """One TotalSegmentator invocation: a task, the classes asked for, and the TG-263 names it serves."""

    task: str
    roi_subset: tuple[str, ...] | None
    structures: tuple[str, ...]
    fast: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "roi_subset": list(self.roi_subset) if self.roi_subset else None,
                "structures": list(self.structures), "fast": self.fast}


@dataclass(frozen=True)
class TSPlan:
    """The runs needed for the wanted structures, and the wanted names no open task provides (with why)."""

    runs: tuple[TSTaskRun, ...]
    unavailable: dict[str, str] = field(default_factory=dict)

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(run.task for run in self.runs)


@dataclass(frozen=True)
class TSTaskStatus:
    """What one task needs from the installation and whether it is there.

    ``weight_folders`` are folder names under the weights directory, the cropping model's included
    (the head-and-neck tasks crop with a low-resolution ``total`` model first).
    """

    task: str
    weight_folders: tuple[str, ...]
    missing_folders: tuple[str, ...]
    license_required: bool
    license_ok: bool
    fast_allowed: bool
    #: The subset of ``weight_folders`` that belongs to the cropping model, not to the task itself.
    crop_folders: tuple[str, ...] = ()


@dataclass(frozen=True)
class TSEnvironment:
    """A TotalSegmentator installation as seen from its own Python interpreter."""

    python: str
    version: str | None
    home_dir: Path
    weights_dir: Path
    config: dict[str, Any]
    tasks: dict[str, TSTaskStatus]
    cuda_available: bool | None = None
    #: Class maps (label → TotalSegmentator class name) of the tasks the probe was asked for.
    class_maps: dict[str, dict[int, str]] = field(default_factory=dict)
    #: Tasks asked for that this TotalSegmentator version does not know.
    unknown_tasks: tuple[str, ...] = ()
    #: Why ``config.json`` could not be read (TotalSegmentator itself would fail on it), else None.
    config_error: str | None = None

    @property
    def installed(self) -> bool:
        return self.version is not None

    @property
    def usage_stats_enabled(self) -> bool:
        """TotalSegmentator's default when config.json is missing is to send statistics."""
        return bool(self.config.get("send_usage_stats", True))


@dataclass(frozen=True)
class PreflightReport:
    """Everything checked before a TotalSegmentator run; errors block the run."""

    environment: TSEnvironment | None
    findings: tuple[Finding, ...]
    device: str
    memory_needed_bytes: int = 0
    memory_available_bytes: int | None = None

    @property
    def ok(self) -> bool:
        return not has_errors(self.findings)

    def raise_for_errors(self) -> None:
        """Raise one :class:`InputError` listing every blocking problem and what to do about each."""
        errors = [f for f in self.findings if f.severity is Severity.ERROR]
        if not errors:
            return
        message = "TotalSegmentator cannot run: " + " ".join(f.message for f in errors)
        hint = " ".join(dict.fromkeys(f.hint for f in errors if f.hint))
        raise InputError(message, hint=hint)

    def to_dict(self) -> dict[str, Any]:
        env = self.environment
        return {"ok": self.ok, "device": self.device,
                "version": env.version if env else None,
                "weights_dir": str(env.weights_dir) if env else None,
                "memory_needed_bytes": self.memory_needed_bytes,
                "memory_available_bytes": self.memory_available_bytes,
                "findings": [f.to_dict() for f in self.findings]}
