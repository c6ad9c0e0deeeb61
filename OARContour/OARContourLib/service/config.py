"""The node's configuration: a TOML file read into frozen dataclasses, every value validated by key."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import InputError
from ..name_rules import label_problem

#: DICOM AE titles: up to 16 characters of the default repertoire, no backslash, not all spaces.
_AE_TITLE = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")
REVIEW_MODES = ("auto", "hold")


class ConfigError(InputError):
    """A configuration value is missing or wrong; the message names the key (``section.key``)."""


@dataclass(frozen=True)
class NodeSettings:
    """``[node]``: how the node listens and where it keeps its files."""

    ae_title: str = "OARCONTOUR"
    host: str = "127.0.0.1"
    port: int = 11112
    spool: Path = Path("/var/lib/oarcontour/spool")
    ledger: Path = Path("/var/lib/oarcontour/ledger.sqlite")
    allowed_callers: tuple[str, ...] = ()
    quiet_seconds: float = 10.0
    disk_reserve_mb: int = 5000
    max_associations: int = 10
    #: Days a finished job's spool folder is kept after it ended (sent, rejected, failed); 0 keeps it forever.
    keep_finished_days: float = 7.0


@dataclass(frozen=True)
class PipelineSettings:
    """``[pipeline]``: what the core does with each closed series."""

    engine: str = "classical"
    template: str = "Thorax"
    derive: tuple[str, ...] = ()
    tps: str = "generic"
    structure_set_label: str = "OARContour"


@dataclass(frozen=True)
class DestinationSettings:
    """``[destination]``: the planning system or PACS the RTSTRUCTs go to, and how retries back off."""

    ae_title: str = "TPS"
    host: str = "127.0.0.1"
    port: int = 4242
    retry_initial_seconds: float = 5.0
    retry_max_seconds: float = 300.0


@dataclass(frozen=True)
class ReviewSettings:
    """``[review]``: ``auto`` sends clean jobs, ``hold`` keeps every job for a reviewer."""

    mode: str = "auto"


@dataclass(frozen=True)
class TlsSettings:
    """``[tls]``: optional TLS for both directions (PEM files); off unless ``enabled``."""

    enabled: bool = False
    certificate: Path | None = None
    private_key: Path | None = None
    ca_certificates: Path | None = None


@dataclass(frozen=True)
class QueueSettings:
    """``[queue]``: where jobs run. No ``broker``: in the node's process; a ``redis://`` URL: on Celery workers.

    Times are per job. ``lease_seconds`` is how long a worker's claim on a job lasts without a
    heartbeat (every ``heartbeat_seconds``): a job whose worker died runs again about
    ``lease_seconds`` after the last heartbeat. The broker redelivers an unacknowledged task after
    ``visibility_timeout_seconds``, which must exceed the hard limit (else a long job runs twice).
    """

    broker: str = ""
    soft_time_limit_seconds: float = 3600.0
    hard_time_limit_seconds: float = 3900.0
    visibility_timeout_seconds: float = 4500.0
    lease_seconds: float = 60.0
    heartbeat_seconds: float = 10.0
    max_runs: int = 3
    connect_timeout_seconds: float = 3.0

    @property
    def enabled(self) -> bool:
        return bool(self.broker)


@dataclass(frozen=True)
class GatewaySettings:
    """``[gateway]`` and ``[gateway.service]``: de-identify out to an outside service, re-identify on return.

    A gateway has no ``[pipeline]``: CTs from the hospital go de-identified to the service's AE, and
    RTSTRUCTs from the service go re-identified and verified to ``[destination]``.
    """

    map: Path = Path("/var/lib/oarcontour/deid-map.sqlite")
    service_ae_title: str = "SERVICE"
    service_host: str = "127.0.0.1"
    service_port: int = 11113
    #: The site's UID root for the re-identified structure sets' new UIDs (None: pydicom's).
    uid_root: str | None = None


@dataclass(frozen=True)
class NodeConfig:
    """The whole configuration; every section has defaults (loopback, ``auto`` review)."""

    node: NodeSettings = field(default_factory=NodeSettings)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    destination: DestinationSettings = field(default_factory=DestinationSettings)
    review: ReviewSettings = field(default_factory=ReviewSettings)
    tls: TlsSettings = field(default_factory=TlsSettings)
    queue: QueueSettings = field(default_factory=QueueSettings)
    source: Path | None = None
    #: Set in the gateway role (``[gateway]`` present); then ``pipeline`` is unused.
    gateway: GatewaySettings | None = None

    def to_dict(self) -> dict[str, Any]:
        sections = ("node", "pipeline", "destination", "review", "tls", "queue") + (("gateway",) if self.gateway else ())
        return {name: {k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v)
                       for k, v in vars(getattr(self, name)).items()} for name in sections}


def load_config(path: str | Path) -> NodeConfig:
    """Read and validate a node configuration file.

    Raises
    ------
    ConfigError
        The file is missing or not TOML, or a value is wrong: the message names the key.
    """
    source = Path(path).expanduser()
    if not source.is_file():
        raise ConfigError(f"Configuration file not found: {source}", hint="Pass --config node.toml (see README).")
    tomllib = _toml_reader()
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}", hint="Check the line it names.") from exc
    return parse_config(data, base=source.parent, source=source)


def _toml_reader() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    try:  # Python 3.10: the backport, installed with the `service` extra
        import tomli
    except ImportError as exc:
        raise ConfigError("Reading the node configuration on Python 3.10 needs the tomli package.",
                          hint='pip install "oarcontour[service]"') from exc
    return tomli


def parse_config(data: dict[str, Any], base: Path = Path("."), source: Path | None = None) -> NodeConfig:
    """Validate a parsed TOML document; relative paths are taken from ``base`` (the file's folder)."""
    known = {"node", "pipeline", "destination", "review", "tls", "queue", "gateway"}
    for name in data:
        if name not in known:
            raise ConfigError(f"Unknown section [{name}].", hint=f"Sections: {', '.join(sorted(known))}.")
    reader = _Reader(data, base)
    config = NodeConfig(
        node=reader.section("node", NodeSettings, _NODE_RULES),
        pipeline=reader.section("pipeline", PipelineSettings, _PIPELINE_RULES),
        destination=reader.section("destination", DestinationSettings, _DESTINATION_RULES),
        review=reader.section("review", ReviewSettings, _REVIEW_RULES),
        tls=reader.section("tls", TlsSettings, _TLS_RULES),
        queue=reader.section("queue", QueueSettings, _QUEUE_RULES),
        source=source,
        gateway=_gateway(data, base) if "gateway" in data else None,
    )
    if config.gateway is None:
        _check_pipeline(config.pipeline)
    _check_tls(config.tls)
    _check_queue(config.queue)
    if config.gateway is not None and config.queue.enabled:
        raise ConfigError("[queue] broker is set on a gateway ([gateway]).",
                          hint="A gateway only de-identifies and re-identifies, in its own process: remove [queue] "
                               "there and set it on the contouring service's node.")
    return config


class _Reader:
    def __init__(self, data: dict[str, Any], base: Path) -> None:
        self.data = data
        self.base = base

    def section(self, name: str, cls: type, rules: dict[str, Any]) -> Any:
        values = self.data.get(name, {})
        if not isinstance(values, dict):
            raise ConfigError(f"{name} must be a table ([{name}]).", hint="See the README for the layout.")
        unknown = sorted(set(values) - set(rules))
        if unknown:
            raise ConfigError(f"Unknown key {name}.{unknown[0]}.", hint=f"Keys of [{name}]: {', '.join(rules)}.")
        return cls(**{key: rules[key](f"{name}.{key}", value, self.base) for key, value in values.items()})


def _fail(key: str, message: str, hint: str = "") -> ConfigError:
    return ConfigError(f"{key}: {message}", hint=hint)


def _ae_title(key: str, value: Any, _base: Path) -> str:
    if not isinstance(value, str) or not _AE_TITLE.match(value) or not value.strip():
        raise _fail(key, f"{value!r} is not a DICOM AE title.", "1-16 printable ASCII characters, no backslash.")
    return value.strip()


def _text(key: str, value: Any, _base: Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(key, f"{value!r} must be a non-empty string.")
    return value.strip()


def _structure_set_label(key: str, value: Any, base: Path) -> str:
    # The writer's rule, so a bad label fails at start-up rather than on the first patient's export.
    label = _text(key, value, base)
    problem = label_problem(label)
    if problem is not None:
        raise _fail(key, f"{label!r} {problem.rule()}.",
                    "The Structure Set Label (DICOM SH) the TPS shows, e.g. \"OARContour\" or \"AutoOAR_HN\".")
    return label


def _port(key: str, value: Any, _base: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise _fail(key, f"{value!r} is not a TCP port.", "An integer from 1 to 65535.")
    return value


def _seconds(key: str, value: Any, _base: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise _fail(key, f"{value!r} must be a number of seconds >= 0.")
    return float(value)


def _days(key: str, value: Any, _base: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 36500:
        raise _fail(key, f"{value!r} must be a number of days from 0 to 36500.",
                    "e.g. 7 (fractions allowed: 0.5 is 12 hours); 0 keeps finished jobs' spool folders forever.")
    return float(value)


def _positive_int(key: str, value: Any, _base: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(key, f"{value!r} must be an integer >= 0.")
    return value


def _path(key: str, value: Any, base: Path) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise _fail(key, f"{value!r} must be a path.")
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _bool(key: str, value: Any, _base: Path) -> bool:
    if not isinstance(value, bool):
        raise _fail(key, f"{value!r} must be true or false.")
    return value


def _ae_titles(key: str, value: Any, base: Path) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _fail(key, f"{value!r} must be a list of AE titles.", 'e.g. ["ORTHANC"]; [] refuses every caller.')
    return tuple(_ae_title(f"{key}[{i}]", item, base) for i, item in enumerate(value))


def _texts(key: str, value: Any, base: Path) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _fail(key, f"{value!r} must be a list of strings.", 'e.g. ["SpinalCanal:5"].')
    return tuple(_text(f"{key}[{i}]", item, base) for i, item in enumerate(value))


def _review_mode(key: str, value: Any, _base: Path) -> str:
    if value not in REVIEW_MODES:
        raise _fail(key, f"{value!r} is not a review mode.", f"One of: {', '.join(REVIEW_MODES)}.")
    return str(value)


_NODE_RULES = {"ae_title": _ae_title, "host": _text, "port": _port, "spool": _path, "ledger": _path,
               "keep_finished_days": _days,
               "allowed_callers": _ae_titles, "quiet_seconds": _seconds, "disk_reserve_mb": _positive_int,
               "max_associations": _positive_int}
_PIPELINE_RULES = {"engine": _text, "template": _text, "derive": _texts, "tps": _text,
                   "structure_set_label": _structure_set_label}
_DESTINATION_RULES = {"ae_title": _ae_title, "host": _text, "port": _port, "retry_initial_seconds": _seconds,
                      "retry_max_seconds": _seconds}
_REVIEW_RULES = {"mode": _review_mode}
_TLS_RULES = {"enabled": _bool, "certificate": _path, "private_key": _path, "ca_certificates": _path}


def shown_broker(url: str) -> str:
    """The broker URL for logs, messages and the ledger: a password in it is replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    user = parts.username or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _broker(key: str, value: Any, _base: Path) -> str:
    hint = 'e.g. "redis://127.0.0.1:6379/0"; leave the key out to run jobs in the node\'s process.'
    if not isinstance(value, str):
        raise _fail(key, f"{value!r} must be a redis:// URL.", hint)
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError as exc:
        raise _fail(key, f"{value!r} is not a valid URL ({exc}).", hint) from exc
    path = parts.path.strip("/")
    if parts.scheme not in ("redis", "rediss") or not parts.hostname or port is None or not (path == "" or path.isdigit()):
        raise _fail(key, f"{shown_broker(value.strip())!r} is not a Redis broker URL with host and port.", hint)
    return value.strip()


def _positive_seconds(key: str, value: Any, base: Path) -> float:
    seconds = _seconds(key, value, base)
    if seconds <= 0:
        raise _fail(key, f"{value!r} must be a number of seconds > 0.")
    return seconds


def _runs(key: str, value: Any, base: Path) -> int:
    runs = _positive_int(key, value, base)
    if runs < 1:
        raise _fail(key, f"{value!r} must be at least 1.")
    return runs


_QUEUE_RULES = {"broker": _broker, "soft_time_limit_seconds": _positive_seconds,
                "hard_time_limit_seconds": _positive_seconds, "visibility_timeout_seconds": _positive_seconds,
                "lease_seconds": _positive_seconds, "heartbeat_seconds": _positive_seconds, "max_runs": _runs,
                "connect_timeout_seconds": _positive_seconds}
def _gateway(data: dict[str, Any], base: Path) -> GatewaySettings:
    if "pipeline" in data:
        raise _fail("pipeline", "a gateway ([gateway] given) has no [pipeline]; the outside service contours.",
                    "Remove [pipeline], or [gateway] to contour here.")
    section = data["gateway"]
    if not isinstance(section, dict):
        raise ConfigError("gateway must be a table ([gateway]).", hint="See the README for the layout.")
    unknown = sorted(set(section) - {"map", "uid_root", "service"})
    if unknown:
        raise ConfigError(f"Unknown key gateway.{unknown[0]}.", hint="Keys of [gateway]: map, uid_root, service.")
    if "map" not in section:
        raise _fail("gateway.map", "missing.", 'The de-identification map, e.g. map = "/var/lib/oarcontour/deid-map.sqlite".')
    service = _Reader({"gateway.service": section.get("service", {})}, base).section(
        "gateway.service", dict, {"ae_title": _ae_title, "host": _text, "port": _port})
    uid_root = _uid_root("gateway.uid_root", section["uid_root"]) if "uid_root" in section else None
    return GatewaySettings(map=_path("gateway.map", section["map"], base), uid_root=uid_root,
                           **{f"service_{key}": value for key, value in service.items()})


def _uid_root(key: str, value: Any) -> str:
    from ..deid.reidentify import check_uid_root

    try:
        return check_uid_root(value)
    except InputError as exc:
        raise _fail(key, exc.message, exc.hint) from exc


def _check_pipeline(pipeline: PipelineSettings) -> None:
    # The same validators the CLI uses, so a typo fails at start-up rather than on the first patient.
    from ..autoseg.engine import ENGINES
    from ..derive.recipes import parse_recipe
    from ..naming.tables import load_tables
    from ..rtstruct.profiles import load_profile

    if pipeline.engine not in ENGINES:
        raise _fail("pipeline.engine", f"unknown engine {pipeline.engine!r}.", f"One of: {', '.join(ENGINES)}.")
    try:
        load_tables().require_template(pipeline.template)
    except InputError as exc:
        raise _fail("pipeline.template", str(exc)) from exc
    try:
        load_profile(pipeline.tps)
    except InputError as exc:
        raise _fail("pipeline.tps", str(exc)) from exc
    for index, recipe in enumerate(pipeline.derive):
        try:
            parse_recipe(recipe)
        except InputError as exc:
            raise _fail(f"pipeline.derive[{index}]", str(exc)) from exc


def _check_tls(tls: TlsSettings) -> None:
    if not tls.enabled:
        return
    for key in ("certificate", "private_key", "ca_certificates"):
        path = getattr(tls, key)
        if path is None or not path.is_file():
            raise _fail(f"tls.{key}", f"{path} is not a file.", "TLS needs a PEM certificate, key and CA bundle.")


def _check_queue(queue: QueueSettings) -> None:
    # The Celery traps, refused at start-up: a redelivery before the hard limit runs a job twice,
    # and a heartbeat slower than the lease lets a live job be swept.
    if queue.hard_time_limit_seconds <= queue.soft_time_limit_seconds:
        raise _fail("queue.hard_time_limit_seconds", "must be above queue.soft_time_limit_seconds.",
                    "The soft limit lets a job fail cleanly; the hard limit kills it later.")
    if queue.visibility_timeout_seconds <= queue.hard_time_limit_seconds:
        raise _fail("queue.visibility_timeout_seconds", "must be above queue.hard_time_limit_seconds.",
                    "Redis redelivers a task unacknowledged for this long: it must outlast the longest job.")
    if queue.heartbeat_seconds * 2 > queue.lease_seconds:
        raise _fail("queue.heartbeat_seconds", "must be at most half of queue.lease_seconds.",
                    "A lease is renewed every heartbeat; two missed heartbeats should not lose a live job.")
