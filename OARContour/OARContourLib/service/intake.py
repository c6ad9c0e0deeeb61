"""The Storage SCP: C-ECHO, and C-STORE of CT written raw to the spool (nothing else in the handler).

Each association gets its own staging folder under ``spool/incoming``. The C-STORE handler writes the
bytes exactly as received (preamble, file meta, dataset; no decoding) to a ``.part`` file and renames
it. A release or an abort only puts a message on a queue; the node's main loop then files the
instances of a released association into their series' job, and deletes those of an aborted one.
Callers not on the allow-list, and every caller while free disk space is below the reserve, are
rejected at association.
"""

from __future__ import annotations

import logging
import queue
import re
import shutil
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import NodeConfig
from .tls import server_context

logger = logging.getLogger(__name__)

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
RT_STRUCTURE_SET_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"
VERIFICATION = "1.2.840.10008.1.1"
_UID = re.compile(r"^[0-9.]{1,64}$")
#: A-ASSOCIATE-RJ (result, source, reason): permanent, service user, calling AE title not recognised.
_REJECT_CALLER = (0x01, 0x01, 0x03)
#: Transient, service user, no reason given: the node is out of disk space for now.
_REJECT_DISK = (0x02, 0x01, 0x01)
_OUT_OF_RESOURCES = 0xA700


@dataclass(frozen=True)
class AssociationEnded:
    """Put on the queue when an association ends: ``released`` False means aborted or dropped."""

    staging: Path
    calling_ae: str
    released: bool


def free_mb(path: Path) -> float:
    return shutil.disk_usage(path).free / 1e6


class Intake:
    """The listening side of the node; ``ended`` receives one :class:`AssociationEnded` per association."""

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.incoming = config.node.spool / "incoming"
        self.incoming.mkdir(parents=True, exist_ok=True)
        self.ended: queue.Queue[AssociationEnded] = queue.Queue()
        self._open: dict[Any, Path] = {}
        self._lock = threading.Lock()
        self._server: Any = None

    @property
    def open_staging(self) -> list[Path]:
        """Staging folders of associations still open (their instances are not filed yet)."""
        with self._lock:
            return list(self._open.values())

    def start(self) -> None:
        from pynetdicom import AE, evt

        node = self.config.node
        ae = AE(ae_title=node.ae_title)
        ae.maximum_associations = node.max_associations
        ae.maximum_pdu_size = 0  # raw writes with unlimited PDUs: fewer, larger reads
        ae.require_called_aet = True
        ae.add_supported_context(VERIFICATION)
        ae.add_supported_context(CT_IMAGE_STORAGE, _TRANSFER_SYNTAXES)
        if self.config.gateway is not None:  # the outside service returns structure sets to a gateway
            ae.add_supported_context(RT_STRUCTURE_SET_STORAGE, _TRANSFER_SYNTAXES)
        handlers: list[Any] = [(evt.EVT_REQUESTED, self._on_requested), (evt.EVT_C_STORE, self._on_store),
                    (evt.EVT_C_ECHO, lambda event: 0x0000), (evt.EVT_RELEASED, self._on_released),
                    (evt.EVT_ABORTED, self._on_aborted), (evt.EVT_CONN_CLOSE, self._on_closed)]
        self._server = ae.start_server((node.host, node.port), block=False, evt_handlers=handlers,
                                       ssl_context=server_context(self.config.tls))
        logger.info("Listening as %s on %s:%d", node.ae_title, node.host, node.port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    # -- handlers: each runs on the association's thread; none touches the ledger --------------
    def _on_requested(self, event: Any) -> None:
        # The requestor's AE title is filled in only during negotiation, after this event: read the request.
        calling = str(event.assoc.requestor.primitive.calling_ae_title).strip()
        node = self.config.node
        if calling not in node.allowed_callers:
            logger.warning("Rejected association from AE title %r: not in node.allowed_callers", calling)
            self._reject(event.assoc, _REJECT_CALLER)
        elif free_mb(node.spool) < node.disk_reserve_mb:
            logger.warning("Rejected association from %r: free disk below node.disk_reserve_mb (%d MB)",
                           calling, node.disk_reserve_mb)
            self._reject(event.assoc, _REJECT_DISK)
        else:
            staging = self.incoming / uuid.uuid4().hex
            with self._lock:
                self._open[event.assoc] = staging

    @staticmethod
    def _reject(assoc: Any, reason: tuple[int, int, int]) -> None:
        assoc.acse.send_reject(*reason)
        assoc.kill()

    def _on_store(self, event: Any) -> int:
        with self._lock:
            staging = self._open.get(event.assoc)
        if staging is None:
            return _OUT_OF_RESOURCES
        sop_uid = str(event.request.AffectedSOPInstanceUID)
        name = sop_uid if _UID.match(sop_uid) else uuid.uuid4().hex
        try:
            staging.mkdir(parents=True, exist_ok=True)
            part = staging / f"{name}.part"
            with part.open("wb") as handle:
                handle.write(event.encoded_dataset(include_meta=True))
            part.replace(staging / f"{name}.dcm")
        except OSError as exc:
            logger.error("Cannot write a received instance to the spool: %s", exc)
            return _OUT_OF_RESOURCES
        return 0x0000

    def _on_released(self, event: Any) -> None:
        self._end(event.assoc, released=True)

    def _on_aborted(self, event: Any) -> None:
        self._end(event.assoc, released=False)

    def _on_closed(self, event: Any) -> None:
        # A connection that closes without release or abort (peer vanished) counts as aborted.
        self._end(event.assoc, released=bool(event.assoc.is_released))

    def _end(self, assoc: Any, released: bool) -> None:
        with self._lock:
            staging = self._open.pop(assoc, None)
        if staging is not None:
            self.ended.put(AssociationEnded(staging, str(assoc.requestor.ae_title).strip(), released))


#: Uncompressed syntaxes always; the compressed ones the CT loader decodes when the decoders are installed.
_TRANSFER_SYNTAXES = [
    "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
    "1.2.840.10008.1.2",  # Implicit VR Little Endian
    "1.2.840.10008.1.2.2",  # Explicit VR Big Endian (retired, still sent by old scanners)
    "1.2.840.10008.1.2.1.99",  # Deflated Explicit VR Little Endian
    "1.2.840.10008.1.2.4.70",  # JPEG Lossless SV1
    "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 Lossless
    "1.2.840.10008.1.2.5",  # RLE Lossless
]
