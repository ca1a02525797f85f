"""The shipped knowledge file passes the validator, quotes included when the seeds are here."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import KNOWLEDGE, ROOT, SEEDS


def test_shipped_knowledge_is_valid_without_sources() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "validate", str(KNOWLEDGE)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 errors" in result.stdout


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside the checkout")
def test_shipped_knowledge_quotes_occur_in_their_documents() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "validate", str(KNOWLEDGE), "--sources", str(SEEDS)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    sources, meetings, facts = (int(summary.split(", ")[i].split()[0]) for i in range(3))
    assert sources == 5
    assert meetings >= 30
    assert facts >= 250
