"""``oarcontour rules`` lists every check from the code: CT problems, writer checks, verify and QA rules."""

from __future__ import annotations

import json

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
