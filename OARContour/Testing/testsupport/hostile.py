"""The bad-input contract as test assertions: exit code, one stderr line, nothing written, inputs untouched.

Every hostile case builds its broken input on disk (nothing binary is committed), hashes every input
file, runs the CLI (in-process through ``OARContourLib.cli.main``, or in a subprocess for hangs,
signals and resource limits) and checks the README's promise.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from OARContourLib.cli.main import main

MODULE_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def digest_tree(paths: Iterable[Path]) -> dict[str, str]:
    """sha256 of every regular file under ``paths`` (files or folders; FIFOs and devices are skipped)."""
    hashes: dict[str, str] = {}
    for root in paths:
        files = [root] if not root.is_dir() else sorted(p for p in root.rglob("*"))
        for path in files:
            if path.is_file():
                hashes[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def listing(folder: Path) -> set[str]:
    """Every entry under ``folder`` (hidden ones included), relative, so leftovers show up."""
    if not folder.is_dir():
        return set()
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def run_in_process(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> Run:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def run_subprocess(argv: Sequence[str], timeout: float = 60, preexec_fn=None, strict_utf8: bool = False) -> Run:
    """``python -m OARContourLib.cli.main ARGV`` on this source tree; fails the test on a hang.

    ``strict_utf8`` runs it as in a UTF-8 terminal, where printing an undecodable path fails.
    """
    env = {**os.environ, "PYTHONPATH": str(MODULE_ROOT), "PYTHONDONTWRITEBYTECODE": "1",
           **({"PYTHONIOENCODING": "utf-8"} if strict_utf8 else {})}
    try:
        done = subprocess.run([sys.executable, "-m", "OARContourLib.cli.main", *map(str, argv)], capture_output=True,
                              text=True, timeout=timeout, env=env, preexec_fn=preexec_fn, errors="replace")
    except subprocess.TimeoutExpired:
        pytest.fail(f"oarcontour {' '.join(map(str, argv))} hung for {timeout} s")
    return Run(done.returncode, done.stdout, done.stderr)


def assert_one_line_error(run: Run, code: int, *words: str) -> None:
    """Exit ``code``, stderr one ``oarcontour: error:`` line naming ``words``, no traceback."""
    lines = [line for line in run.err.splitlines() if line.strip()]
    assert run.code == code, f"exit {run.code}, expected {code}; stderr: {run.err!r}"
    assert len(lines) == 1 and lines[0].startswith("oarcontour: error:"), f"not one error line: {run.err!r}"
    assert "Traceback" not in run.err and "internal error" not in run.err
    for word in words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"


def assert_untouched(before: dict[str, str], inputs: Iterable[Path]) -> None:
    assert digest_tree(inputs) == before, "an input file changed, appeared or disappeared"


class Guard:
    """Hashes the inputs and lists the output folder; :meth:`check` asserts neither changed."""

    def __init__(self, inputs: Sequence[Path], output_folder: Path) -> None:
        self.inputs = list(inputs)
        self.output_folder = output_folder
        self.hashes = digest_tree(self.inputs)
        self.entries = listing(output_folder)

    def check(self) -> None:
        assert_untouched(self.hashes, self.inputs)
        assert listing(self.output_folder) == self.entries, (
            f"new files in {self.output_folder}: {sorted(listing(self.output_folder) - self.entries)}")
