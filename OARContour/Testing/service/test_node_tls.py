"""Optional TLS: the node accepts only TLS associations with a trusted client certificate, and sends over TLS."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from service.conftest import NODE_AET, NodeProcess, wait_for, write_config
from testsupport.orthanc import free_port
from testsupport.series_factory import sorted_files

pytestmark = pytest.mark.slow


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _certificates(folder: Path) -> dict[str, Path]:
    """A test CA and one certificate for 127.0.0.1 used by every party (node, caller, destination)."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make test certificates")
    folder.mkdir()
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=OARContour test CA", cwd=folder)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "party.key", "-out", "party.csr",
             "-subj", "/CN=127.0.0.1", cwd=folder)
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n")
    _openssl("x509", "-req", "-in", "party.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "party.pem", "-days", "2", "-extfile", "san.ext", cwd=folder)
    return {"ca": folder / "ca.pem", "cert": folder / "party.pem", "key": folder / "party.key"}


def _client_context(certs: dict[str, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(certs["ca"]))
    context.load_cert_chain(str(certs["cert"]), str(certs["key"]))
    return context


def test_tls_in_and_out(small_phantom, tmp_path):
    from pynetdicom import AE, evt

    certs = _certificates(tmp_path / "certs")
    received: list[str] = []

    def on_store(event):
        received.append(str(event.dataset.Modality))
        return 0x0000

    destination = AE(ae_title="TPS")
    destination.add_supported_context("1.2.840.10008.5.1.4.1.1.481.3")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(certs["ca"]))
    server_context.verify_mode = ssl.CERT_REQUIRED
    server_context.load_cert_chain(str(certs["cert"]), str(certs["key"]))
    destination_port = free_port()
    server = destination.start_server(("127.0.0.1", destination_port), block=False, ssl_context=server_context,
                                      evt_handlers=[(evt.EVT_C_STORE, on_store)])
    folder = tmp_path / "node"
    folder.mkdir()
    node_port = free_port()
    config = write_config(folder / "node.toml", port=node_port, destination_port=destination_port,
                          destination_aet="TPS")
    with config.open("a") as handle:
        handle.write(f'\n[tls]\nenabled = true\ncertificate = "{certs["cert"]}"\nprivate_key = "{certs["key"]}"\n'
                     f'ca_certificates = "{certs["ca"]}"\n')
    node = NodeProcess(config, node_port, folder / "node.log")
    try:
        import sys

        from service.conftest import REPO_ROOT, _env

        node.process = subprocess.Popen([sys.executable, "-m", "OARContourLib.cli.main", "node", "--config",
                                         str(config)], stderr=node.log.open("ab"), env=_env(), cwd=REPO_ROOT)
        caller = AE(ae_title="TESTSCU")
        caller.add_requested_context("1.2.840.10008.5.1.4.1.1.2", ["1.2.840.10008.1.2.1"])
        caller.add_requested_context("1.2.840.10008.1.1")

        def tls_association():
            assoc = caller.associate("127.0.0.1", node.port, ae_title=NODE_AET,
                                     tls_args=(_client_context(certs), "127.0.0.1"))
            return assoc if assoc.is_established else None

        assoc = wait_for(tls_association, 60, "a TLS association")
        statuses = [int(assoc.send_c_store(path).Status) for path in sorted_files(small_phantom.ct_dir)]
        assoc.release()
        assert statuses == [0] * 16
        plain = caller.associate("127.0.0.1", node.port, ae_title=NODE_AET)  # no TLS: refused
        assert not plain.is_established
        wait_for(lambda: node.job_state() == "sent", 90, "the RTSTRUCT to be sent over TLS")
        assert received == ["RTSTRUCT"]
    finally:
        node.stop()
        server.shutdown()
