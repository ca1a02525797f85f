"""The live knowledge: reloads, uploads, backups and rollback never lose a good version."""

from __future__ import annotations

import shutil
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from bot.core.knowledge import KnowledgeError, version_of
from bot.live import LiveKnowledge, StaleVersion
from tests.conftest import FIXTURES, KNOWLEDGE

BAD = FIXTURES / "bad_knowledge"
QUESTION = "who chaired the glen cove expert group meeting"
EGM_ANSWER_START = "The aide-memoire for the Expert Group Meeting"


@pytest.fixture
def live(tmp_path: Path) -> LiveKnowledge:
    path = tmp_path / "knowledge" / "meetings.yaml"
    path.parent.mkdir()
    shutil.copyfile(KNOWLEDGE, path)
    return LiveKnowledge(path, backups_kept=3)


def reworded(marker: str) -> bytes:
    return KNOWLEDGE.read_text().replace(EGM_ANSWER_START, marker + EGM_ANSWER_START, 1).encode()


def bad_files() -> list[Path]:
    """The corpus, except the BOM file: a BOM is accepted (dropped), not an error."""
    return sorted(p for p in BAD.iterdir() if p.name != "bom.yaml")


def test_the_bom_file_in_the_corpus_loads(tmp_path: Path) -> None:
    path = tmp_path / "k.yaml"
    shutil.copyfile(BAD / "bom.yaml", path)
    assert LiveKnowledge(path).engine.knowledge.facts


@pytest.mark.parametrize("bad", bad_files(), ids=lambda p: p.name)
def test_a_bad_file_on_disk_never_replaces_the_live_knowledge(
    live: LiveKnowledge, bad: Path
) -> None:
    version = live.version
    shutil.copyfile(bad, live.path)
    started = time.perf_counter()
    outcome = live.check_disk()
    elapsed = time.perf_counter() - started
    assert outcome.problems and not outcome.reloaded
    assert len(outcome.problems) <= 2, outcome.problems
    assert str(live.path) in outcome.problems[0]
    assert elapsed < 1.0
    if bad.name != "deep_nesting.yaml":  # 20 KB; tracing its 20,000 tokens takes 17 s
        tracemalloc.start()
        live.check_disk(force=True)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < 50 * 1024 * 1024
    assert live.version == version
    assert live.engine.answer(QUESTION).fact == "egm-2002-chairs"
    assert live.check_disk(force=True).problems == ()  # each broken version is reported once


def test_a_50_mb_file_is_refused_before_it_is_read(live: LiveKnowledge) -> None:
    version = live.version
    with live.path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    tracemalloc.start()
    outcome = live.check_disk()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "over the" in outcome.problems[0] and peak < 10 * 1024 * 1024
    assert live.version == version


def test_deleted_file_keeps_the_last_good_version(live: LiveKnowledge) -> None:
    version = live.version
    live.path.unlink()
    assert "missing" in live.check_disk().problems[0]
    assert live.version == version and live.export() == KNOWLEDGE.read_bytes()


def test_an_edit_on_disk_is_picked_up(live: LiveKnowledge) -> None:
    live.path.write_bytes(reworded("EDITED: "))
    assert live.check_disk().reloaded
    assert live.engine.answer(QUESTION).answer.startswith("EDITED: ")


def test_apply_writes_atomically_keeps_a_backup_and_rollback_restores(live: LiveKnowledge) -> None:
    original = live.version
    staged = live.stage(reworded("NEW: "), "upload.yaml")
    assert staged.diff.changed == ["egm-2002-chairs"] and not staged.diff.added
    live.apply(staged)
    assert live.path.read_bytes() == reworded("NEW: ")
    assert [b.name.endswith(f"{original}.yaml") for b in live.list_backups()] == [True]
    assert not list(live.path.parent.glob(".*.tmp"))
    live.rollback()
    assert live.version == original and live.path.read_bytes() == KNOWLEDGE.read_bytes()


def test_only_the_configured_number_of_backups_is_kept(live: LiveKnowledge) -> None:
    for i in range(5):
        live.apply(live.stage(reworded(f"V{i}: "), "upload.yaml"))
    assert len(live.list_backups()) == 3


def test_an_apply_based_on_an_older_version_is_refused(live: LiveKnowledge) -> None:
    first = live.stage(reworded("ONE: "), "a.yaml")
    second = live.stage(reworded("TWO: "), "b.yaml")
    live.apply(first)
    with pytest.raises(StaleVersion):
        live.apply(second)
    assert live.path.read_bytes() == reworded("ONE: ")


def test_an_invalid_upload_is_refused_with_its_lines(live: LiveKnowledge) -> None:
    with pytest.raises(KnowledgeError) as caught:
        live.stage(b"sources: [\n", "upload.yaml")
    assert caught.value.lines()[0].startswith("upload.yaml:")


def test_answers_during_reloads_come_from_the_old_or_the_new_version(live: LiveKnowledge) -> None:
    versions = [KNOWLEDGE.read_bytes(), reworded("NEW: ")]
    answers: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            try:
                answers.append(live.engine.answer(QUESTION).answer)
            except BaseException as err:
                errors.append(err)

    askers = [threading.Thread(target=ask) for _ in range(2)]
    for thread in askers:
        thread.start()
    for i in range(4):
        live.path.write_bytes(versions[(i + 1) % 2])
        assert live.check_disk().reloaded
    stop.set()
    for thread in askers:
        thread.join()
    expected = {live.engine.knowledge.facts["egm-2002-chairs"].answer.removeprefix("NEW: ")}
    expected.add("NEW: " + next(iter(expected)))
    assert not errors and answers and set(answers) <= expected
    assert version_of(live.path.read_bytes()) == live.version
