"""The probe program run inside TotalSegmentator's Python (by :func:`.ts_probe.probe_environment`).

It reads one JSON request on stdin (``runs``: task, fast, roi_subset; ``check_cuda``; ``class_maps``)
and prints one JSON document on stdout. It imports only the standard library and TotalSegmentator's
pure-data modules ``map_tasks_config`` and ``map_to_binary``: ``totalsegmentator.config`` imports
torch and requests, which take seconds, so its directory rules are restated here (TS 2.18
``get_totalseg_dir``/``get_weights_dir``/``has_valid_license_offline``). torch is imported only when
CUDA is to be checked. This file must not import OARContourLib: it runs in another interpreter.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

#: TotalSegmentator's offline licence check accepts a licence number of exactly this length.
LICENSE_LENGTH = 18
#: Cropping models TS 2.18 picks in ``python_api.totalsegmentator`` when a task has no ``crop_model``.
CROP_TOTAL_6MM, CROP_TOTAL_3MM, CROP_TOTAL_MR_3MM, CROP_BODY_6MM = 298, 297, 852, 300
#: ``vertebrae_pp_refined`` also runs the vertebrae_body model (TS 2.18 ``python_api``).
EXTRA_TASK_IDS = {"vertebrae_pp_refined": [305]}


def totalseg_dir() -> Path:
    if "TOTALSEG_HOME_DIR" in os.environ:
        return Path(os.environ["TOTALSEG_HOME_DIR"]).absolute()
    home = Path("/tmp") if str(Path.home()) == "/" else Path.home()  # TS: docker containers lack a home
    return home / ".totalsegmentator"


def weights_dir(home: Path) -> Path:
    if "TOTALSEG_WEIGHTS_PATH" in os.environ:
        return Path(os.environ["TOTALSEG_WEIGHTS_PATH"]).absolute()
    return home / "nnunet" / "results"


def read_config(home: Path) -> tuple[dict[str, Any], str | None]:
    path = home / "config.json"
    if not path.exists():
        return {}, None
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return {}, f"{path}: {error}"
    if not isinstance(config, dict):
        return {}, f"{path}: not a JSON object"
    return config, None


def package_version() -> str | None:
    try:
        return importlib.metadata.version("TotalSegmentator")
    except importlib.metadata.PackageNotFoundError:
        return "unknown" if importlib.util.find_spec("totalsegmentator") is not None else None


def task_config(task: str, fast: bool) -> dict[str, Any]:
    """The merged configuration TS 2.18 ``get_task_config`` builds (sub-mode ``fast`` where present)."""
    from totalsegmentator.map_tasks_config import DEFAULT_CONFIG, TASK_CONFIGS

    config = dict(DEFAULT_CONFIG)
    raw = TASK_CONFIGS[task]
    if "sub_modes" in raw:
        config.update(raw["sub_modes"]["fast" if fast and "fast" in raw["sub_modes"] else "default"])
    else:
        config.update({k: v for k, v in raw.items() if k not in ("disallow_fast", "commercial", "info_msg")})
    return config


def own_task_ids(task: str, fast: bool) -> list[Any]:
    task_id = task_config(task, fast)["task_id"]
    ids = list(task_id) if isinstance(task_id, list) else [task_id]
    return ids + EXTRA_TASK_IDS.get(task, [])


def crop_task_ids(task: str, fast: bool, roi_subset: bool) -> list[Any]:
    """Weights of the cropping pass, chosen as TS 2.18 ``python_api.totalsegmentator`` chooses them."""
    config = task_config(task, fast)
    crop = config.get("crop")
    mr_roi_subset = task.endswith("_mr") and roi_subset  # TS runs the robust 3 mm crop for MR subsets
    if crop is None and not roi_subset and not config.get("cascade"):
        return []
    crop_model = config.get("crop_model")
    if crop_model is not None:  # TS runs the whole crop-model task (default mode) first
        return own_task_ids(crop_model, False) + crop_task_ids(crop_model, False, False)
    if crop is not None and ("body_trunc" in crop or "body_extremities" in crop):
        return [CROP_BODY_6MM]
    if mr_roi_subset or config.get("robust_crop"):
        return [CROP_TOTAL_MR_3MM if task.endswith("_mr") else CROP_TOTAL_3MM]
    return [CROP_TOTAL_MR_3MM if task.endswith("_mr") else CROP_TOTAL_6MM]


def folder_of(task_id: Any) -> str:
    from totalsegmentator.map_tasks_config import TASK_ID_WEIGHTS_CONFIGS

    info = TASK_ID_WEIGHTS_CONFIGS[task_id]
    rel_path = info.get("rel_path")
    return f"{rel_path}/{info['foldername']}" if rel_path else str(info["foldername"])


def task_status(run: dict[str, Any], weights: Path, config: dict[str, Any]) -> dict[str, Any]:
    from totalsegmentator.map_tasks_config import TASK_CONFIGS
    from totalsegmentator.map_to_binary import commercial_models

    task, fast, roi_subset = run["task"], bool(run.get("fast")), bool(run.get("roi_subset"))
    own = [folder_of(i) for i in own_task_ids(task, fast)]
    crop = [f for f in dict.fromkeys(folder_of(i) for i in crop_task_ids(task, fast, roi_subset)) if f not in own]
    folders = own + crop
    license_number = config.get("license_number")
    return {"task": task, "weight_folders": folders, "crop_folders": crop,
            "missing_folders": [f for f in folders if not (weights / f).exists()],
            "license_required": task in commercial_models or bool(TASK_CONFIGS[task].get("commercial")),
            "license_ok": isinstance(license_number, str) and len(license_number) == LICENSE_LENGTH,
            "fast_allowed": not TASK_CONFIGS[task].get("disallow_fast", False)}


def cuda_available() -> bool | None:
    try:
        import torch
    except ImportError:
        return None
    return bool(torch.cuda.is_available())


def probe(request: dict[str, Any]) -> dict[str, Any]:
    home = totalseg_dir()
    weights = weights_dir(home)
    config, config_error = read_config(home)
    answer: dict[str, Any] = {"version": package_version(), "home_dir": str(home), "weights_dir": str(weights),
                              "config": config, "config_error": config_error, "tasks": {}, "class_maps": {},
                              "unknown_tasks": [], "cuda_available": None}
    if answer["version"] is None:
        return answer
    from totalsegmentator.map_tasks_config import TASK_CONFIGS
    from totalsegmentator.map_to_binary import class_map

    for run in request.get("runs", []):
        if run["task"] in TASK_CONFIGS:
            answer["tasks"][run["task"]] = task_status(run, weights, config)
        else:
            answer["unknown_tasks"].append(run["task"])
    for task in request.get("class_maps", []):
        if task in class_map:
            answer["class_maps"][task] = {str(label): name for label, name in class_map[task].items()}
    if request.get("check_cuda"):
        answer["cuda_available"] = cuda_available()
    return answer


if __name__ == "__main__":
    sys.stdout.write(json.dumps(probe(json.load(sys.stdin))) + "\n")
