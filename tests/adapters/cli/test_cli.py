"""The command line as a user runs it: a real subprocess, real files, real exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES, KNOWLEDGE, ROOT


def run_bot(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_ask_json_has_the_documented_shape() -> None:
    done = run_bot("ask", "--json", "who chaired the glen cove expert group meeting")
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout)
    expected = {"question", "status", "answer", "sources", "score", "fact", "alternatives"}
    assert expected <= set(reply)
    assert reply["status"] == "answered" and reply["fact"] == "egm-2002-chairs"
    assert set(reply["sources"][0]) == {"document", "title", "symbol", "paragraph", "quote"}
    assert 0.0 <= reply["score"] <= 1.0


def test_ask_json_reads_one_question_per_line_in_order() -> None:
    questions = [
        "when was the egm held",
        "what's the weather in Geneva",
        "who chaired the meeting?",
    ]
    done = run_bot("ask", "--json", stdin="\n".join(questions) + "\n")
    assert done.returncode == 0, done.stderr
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["question"] for r in replies] == questions
    assert [r["status"] for r in replies][1:] == ["no_match", "clarify"]


def test_ask_prints_the_answer_and_its_source_for_a_person() -> None:
    done = run_bot("ask", "who chaired the glen cove expert group meeting")
    assert done.returncode == 0
    assert "Expert Group Meeting" in done.stdout and "aide-memoire" in done.stdout.lower()


def test_validate_passes_on_the_shipped_file_and_fails_on_a_broken_one(tmp_path: Path) -> None:
    good = run_bot("validate", str(KNOWLEDGE))
    assert good.returncode == 0, good.stdout
    broken = FIXTURES / "knowledge" / "broken" / "duplicate_fact_id.yaml"
    bad = run_bot("validate", str(broken))
    assert bad.returncode == 1
    assert f"{broken}:" in bad.stdout and "error" in bad.stdout


def test_eval_prints_the_rates() -> None:
    cases = FIXTURES / "cases.yaml"
    done = run_bot("eval", str(cases))
    assert done.returncode == 0, done.stderr
    assert "in-scope accuracy" in done.stdout and "out-of-scope refusal" in done.stdout
