"""``oarcontour worker --config node.toml [--queue cpu|gpu] [--device N]``: a Celery worker for the node's jobs."""

from __future__ import annotations

import argparse
import logging
import os

from ..errors import InputError
from .exit_codes import EXIT_OK


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "worker", help="run contouring jobs from the node's queue (Celery worker; needs [queue] broker)",
        description="A Celery worker, concurrency 1, for the node configured by NODE_TOML ([queue] broker). It reads "
                    "each CT from the node's spool (mounted at the same path on this host), runs the node's pipeline and "
                    "reports every step to the node through the broker; it never opens the ledger. The node records "
                    "the reports and sends the results. One worker per GPU (--device pins it with CUDA_VISIBLE_DEVICES); the "
                    "classical engine uses the cpu queue. Runs in the foreground; SIGTERM finishes the current job "
                    "first. Exits 2 at once if the broker cannot be reached.")
    parser.add_argument("--config", required=True, metavar="NODE_TOML", help="node configuration (see README)")
    parser.add_argument("--queue", choices=("cpu", "gpu"),
                        help="queue to take jobs from (default: the one [pipeline] engine uses; gpu with --device)")
    parser.add_argument("--device", type=int, metavar="N", help="GPU index for this worker (sets CUDA_VISIBLE_DEVICES)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..service.celery_app import celery_queue, check_broker, check_spool, make_app, queue_for
    from ..service.config import load_config, shown_broker

    config = load_config(args.config)
    if not config.queue.enabled:
        raise InputError(f"{config.source}: queue.broker is not set; the node runs jobs in its own process.",
                         hint='Add [queue] broker = "redis://host:6379/0" to use workers.')
    if args.device is not None:
        if args.device < 0:
            raise InputError(f"--device {args.device}: a GPU index is >= 0.", hint="e.g. --device 0")
        # Before anything imports torch: the engine then sees this one GPU as device 0.
        os.environ["CUDA_VISIBLE_DEVICES"] = str(args.device)
    queue = args.queue or ("gpu" if args.device is not None else queue_for(config.pipeline.engine))
    if queue != queue_for(config.pipeline.engine):
        logging.getLogger(__name__).warning("The node queues %s jobs on %r; this worker listens on %r",
                                            config.pipeline.engine, queue_for(config.pipeline.engine), queue)
    check_broker(config)
    check_spool(config)
    app = make_app(config)
    name = f"oarcontour-{queue}{'' if args.device is None else args.device}-{os.getpid()}@%h"
    level = "DEBUG" if args.debug else "WARNING" if args.quiet else "INFO"
    logging.getLogger("OARContourLib").setLevel(level)
    logging.getLogger(__name__).info("Worker for queue %s, CUDA_VISIBLE_DEVICES=%s, Celery queue %s, broker %s",
                                     queue, os.environ.get("CUDA_VISIBLE_DEVICES", "(unset)"),
                                     celery_queue(config, queue), shown_broker(config.queue.broker))
    app.worker_main(["worker", f"--queues={celery_queue(config, queue)}", "--concurrency=1", "--pool=prefork", f"--hostname={name}",
                     f"--loglevel={level}", "--without-gossip", "--without-mingle"])
    return EXIT_OK
