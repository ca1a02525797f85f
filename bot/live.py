"""The live knowledge: the engine every answer uses, and the only code that replaces it.

Front ends read `live.engine` once per question; a reload builds a whole new Engine off to the
side and swaps one reference, so a question gets the old or the new knowledge, never a
half-built index. Nothing reaches the swap without passing the validator, so a broken file on
disk or in an upload never replaces a good version. Writes are atomic (temporary file in the
same folder, fsync, rename) and the replaced version is kept in the backups folder.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.engine import Engine, Thresholds
from bot.core.knowledge import Knowledge, KnowledgeError, knowledge_from_bytes, version_of
from bot.core.validation import Problem

log = logging.getLogger(__name__)


class StaleVersion(Exception):
    """The file changed after an upload was checked against it: applying would lose edits."""


@dataclass(frozen=True)
class Diff:
    """What a new version changes, by fact id."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.removed)} removed",
                 f"{len(self.changed)} changed"]  # fmt: skip
        return "facts: " + ", ".join(parts)


@dataclass(frozen=True)
class Staged:
    """An uploaded version that passed validation, waiting for Apply or Discard."""

    raw: bytes
    knowledge: Knowledge
    base_version: str
    diff: Diff

    @property
    def version(self) -> str:
        return self.knowledge.version


@dataclass(frozen=True)
class DiskCheck:
    """Outcome of looking at the file on disk: nothing new, reloaded, or a broken version."""

    reloaded: bool = False
    problems: tuple[str, ...] = ()
    broken_version: str | None = None


def diff(old: Knowledge, new: Knowledge) -> Diff:
    added = sorted(set(new.facts) - set(old.facts))
    removed = sorted(set(old.facts) - set(new.facts))
    changed = sorted(
        fact_id
        for fact_id in set(old.facts) & set(new.facts)
        if _essentials(old, fact_id) != _essentials(new, fact_id)
    )
    return Diff(added, removed, changed)


def _essentials(knowledge: Knowledge, fact_id: str) -> tuple[object, ...]:
    fact = knowledge.facts[fact_id]
    return (fact.questions, fact.answer, fact.source, fact.paragraph, fact.quote, fact.meeting)


class LiveKnowledge:
    """Owns the knowledge file, its backups, and the engine built from it."""

    def __init__(
        self,
        path: Path,
        thresholds: Thresholds | None = None,
        max_bytes: int = 5 * 1024 * 1024,
        backups_kept: int = 20,
    ) -> None:
        self.path = path
        self.thresholds = thresholds
        self.max_bytes = max_bytes
        self.backups_kept = backups_kept
        self.backups = path.parent / "backups"
        self._lock = threading.Lock()
        self._signature: tuple[float, int] | None = None
        self._reported_broken: str | None = None
        self._raw = self._read()
        self.engine = self._build(self._raw, str(path))
        self._signature = self._stat()

    @property
    def version(self) -> str:
        return self.engine.knowledge.version

    def _read(self) -> bytes:
        size = self.path.stat().st_size
        if size > self.max_bytes:
            problem = Problem(
                "error", "", f"file is {size:,} bytes, over the {self.max_bytes:,} limit"
            )
            raise KnowledgeError(str(self.path), [problem])
        return self.path.read_bytes()

    def _build(self, raw: bytes, filename: str) -> Engine:
        knowledge = knowledge_from_bytes(raw, filename, self.max_bytes)
        return Engine(knowledge, self.thresholds)

    def _stat(self) -> tuple[float, int] | None:
        try:
            info = self.path.stat()
        except OSError:
            return None
        return (info.st_mtime, info.st_size)

    def check_disk(self, force: bool = False) -> DiskCheck:
        """Reload if the file changed (mtime/size, then content hash). Blocking: run off-loop."""
        with self._lock:
            signature = self._stat()
            if not force and signature == self._signature:
                return DiskCheck()
            self._signature = signature
            try:
                raw = self._read()
            except FileNotFoundError:
                return self._broken("missing", [f"{self.path}: the file is missing"])
            except KnowledgeError as err:
                return self._broken("oversize", err.lines(20))
            except OSError as err:
                return self._broken("unreadable", [f"{self.path}: cannot read: {err}"])
            version = version_of(raw)
            if version == self.version:
                self._reported_broken = None
                return DiskCheck()
            try:
                engine = self._build(raw, str(self.path))
            except KnowledgeError as err:
                return self._broken(version, err.lines(20))
            self._swap(engine, raw)
            self._reported_broken = None
            log.info("knowledge reloaded from disk: version %s", version)
            return DiskCheck(reloaded=True)

    def _broken(self, version: str, problems: list[str]) -> DiskCheck:
        """Keep answering from the last good version; report each broken version once."""
        if self._reported_broken == version:
            return DiskCheck()
        self._reported_broken = version
        log.warning("knowledge file %s is invalid (%s); still answering from version %s",
                    self.path, problems[0] if problems else version, self.version)  # fmt: skip
        return DiskCheck(problems=tuple(problems), broken_version=version)

    def stage(self, raw: bytes, filename: str) -> Staged:
        """Validate an upload (raises KnowledgeError) and describe its change."""
        knowledge = knowledge_from_bytes(raw, filename, self.max_bytes)
        current = self.engine.knowledge
        return Staged(raw, knowledge, current.version, diff(current, knowledge))

    def apply(self, staged: Staged) -> Engine:
        """Write a staged version atomically, keep a backup of the old one, swap the engine."""
        with self._lock:
            on_disk = version_of(self.path.read_bytes()) if self.path.exists() else None
            if staged.base_version != self.version or on_disk not in (self.version, None):
                raise StaleVersion(
                    f"the knowledge changed since this file was checked (now {self.version}); "
                    "send it again to see the changes against the current version"
                )
            engine = Engine(staged.knowledge, self.thresholds)
            self._backup_current()
            self._write(staged.raw)
            self._swap(engine, staged.raw)
            return engine

    def rollback(self) -> Engine:
        """Restore the most recent backup (which itself is backed up first)."""
        with self._lock:
            backups = self.list_backups()
            for backup in backups:
                raw = backup.read_bytes()
                if version_of(raw) == self.version:
                    continue
                engine = self._build(raw, str(backup))
                self._backup_current()
                self._write(raw)
                backup.unlink(missing_ok=True)
                self._swap(engine, raw)
                return engine
            raise FileNotFoundError("there is no earlier version to roll back to")

    def export(self) -> bytes:
        """The live version's bytes, even if the file on disk is now broken or gone."""
        return self._raw

    def _swap(self, engine: Engine, raw: bytes) -> None:
        """One reference assignment each: a reader sees the old engine or the new one."""
        self._raw = raw
        self.engine = engine

    def list_backups(self) -> list[Path]:
        """Newest first; names start with a UTC timestamp, so names sort by time."""
        if not self.backups.is_dir():
            return []
        return sorted(self.backups.glob("*.yaml"), reverse=True)

    def _backup_current(self) -> None:
        if not self.path.exists():
            return
        raw = self.path.read_bytes()
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        self.backups.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.backups / f"{stamp}-{version_of(raw)}.yaml", raw)
        for old in self.list_backups()[self.backups_kept :]:
            old.unlink(missing_ok=True)

    def _write(self, raw: bytes) -> None:
        _atomic_write(self.path, raw)
        self._signature = self._stat()


def _atomic_write(path: Path, raw: bytes) -> None:
    """Temporary file in the same folder, fsync, rename: readers see old or new, never half."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
