"""The review gate and reviewer decisions on a real ledger (no network): what is held, what may be sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from OARContourLib.ct.problems import Severity
from OARContourLib.errors import InputError
from OARContourLib.findings import Finding
from OARContourLib.service.config import parse_config
from OARContourLib.service.ledger import JobState, Ledger
from OARContourLib.service.pipeline import gate
from OARContourLib.service.review import approve, reject
from OARContourLib.service.sender import queue_approved

LATERALITY = Finding("LATERALITY", Severity.ERROR, "Lung_L lies on the patient's right", roi_name="Lung_L")
WARNING = Finding("TEMPLATE_MISSING", Severity.WARNING, "Heart is missing", roi_name="Heart")


@pytest.fixture()
def ledger(tmp_path: Path):
    opened = Ledger(tmp_path / "ledger.sqlite")
    yield opened
    opened.close()


def _contoured(ledger: Ledger, uid: str, verification_errors: bool = False):
    job, _ = ledger.add_job(uid, source="test")
    ledger.transition(job.id, JobState.CHECKED, [JobState.RECEIVED])
    ledger.transition(job.id, JobState.CONTOURING, [JobState.CHECKED],
                      verification={"has_errors": verification_errors})
    return ledger.job(job.id)


def test_auto_mode_sends_warnings_but_holds_an_error_finding(ledger):
    clean, lateral = _contoured(ledger, "1.1"), _contoured(ledger, "1.2")
    assert gate(ledger, clean, "auto", [WARNING], False) is JobState.APPROVED
    assert gate(ledger, lateral, "auto", [WARNING, LATERALITY], False) is JobState.AWAITING_REVIEW
    held = ledger.job(lateral.id)
    assert "LATERALITY" in held["reason"] and "Lung_L" in held["reason"]
    queue_approved(ledger, parse_config({}))
    assert ledger.job(clean.id).state is JobState.SENDING and ledger.job(lateral.id).state is JobState.AWAITING_REVIEW


def test_hold_mode_holds_a_clean_job(ledger):
    job = _contoured(ledger, "2.1")
    assert gate(ledger, job, "hold", [], False) is JobState.AWAITING_REVIEW
    assert "hold" in ledger.job(job.id)["reason"]


def test_failed_verification_is_held_and_cannot_be_approved_or_sent(ledger):
    job = _contoured(ledger, "3.1", verification_errors=True)
    assert gate(ledger, job, "auto", [], True) is JobState.AWAITING_REVIEW
    with pytest.raises(InputError, match="failed verification"):
        approve(ledger, job.id, "Dr A")
    assert ledger.job(job.id).state is JobState.AWAITING_REVIEW
    # Even if a job were approved by hand, the sender's queue skips an export that failed verification.
    ledger.transition(job.id, JobState.APPROVED, [JobState.AWAITING_REVIEW])
    queue_approved(ledger, parse_config({}))
    assert ledger.job(job.id).state is JobState.APPROVED


def test_approve_and_reject_record_the_reviewer_once(ledger):
    first, second = _contoured(ledger, "4.1"), _contoured(ledger, "4.2")
    gate(ledger, first, "hold", [], False)
    gate(ledger, second, "hold", [], False)
    assert approve(ledger, first.id, "Dr A", comment="ok").state is JobState.APPROVED
    assert reject(ledger, second.id, "Dr B").state is JobState.REJECTED
    with pytest.raises(InputError, match="not awaiting_review"):
        approve(ledger, second.id, "Dr A")
    history = [(e.state, e.detail.get("reviewer")) for e in ledger.events(first.id) if e.kind == "state"]
    assert history[-1] == ("approved", "Dr A")
    assert ledger.job(second.id)["reviewer"] == "Dr B"


def test_transitions_are_idempotent(ledger):
    job, created = ledger.add_job("5.1", source="test")
    again, created_again = ledger.add_job("5.1", source="test")
    assert created and not created_again and again.id == job.id
    assert ledger.transition(job.id, JobState.CHECKED, [JobState.RECEIVED])
    assert not ledger.transition(job.id, JobState.CHECKED, [JobState.RECEIVED])
    assert [e.state for e in ledger.events(job.id)] == ["received", "checked"]
