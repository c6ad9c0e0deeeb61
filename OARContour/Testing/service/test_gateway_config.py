"""Gateway keys: ``[gateway]`` map and ``[gateway.service]``, validated by key; a gateway has no pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest
from OARContourLib.service.config import ConfigError, load_config, parse_config
from service.conftest import oarcontour


def test_issue_example_parses(tmp_path: Path):
    path = tmp_path / "gateway.toml"
    path.write_text('[gateway]\nmap = "deid-map.sqlite"\n[gateway.service]\nae_title = "SERVICE"\n'
                    'host = "127.0.0.1"\nport = 11113\n[destination]\nae_title = "TPS"\nport = 4242\n')
    config = load_config(path)
    assert config.gateway is not None and config.gateway.map == tmp_path / "deid-map.sqlite"
    assert (config.gateway.service_ae_title, config.gateway.service_port) == ("SERVICE", 11113)
    assert config.to_dict()["gateway"]["map"] == str(tmp_path / "deid-map.sqlite")
    assert parse_config({}).gateway is None and config.gateway.uid_root is None
    assert parse_config({"gateway": {"map": "m", "uid_root": "1.2.826.0.1.3680043.10.999"}}).gateway.uid_root \
        == "1.2.826.0.1.3680043.10.999"  # type: ignore[union-attr]


@pytest.mark.parametrize(("data", "key"), [
    ({"gateway": {"map": "m.sqlite"}, "pipeline": {}}, "pipeline"),
    ({"gateway": {}}, "gateway.map"),
    ({"gateway": {"map": "m.sqlite", "colour": 1}}, "gateway.colour"),
    ({"gateway": {"map": "m.sqlite", "service": {"port": 0}}}, "gateway.service.port"),
    ({"gateway": {"map": "m.sqlite", "service": {"ae_title": "A\\B"}}}, "gateway.service.ae_title"),
    ({"gateway": {"map": "m.sqlite", "service": {"where": "x"}}}, "gateway.service.where"),
    ({"gateway": {"map": "m.sqlite", "uid_root": "1.2.03"}}, "gateway.uid_root"),
    ({"gateway": {"map": "m.sqlite", "uid_root": "1." * 20 + "1"}}, "gateway.uid_root"),
])
def test_wrong_gateway_values_name_the_key(data, key):
    with pytest.raises(ConfigError) as raised:
        parse_config(data)
    assert key in str(raised.value)


def test_node_with_pipeline_and_gateway_exits_2(tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text('[gateway]\nmap = "m.sqlite"\n[pipeline]\nengine = "classical"\n')
    result = oarcontour("node", "--config", str(path))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "no [pipeline]" in result.stderr
