"""Typed settings from CIVICBOT_* environment variables; the embedded default needs none."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent


def default_faq_dir() -> Path:
    """The bundled knowledge base: inside an installed wheel, or the checkout's `faq/` folder."""
    bundled = PACKAGE_DIR / "_faq"
    return bundled if bundled.is_dir() else PACKAGE_DIR.parent / "faq"


def default_data_dir() -> Path:
    """Where the embedded SQLite database lives: $XDG_DATA_HOME/civicbot (~/.local/share/civicbot)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "civicbot"


class Settings(BaseSettings):
    """Everything configurable; read once by the composition root."""

    model_config = SettingsConfigDict(env_prefix="CIVICBOT_", extra="ignore")

    database_url: str | None = None
    data_dir: Path = default_data_dir()
    faq_dir: Path = default_faq_dir()
    env: str = "dev"
    log_level: str = "WARNING"
    index_cache: bool = True  # keep built indexes in data_dir/index-cache for fast start-up

    @property
    def embedded(self) -> bool:
        """True when running on the embedded default database (no URL configured)."""
        return not self.database_url

    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'civicbot.db'}"
