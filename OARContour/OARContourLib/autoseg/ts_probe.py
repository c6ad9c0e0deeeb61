"""What a TotalSegmentator installation has, seen from its own Python interpreter.

TotalSegmentator usually lives in another virtual environment than OARContour (it pins its own vtk
and torch), so :func:`probe_environment` runs :mod:`.ts_probe_script` there as a subprocess and reads
back one JSON document: version, home and weights folders, ``config.json``, and for each planned run
the weight folders it needs (the cropping model's included), the licence and the fast mode. The
probe imports only TotalSegmentator's data tables, so it takes well under a second unless CUDA is
checked (that imports torch).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import InputError
from .ts_model import ROI_SUBSET_TASKS, TSEnvironment, TSTaskRun, TSTaskStatus

logger = logging.getLogger(__name__)

#: Environment variable naming the interpreter that has TotalSegmentator installed.
PYTHON_VARIABLE = "OARCONTOUR_TS_PYTHON"
PROBE_SCRIPT = Path(__file__).with_name("ts_probe_script.py")
SETUP_HINT = (f"Point {PYTHON_VARIABLE} (or --ts-python) at a Python interpreter in which "
              "`pip install \"oarcontour[totalsegmentator]\"` was run.")


def default_python() -> str:
    """The interpreter to probe: ``$OARCONTOUR_TS_PYTHON`` when set, else this interpreter."""
    return os.environ.get(PYTHON_VARIABLE) or sys.executable


def probe_environment(python: str | None = None, runs: Sequence[TSTaskRun] = (), *, check_cuda: bool = False,
                      timeout_s: float = 120.0, env: Mapping[str, str] | None = None,
                      class_map_tasks: Sequence[str] = ()) -> TSEnvironment:
    """Ask ``python`` what its TotalSegmentator installation offers for ``runs``.

    Parameters
    ----------
    python
        Interpreter path; default :func:`default_python`.
    runs
        The planned runs; each task gets a :class:`TSTaskStatus` (weights, licence, fast mode).
    check_cuda
        Also import torch there and report whether CUDA is available (takes seconds).
    timeout_s
        Give up after this many seconds.
    env
        Environment variables to set for the probe on top of this process's (``TOTALSEG_HOME_DIR`` ...).
    class_map_tasks
        Tasks whose class maps (label → class name) to return in ``class_maps``.

    Returns
    -------
    TSEnvironment
        With ``version`` None and no tasks when TotalSegmentator is not installed there.

    Raises
    ------
    InputError
        The interpreter cannot be started, the probe crashed, timed out or printed no result.
    """
    interpreter = python or default_python()
    request = {"runs": [{"task": r.task, "fast": r.fast,
                         "roi_subset": bool(r.roi_subset and r.task in ROI_SUBSET_TASKS)} for r in runs],
               "check_cuda": check_cuda, "class_maps": list(class_map_tasks)}
    answer = _run_probe(interpreter, request, timeout_s, env)
    environment = _environment(interpreter, answer)
    logger.info("TotalSegmentator %s in %s; weights in %s", environment.version or "not installed",
                interpreter, environment.weights_dir)
    return environment


def _run_probe(python: str, request: dict[str, Any], timeout_s: float,
               env: Mapping[str, str] | None) -> dict[str, Any]:
    # Same interpreter options and environment as the runner's `python -m totalsegmentator...`, so the
    # probe sees what the run will see (user site-packages included; Slicer's PythonSlicer launcher needs
    # its PYTHON* variables, so no -I/-E). Only the current folder is dropped from sys.path, and
    # run_path does not add our package folder, so nothing of ours can shadow a module there.
    command = [python, "-c", "import runpy, sys; sys.path = [p for p in sys.path if p != '']; "
                             f"runpy.run_path({str(PROBE_SCRIPT)!r}, run_name='__main__')"]
    environment = {**os.environ, **env} if env is not None else None
    try:
        completed = subprocess.run(command, input=json.dumps(request), capture_output=True, text=True,
                                   timeout=timeout_s, env=environment, check=False)
    except (FileNotFoundError, PermissionError, NotADirectoryError) as error:
        raise InputError(f"Cannot start the TotalSegmentator Python '{python}': {error.strerror or error}.",
                         hint=SETUP_HINT) from error
    except subprocess.TimeoutExpired as error:
        raise InputError(f"The TotalSegmentator probe in '{python}' did not answer within {timeout_s:g} s.",
                         hint=f"Check that the interpreter starts normally, or allow a longer timeout. "
                              f"{SETUP_HINT}") from error
    if completed.returncode != 0:
        raise InputError(f"The TotalSegmentator probe in '{python}' failed (exit code {completed.returncode}): "
                         f"{_last_line(completed.stderr)}", hint=SETUP_HINT)
    try:
        answer = json.loads(_last_line(completed.stdout))
    except ValueError as error:
        raise InputError(f"The TotalSegmentator probe in '{python}' printed no result.", hint=SETUP_HINT) from error
    if not isinstance(answer, dict):
        raise InputError(f"The TotalSegmentator probe in '{python}' printed an unexpected result.", hint=SETUP_HINT)
    return answer


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def _environment(python: str, answer: dict[str, Any]) -> TSEnvironment:
    tasks = {name: TSTaskStatus(task=name, weight_folders=tuple(s["weight_folders"]),
                                missing_folders=tuple(s["missing_folders"]), license_required=s["license_required"],
                                license_ok=s["license_ok"], fast_allowed=s["fast_allowed"],
                                crop_folders=tuple(s["crop_folders"]))
             for name, s in answer["tasks"].items()}
    class_maps = {task: {int(label): name for label, name in classes.items()}
                  for task, classes in answer["class_maps"].items()}
    return TSEnvironment(python=python, version=answer["version"], home_dir=Path(answer["home_dir"]),
                         weights_dir=Path(answer["weights_dir"]), config=answer["config"], tasks=tasks,
                         cuda_available=answer["cuda_available"], class_maps=class_maps,
                         unknown_tasks=tuple(answer["unknown_tasks"]), config_error=answer["config_error"])


__all__ = ["PROBE_SCRIPT", "PYTHON_VARIABLE", "default_python", "probe_environment"]
