"""The Celery application of the node and its workers, with the settings long jobs need.

Celery's defaults suit millisecond tasks. A contouring job takes minutes and a GPU runs one at a
time, so: the task is acknowledged only after it ran (``task_acks_late``) and given back when the
worker process dies (``task_reject_on_worker_lost``); each worker reserves one task at a time
(``worker_prefetch_multiplier = 1``, concurrency 1); soft and hard time limits end a stuck job; and
Redis redelivers an unacknowledged task only after ``visibility_timeout``, which the configuration
keeps above the hard limit. None of this is the job record: see :mod:`.execution`.

Imported only when ``[queue] broker`` is set: celery and redis are optional (the ``service`` extra).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from ..errors import InputError
from .config import NodeConfig, shown_broker

logger = logging.getLogger(__name__)

TASK_NAME = "oarcontour.contour"
#: The queue of each engine: the classical engine needs CPU only; the others want one GPU per job.
QUEUES = ("cpu", "gpu")


class BrokerError(InputError):
    """The broker named in ``queue.broker`` cannot be reached or the Celery packages are missing."""


def queue_for(engine: str) -> str:
    return "cpu" if engine == "classical" else "gpu"


def celery_queue(config: NodeConfig, kind: str) -> str:
    """The broker's queue of one node's ``cpu`` or ``gpu`` jobs: nodes sharing a broker never take each other's."""
    return f"oarcontour.{config.node.ae_title}.{kind}"


def check_broker(config: NodeConfig) -> None:
    """One PING with a short timeout, so a wrong or stopped broker is one clear line, not endless retries.

    Raises
    ------
    BrokerError
        Names the broker URL and what failed.
    """
    broker = shown_broker(config.queue.broker)
    client = broker_client(config)
    import redis

    try:
        client.ping()
    except redis.RedisError as exc:
        raise BrokerError(f"Cannot reach the broker {broker} (queue.broker): {exc}",
                          hint="Start redis-server there, or fix queue.broker in the configuration.") from exc
    finally:
        client.close()


def broker_client(config: NodeConfig) -> Any:
    """A Redis client for the broker, with the configured timeouts (leases and reports go through it)."""
    _require_packages()
    import redis

    timeout = config.queue.connect_timeout_seconds
    return redis.Redis.from_url(config.queue.broker, socket_connect_timeout=timeout, socket_timeout=timeout)


def check_spool(config: NodeConfig) -> None:
    """A worker needs the node's spool at the same path (a shared mount on another host).

    Raises
    ------
    BrokerError
        Names the spool and what to mount.
    """
    spool = config.node.spool
    if not spool.is_dir():
        raise BrokerError(f"The node's spool {spool} (node.spool) is not on this host: a worker reads each CT there "
                          "and writes the structure set beside it.",
                          hint="Mount the node's spool at the same path here (README, Scaling out).")
    probe = spool / f".oarcontour-worker-probe-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise BrokerError(f"The node's spool {spool} (node.spool) is not writable here: {exc.strerror}.",
                          hint="Mount it read-write for the user the worker runs as.") from exc


def _require_packages() -> None:
    try:
        import celery  # noqa: F401
        import redis  # noqa: F401
    except ImportError as exc:
        raise BrokerError("queue.broker is set but celery or redis is not installed.",
                          hint='pip install "oarcontour[service]"') from exc


def make_app(config: NodeConfig) -> Any:
    """A Celery app for ``config`` with the task registered (the node only sends; workers run it)."""
    _require_packages()
    from celery import Celery

    queue = config.queue
    app = Celery("oarcontour", broker=queue.broker, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_concurrency=1,
        task_soft_time_limit=queue.soft_time_limit_seconds,
        task_time_limit=queue.hard_time_limit_seconds,
        broker_transport_options={"visibility_timeout": queue.visibility_timeout_seconds,
                                  "socket_connect_timeout": queue.connect_timeout_seconds},
        broker_connection_timeout=queue.connect_timeout_seconds,
        # At start-up a missing broker is an error (check_broker names it); once running, a lost
        # broker is waited for, however long it takes: the running job goes on and holds its reports.
        broker_connection_retry_on_startup=False,
        broker_connection_retry=True,
        broker_connection_max_retries=None,
        task_ignore_result=True,  # the ledger holds the outcome; no result backend
        task_default_queue=celery_queue(config, queue_for(config.pipeline.engine)),
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )

    @app.task(name=TASK_NAME)
    def contour(job: dict[str, Any], ticket: str) -> str:
        from .execution import run_delivery
        from .ledger import owner_id

        return run_delivery(config, job, str(ticket), owner_id())

    return app
