"""Settings: config/settings.yaml, each key overridable by a BOT_<KEY> environment variable.

The token is deliberately not a setting: it comes only from TELEGRAM_BOT_TOKEN, is never written
to a file, and is hidden from `repr` so it cannot leak into a log or a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from bot.core.engine import Thresholds

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SETTINGS = ROOT / "config" / "settings.yaml"
ENV_PREFIX = "BOT_"


class ConfigError(Exception):
    """A bad setting; the message is one line naming the key."""


class ThresholdSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: float = Field(Thresholds.answer, ge=0, le=2)
    clarify_margin: float = Field(Thresholds.clarify_margin, ge=0, le=1)
    suggest: float = Field(Thresholds.suggest, ge=0, le=2)
    unknown_words: float = Field(Thresholds.unknown_words, ge=0, le=1)
    unknown_words_answer: float = Field(Thresholds.unknown_words_answer, ge=0, le=2)
    known_weight: float = Field(Thresholds.known_weight, ge=0, le=2)
    model_margin: float = Field(Thresholds.model_margin, ge=0, le=10)
    topic: float = Field(Thresholds.topic, ge=0, le=2)
    meeting_ambiguity: float = Field(Thresholds.meeting_ambiguity, ge=0, le=2)
    neutral_ambiguity: float = Field(Thresholds.neutral_ambiguity, ge=0, le=2)
    clarify_ratio: float = Field(Thresholds.clarify_ratio, ge=0, le=1)
    coverage: float = Field(Thresholds.coverage, ge=0, le=1)

    def to_thresholds(self) -> Thresholds:
        return Thresholds(**self.model_dump())


class Settings(BaseModel):
    """Every key is documented in config/settings.example.yaml."""

    model_config = ConfigDict(extra="forbid")

    knowledge_path: Path = Path("knowledge/meetings.yaml")
    max_knowledge_bytes: int = Field(5 * 1024 * 1024, gt=0)
    admin_ids: list[int] = []
    state_db: Path = Path("state/bot.sqlite3")
    log_level: str = Field("INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    context_ttl_minutes: float = Field(30, gt=0)
    flood_questions_per_minute: int = Field(20, gt=0)
    reload_check_seconds: float = Field(5, gt=0)
    backups_kept: int = Field(20, ge=1)
    thresholds: ThresholdSettings = ThresholdSettings()
    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"

    def resolve(self, path: Path) -> Path:
        """Relative paths are relative to the project root, wherever the bot is started."""
        return path if path.is_absolute() else ROOT / path


def load_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read the settings file (if any), apply environment overrides, validate."""
    environ = dict(os.environ if environ is None else environ)
    path = path or Path(environ.get("BOT_CONFIG", DEFAULT_SETTINGS))
    data: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML: {err}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: must be a mapping of settings")
        data = loaded or {}
    for key, field in Settings.model_fields.items():
        if key in ("telegram_token", "telegram_api_url"):
            continue
        value = environ.get(ENV_PREFIX + key.upper())
        if value is None:
            continue
        if key == "admin_ids":
            data[key] = [part.strip() for part in value.split(",") if part.strip()]
        elif key == "thresholds":
            data[key] = yaml.safe_load(value)
        else:
            data[key] = value
        del field
    if environ.get("TELEGRAM_BOT_TOKEN"):
        data["telegram_token"] = environ["TELEGRAM_BOT_TOKEN"]
    if environ.get("TELEGRAM_API_URL"):
        data["telegram_api_url"] = environ["TELEGRAM_API_URL"].rstrip("/")
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        key = ".".join(str(part) for part in first["loc"]) or "(settings)"
        raise ConfigError(f"setting '{key}': {first['msg']}") from None
