"""Node configuration: defaults, validation naming the key, and `oarcontour node` exiting 2 on a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest
from OARContourLib.service.config import ConfigError, load_config, parse_config
from service.conftest import oarcontour


def test_defaults_are_loopback_and_auto_review():
    config = parse_config({})
    assert config.node.host == "127.0.0.1" and config.node.allowed_callers == ()
    assert config.review.mode == "auto" and config.pipeline.engine == "classical" and not config.tls.enabled
    assert config.node.keep_finished_days == 7.0


def test_keep_finished_days_takes_fractions_and_zero():
    assert parse_config({"node": {"keep_finished_days": 0.5}}).node.keep_finished_days == 0.5
    assert parse_config({"node": {"keep_finished_days": 0}}).node.keep_finished_days == 0.0


def test_issue_example_parses_with_relative_paths(tmp_path: Path):
    path = tmp_path / "node.toml"
    path.write_text('[node]\nae_title = "OARCONTOUR"\nspool = "spool"\nledger = "l.sqlite"\n'
                    'allowed_callers = ["ORTHANC", "CT_SCANNER"]\nquiet_seconds = 10\ndisk_reserve_mb = 5000\n'
                    '[pipeline]\nengine = "classical"\ntemplate = "Thorax"\nderive = ["SpinalCanal:5"]\ntps = "generic"\n'
                    '[destination]\nae_title = "TPS"\nhost = "127.0.0.1"\nport = 4242\n[review]\nmode = "hold"\n')
    config = load_config(path)
    assert config.node.spool == tmp_path / "spool" and config.node.ledger == tmp_path / "l.sqlite"
    assert config.node.allowed_callers == ("ORTHANC", "CT_SCANNER") and config.review.mode == "hold"
    assert config.pipeline.derive == ("SpinalCanal:5",) and config.node.quiet_seconds == 10.0


@pytest.mark.parametrize(("data", "key"), [
    ({"node": {"port": 70000}}, "node.port"),
    ({"node": {"ae_title": "THIS_TITLE_IS_TOO_LONG"}}, "node.ae_title"),
    ({"node": {"allowed_callers": "ORTHANC"}}, "node.allowed_callers"),
    ({"node": {"allowed_callers": ["OK", 5]}}, "node.allowed_callers[1]"),
    ({"node": {"quiet_seconds": -1}}, "node.quiet_seconds"),
    ({"node": {"colour": "blue"}}, "node.colour"),
    ({"node": {"keep_finished_days": -1}}, "node.keep_finished_days"),
    ({"node": {"keep_finished_days": "7"}}, "node.keep_finished_days"),
    ({"node": {"keep_finished_days": True}}, "node.keep_finished_days"),
    ({"node": {"keep_finished_days": float("nan")}}, "node.keep_finished_days"),
    ({"pipeline": {"engine": "magic"}}, "pipeline.engine"),
    ({"pipeline": {"template": "Knee"}}, "pipeline.template"),
    ({"pipeline": {"tps": "nosuchtps"}}, "pipeline.tps"),
    ({"pipeline": {"derive": ["SpinalCanal:"]}}, "pipeline.derive[0]"),
    ({"destination": {"port": "4242"}}, "destination.port"),
    ({"review": {"mode": "sometimes"}}, "review.mode"),
    ({"tls": {"enabled": True}}, "tls.certificate"),
])
def test_bad_values_name_their_key(data, key):
    with pytest.raises(ConfigError) as raised:
        parse_config(data)
    assert str(raised.value).startswith(f"{key}:") or f"key {key}." in str(raised.value)


def test_node_command_exits_2_with_one_line_naming_the_key(tmp_path: Path):
    path = tmp_path / "node.toml"
    path.write_text('[node]\nport = "eleven"\n')
    result = oarcontour("node", "--config", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "node.port" in lines[0]
    assert not (tmp_path / "spool").exists()


def test_service_modules_import_without_pynetdicom(tmp_path: Path):
    """The Slicer module, the Logic's job methods, `jobs` and `run` never need pynetdicom at import."""
    import subprocess
    import sys

    from service.conftest import REPO_ROOT, _env

    code = ("import sys; sys.modules['pynetdicom'] = None\n"
            "import OARContourLib.service.node, OARContourLib.service.pipeline, OARContourLib.service.sender\n"
            "import OARContourLib.cli.main, OARContourLib.logic.service_jobs\n"
            "from OARContourLib.cli.main import main\n"
            f"sys.exit(main(['node', '--config', {str(tmp_path / 'n.toml')!r}]))\n")
    (tmp_path / "n.toml").write_text("[node]\nport = 11112\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), cwd=REPO_ROOT)
    assert result.returncode == 2, result.stderr
    assert "needs pynetdicom" in result.stderr and "oarcontour[service]" in result.stderr


@pytest.mark.parametrize(("label", "rule"), [
    ("A_LABEL_OF_17_CHR", "must have 1–16 characters"),
    ("   ", "must be a non-empty string"),
    ("Plan\\1", "must not contain a backslash or control characters"),
    ("Plan\t1", "must not contain a backslash or control characters"),
])
def test_a_bad_structure_set_label_names_key_value_and_rule(label: str, rule: str):
    with pytest.raises(ConfigError) as raised:
        parse_config({"pipeline": {"structure_set_label": label}})
    message = str(raised.value)
    assert message.startswith("pipeline.structure_set_label:") and repr(label.strip() or label) in message
    assert rule in message


def test_the_config_takes_a_label_the_writer_takes():
    from OARContourLib.name_rules import STRUCTURE_SET_LABEL_MAX, label_ok

    label = "Auto/OAR é" + "x" * (STRUCTURE_SET_LABEL_MAX - 10)
    assert len(label) == STRUCTURE_SET_LABEL_MAX and label_ok(label)
    assert parse_config({"pipeline": {"structure_set_label": label}}).pipeline.structure_set_label == label


def test_the_rtstruct_file_name_is_safe_for_any_valid_label(tmp_path: Path):
    from OARContourLib.service.ledger import Job, JobState
    from OARContourLib.service.pipeline import rtstruct_path

    job = Job(7, "1.2.3", JobState.RECEIVED, {"out_dir": str(tmp_path)})
    assert rtstruct_path(job, parse_config({})).name == "RS_job7_OARContour.dcm"
    path = rtstruct_path(job, parse_config({"pipeline": {"structure_set_label": "../Plan A"}}))
    assert path.parent == tmp_path and path.name.startswith("RS_job7_") and path.suffix == ".dcm"
    assert not any(part in path.name for part in ("/", " ", ".."))
