"""Optional TLS for the node (server side) and the sender (client side), from the standard ``ssl`` module."""

from __future__ import annotations

import ssl

from .config import TlsSettings


def server_context(tls: TlsSettings) -> ssl.SSLContext | None:
    """Mutual TLS for incoming associations: our certificate, callers' certificates required."""
    if not tls.enabled:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(tls.ca_certificates))
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(str(tls.certificate), str(tls.private_key))
    return context


def client_context(tls: TlsSettings) -> ssl.SSLContext | None:
    """TLS for outgoing associations: the destination's certificate checked, ours presented."""
    if not tls.enabled:
        return None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(tls.ca_certificates))
    context.load_cert_chain(str(tls.certificate), str(tls.private_key))
    return context
