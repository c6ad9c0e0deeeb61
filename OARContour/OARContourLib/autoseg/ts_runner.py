"""Run one TotalSegmentator task in a child process, so a crash or an out-of-memory kill stays there.

The child is TotalSegmentator's own command line in the Python that has it installed (its own
venv, or Slicer's). It reads a NIfTI that OARContour wrote from the already-loaded CT, so DICOM
quirks (gantry tilt, dicom2nifti) never reach it, and writes one multilabel NIfTI (``--ml``).
Output is read line by line: stage lines become progress messages, the rest is logged at debug
level and the last lines are kept for the error message.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import SimpleITK as sitk

from ..ct.model import CTVolume
from ..errors import EngineError
from ..mask_grid import image_on_grid
from ..progress import ProgressCallback, report
from .ts_model import ROI_SUBSET_TASKS, TSTaskRun

logger = logging.getLogger(__name__)

#: The module TotalSegmentator's ``TotalSegmentator`` console script runs.
TS_MODULE = "totalsegmentator.bin.TotalSegmentator"
#: Lines of TotalSegmentator output quoted in an error message.
TAIL_LINES = 20
#: Seconds between SIGTERM and SIGKILL when stopping the child.
TERMINATE_GRACE_S = 5.0
#: How often the progress callback is asked whether to cancel while the child is silent.
POLL_INTERVAL_S = 0.25
#: Exit codes of a process killed by SIGKILL (directly, or as reported by a shell).
KILLED_CODES = (-9, 137)
_NEW_GROUP_FLAGS = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)  # Windows only

#: TotalSegmentator's stage lines → fraction of the run they mark.
_STAGES = (
    (re.compile(r"Generating rough (segmentation|body segmentation)"), 0.10),
    (re.compile(r"^Resampling\.\.\."), 0.20),
    (re.compile(r"^Predicting\.\.\."), 0.30),
    (re.compile(r"^Saving segmentations"), 0.90),
)
_PART = re.compile(r"^Predicting part (\d+) of (\d+)")


@dataclass(frozen=True)
class TaskRunResult:
    """Where a run wrote its multilabel NIfTI, and how long it took."""

    run: TSTaskRun
    output: Path
    seconds: float


def ts_command(python: str) -> list[str]:
    """The start of TotalSegmentator's command line in the interpreter ``python``."""
    return [python, "-m", TS_MODULE]


def build_argv(command: Sequence[str], ct_nifti: Path, run: TSTaskRun, output: Path, device: str) -> list[str]:
    """TotalSegmentator arguments for ``run``: ``--roi_subset`` only where the task accepts it."""
    argv = [*command, "-i", str(ct_nifti), "-o", str(output), "--ml", "-ta", run.task, "-d", device]
    if run.fast:
        argv.append("--fast")
    if run.roi_subset and run.task in ROI_SUBSET_TASKS:
        argv += ["--roi_subset", *run.roi_subset]
    return argv


def write_ct_nifti(ct: CTVolume, path: Path) -> None:
    """The CT's HU voxels on its own grid (LPS geometry; the NIfTI writer converts to RAS)."""
    sitk.WriteImage(image_on_grid(sitk.GetImageFromArray(ct.hu), ct.geometry), str(path), useCompression=True)


def child_environment(python: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """The child's environment: ours (TOTALSEG_* included), unbuffered output.

    Another interpreter must not inherit PYTHONHOME/PYTHONPATH (Slicer sets both for its own
    Python), or it would import our packages instead of its own.
    """
    child = dict(os.environ if env is None else env)
    child["PYTHONUNBUFFERED"] = "1"
    if Path(python).resolve() != Path(sys.executable).resolve():
        child.pop("PYTHONHOME", None)
        child.pop("PYTHONPATH", None)
    return child


def run_task(ct_nifti: Path, run: TSTaskRun, output: Path, *, python: str, device: str,
             progress: ProgressCallback | None = None, command: Sequence[str] | None = None,
             env: dict[str, str] | None = None) -> TaskRunResult:
    """Run one TotalSegmentator task on ``ct_nifti`` and return where its multilabel NIfTI is.

    Parameters
    ----------
    ct_nifti
        The CT as NIfTI (see :func:`write_ct_nifti`).
    run
        Task, class subset and speed.
    output
        Multilabel NIfTI to write; its folder must exist. Removed again if the run fails.
    python
        The interpreter that has TotalSegmentator installed.
    device
        ``"cpu"``, ``"gpu"`` or ``"gpu:N"`` as TotalSegmentator takes it.
    command
        Replaces ``[python, "-m", TS_MODULE]`` (tests use a stand-in script).
    env
        The child's environment before adjustment (default: ours).

    Raises
    ------
    EngineError
        TotalSegmentator exited with an error, was killed (probably out of memory) or wrote nothing.
    CancelledError
        ``progress`` asked to stop; the child's process group was terminated.
    """
    argv = build_argv(command or ts_command(python), ct_nifti, run, output, device)
    logger.info("Running TotalSegmentator task %s on %s (%s).", run.task, device, "fast" if run.fast else "full")
    started = time.perf_counter()
    # A process group of its own, so stopping the child also stops the workers it forks.
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               cwd=str(output.parent), env=child_environment(python, env),
                               start_new_session=os.name != "nt", creationflags=_NEW_GROUP_FLAGS)
    try:
        tail = _follow(process, run, progress)
    except BaseException:  # cancel, KeyboardInterrupt or our own bug: never leave the child running
        stop_process(process)
        output.unlink(missing_ok=True)
        raise
    seconds = time.perf_counter() - started
    if process.returncode != 0 or not output.is_file():
        output.unlink(missing_ok=True)
        raise _failure(run, process.returncode, tail)
    logger.info("TotalSegmentator task %s finished in %.1f s.", run.task, seconds)
    return TaskRunResult(run, output, seconds)


def _follow(process: subprocess.Popen[bytes], run: TSTaskRun, progress: ProgressCallback | None) -> deque[str]:
    """Stream the child's output until it exits; ask ``progress`` about cancelling while waiting."""
    lines: queue.Queue[str | None] = queue.Queue()
    assert process.stdout is not None
    reader = threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    fraction, message = 0.0, f"TotalSegmentator {run.task}: starting"
    report(progress, fraction, message)
    while True:
        try:
            line = lines.get(timeout=POLL_INTERVAL_S)
        except queue.Empty:
            report(progress, fraction, message)  # lets a Cancel button work while the child is silent
            continue
        if line is None:
            break
        tail.append(line)
        stage = stage_fraction(line)
        if stage is None:
            logger.debug("TotalSegmentator: %s", line)
            continue
        fraction, message = max(fraction, stage), f"TotalSegmentator {run.task}: {line.strip()}"
        logger.info("%s", message)
        report(progress, fraction, message)
    process.wait()
    reader.join(timeout=1.0)
    return tail


def _read_lines(stream: IO[bytes], lines: queue.Queue[str | None]) -> None:
    """Reader thread: one queue item per line; for tqdm's carriage-return updates, the last state."""
    with stream:
        for raw in stream:
            text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            text = text.rsplit("\r", 1)[-1].rstrip()
            if text:
                lines.put(text)
    lines.put(None)


def stage_fraction(line: str) -> float | None:
    """The fraction of a run a TotalSegmentator stage line marks, or None for other output."""
    text = line.strip()
    part = _PART.match(text)
    if part:
        index, count = int(part.group(1)), max(int(part.group(2)), 1)
        return 0.30 + 0.55 * (index - 1) / count
    return next((fraction for pattern, fraction in _STAGES if pattern.search(text)), None)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the child's process group, then SIGKILL after a grace period."""
    if process.poll() is not None:
        return
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=TERMINATE_GRACE_S)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL if os.name != "nt" else signal.SIGTERM)
        process.wait()


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        if os.name == "nt":
            process.terminate()  # Windows has no process-group signals; TerminateProcess is final anyway
        else:
            os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def _failure(run: TSTaskRun, returncode: int | None, tail: deque[str]) -> EngineError:
    output = "\n".join(tail) or "(no output)"
    if returncode in KILLED_CODES:
        return EngineError(
            f"TotalSegmentator task {run.task} was killed (SIGKILL), probably out of memory. Last output:\n{output}",
            hint="Use --fast, fewer structures, or a machine with more RAM.")
    if returncode == 0:
        return EngineError(f"TotalSegmentator task {run.task} finished but wrote no output. Last output:\n{output}",
                           hint="Run TotalSegmentator by hand on the CT to see why.")
    return EngineError(f"TotalSegmentator task {run.task} failed (exit code {returncode}). Last output:\n{output}",
                       hint="Read the TotalSegmentator output above; run with -v for the full log.")

