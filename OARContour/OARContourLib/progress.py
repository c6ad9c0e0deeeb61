"""The progress-callback convention shared by every long core operation."""

from __future__ import annotations

from collections.abc import Callable

from .errors import CancelledError

#: ``progress(fraction, message) -> cancel``: fraction in 0..1; return True to cancel.
ProgressCallback = Callable[[float, str], bool]


def report(progress: ProgressCallback | None, fraction: float, message: str) -> None:
    """Forward one progress step; raise :class:`CancelledError` when the callback asks to stop."""
    if progress is not None and progress(min(max(fraction, 0.0), 1.0), message):
        raise CancelledError(f"Cancelled during: {message}", hint="Run the operation again to finish it.")


def scaled(progress: ProgressCallback | None, start: float, stop: float) -> ProgressCallback | None:
    """A callback that maps 0..1 of a sub-step onto ``start..stop`` of the whole operation."""
    if progress is None:
        return None
    outer = progress
    return lambda fraction, message: outer(start + fraction * (stop - start), message)
