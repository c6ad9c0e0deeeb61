"""``oarcontour rules`` lists every check from the code: CT problems, writer checks, verify and QA rules."""

from __future__ import annotations

import ast
import inspect
import json
import re
import textwrap

from OARContourLib.cli.main import main
from OARContourLib.ct.problems import ProblemCode
from OARContourLib.qa import RULES as QA_RULES
from OARContourLib.rtstruct.rules import RULES as VERIFY_RULES


def test_rules_lists_every_check_with_a_description(capsys) -> None:
    assert main(["rules", "--json"]) == 0
    checks = json.loads(capsys.readouterr().out)["checks"]
    by_family: dict[str, list[str]] = {}
    for check in checks:
        assert check["description"] and check["severity"] in ("error", "warning"), check
        by_family.setdefault(check["family"], []).append(check["code"])
    assert by_family["ct"] == [c.value for c in ProblemCode]
    assert by_family["verify"] == [r.code for r in VERIFY_RULES]
    assert by_family["qa"] == [r.code for r in QA_RULES]
    assert "STRUCTURE_SET_LABEL_TOO_LONG" in by_family["write"]


def test_rules_text_for_one_family(capsys) -> None:
    assert main(["rules", "--family", "qa"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == [r.code for r in QA_RULES]
    assert {line.split()[0] for line in lines} == {"qa"}


def test_codes_shared_by_several_doors_have_one_severity() -> None:
    severities: dict[str, set[str]] = {}
    for rule in (*VERIFY_RULES, *QA_RULES):
        severities.setdefault(rule.code, set()).add(rule.severity.value)
    assert {code: s for code, s in severities.items() if len(s) > 1} == {}


def _plain(text: str) -> str:
    """Docstring text without reST markup (``X_L``, :data:`TINY_CC`), spaces collapsed."""
    text = re.sub(r":\w+:`~?([^`]*)`", r"\1", text).replace("``", "")
    return " ".join(text.split()).rstrip(".")


def test_rule_docstrings_do_not_repeat_their_description() -> None:
    """What a rule checks is written once, in ``description``; a docstring of its own says more."""
    for rule in (*VERIFY_RULES, *QA_RULES):
        cls = rule if isinstance(rule, type) else type(rule)
        written = ast.get_docstring(ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0])
        if written is None:
            assert cls.__doc__ == cls.description != "", f"{cls.__name__}: no docstring taken from its description"
        else:
            assert _plain(written) != _plain(cls.description), f"{cls.__name__}: the docstring repeats description"
