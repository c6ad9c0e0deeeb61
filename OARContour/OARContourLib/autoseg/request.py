"""What a caller asks an auto-segmentation engine for: one value passed from CLI or Logic to the engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError

#: Devices a caller may ask for; ``auto`` takes the GPU when the engine sees one.
DEVICES = ("auto", "cpu", "gpu")


@dataclass(frozen=True)
class AutosegRequest:
    """The structures wanted and how to run.

    Attributes
    ----------
    template
        A site template id (``"Thorax"``): the structures the engine can provide are produced, the
        others reported as skipped with the reason.
    structures
        TG-263 names instead of a template; ``None`` (and no template): all the engine offers.
    device, fast, python
        Engine options (TotalSegmentator: device, 3 mm models, the interpreter that has it);
        engines without such options ignore them.
    """

    template: str | None = None
    structures: tuple[str, ...] | None = None
    device: str = "auto"
    fast: bool = False
    python: str | None = None

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise InputError(f"Unknown device '{self.device}'.", hint=f"Use one of: {', '.join(DEVICES)}.")

    @classmethod
    def of(cls, template: str | None = None, structures: Sequence[str] | None = None, **options: Any,
           ) -> AutosegRequest:
        """A request from a template or a name list (any sequence) and engine options."""
        return cls(template, None if structures is None else tuple(structures), **options)

    def to_dict(self) -> dict[str, Any]:
        return {"template": self.template, "structures": None if self.structures is None else list(self.structures),
                "device": self.device, "fast": self.fast, "python": self.python}


@dataclass(frozen=True)
class EnginePreflight:
    """What an engine's preflight found: ``ok`` when it can run, lines for a terminal, JSON data."""

    ok: bool
    lines: tuple[str, ...]
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **self.data}
