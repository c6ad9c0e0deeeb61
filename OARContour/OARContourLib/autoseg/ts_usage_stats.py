"""Switch off TotalSegmentator's usage statistics before OARContour runs it.

On its first run TotalSegmentator creates ``<home>/config.json`` with ``"send_usage_stats": true``
and then reports every prediction to its server. A clinic's CT runs must not do that, so OARContour
writes the file first (in TotalSegmentator's own format, so TotalSegmentator keeps using it) or
patches an existing one, keeping its licence number and every other key.
"""

from __future__ import annotations

import json
import logging
import secrets
import string
from pathlib import Path
from typing import Any

from ..atomic import write_file
from ..errors import InputError

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
USAGE_STATS_KEY = "send_usage_stats"
ID_ALPHABET = string.ascii_uppercase + string.digits


def new_totalseg_id() -> str:
    """An installation id in TotalSegmentator's format: ``totalseg_`` and 8 characters A-Z0-9."""
    return "totalseg_" + "".join(secrets.choice(ID_ALPHABET) for _ in range(8))


def disable_usage_statistics(home_dir: Path) -> bool:
    """Make ``<home_dir>/config.json`` say ``"send_usage_stats": false``.

    Parameters
    ----------
    home_dir
        TotalSegmentator's home folder (``TSEnvironment.home_dir``); created when missing.

    Returns
    -------
    bool
        True when the file was created or changed, False when statistics were already off.

    Raises
    ------
    InputError
        ``config.json`` exists but is not a JSON object (it is left as it is), or cannot be written.
    """
    path = Path(home_dir) / CONFIG_FILE
    config = _read(path)
    if config is not None and config.get(USAGE_STATS_KEY) is False:
        return False
    if config is None:
        config = {"totalseg_id": new_totalseg_id(), USAGE_STATS_KEY: False, "prediction_counter": 0}
    else:
        config[USAGE_STATS_KEY] = False
    text = json.dumps(config, indent=4)

    def write(temporary: Path) -> None:
        temporary.write_text(text, encoding="utf-8")

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file(path, write)
    except OSError as error:
        raise InputError(f"Cannot write {path}: {error.strerror or error}.",
                         hint="Make TotalSegmentator's home folder writable, or set TOTALSEG_HOME_DIR to a "
                              "writable folder.") from error
    logger.info("TotalSegmentator usage statistics switched off in %s", path)
    return True


def _read(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InputError(f"TotalSegmentator's {path} is not valid JSON ({error}); it was left unchanged.",
                         hint=f"Fix or delete {path} (TotalSegmentator recreates it), then run again.") from error
    if not isinstance(config, dict):
        raise InputError(f"TotalSegmentator's {path} is not a JSON object; it was left unchanged.",
                         hint=f"Fix or delete {path} (TotalSegmentator recreates it), then run again.")
    return config


__all__ = ["disable_usage_statistics", "new_totalseg_id"]
