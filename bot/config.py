"""Typed settings from CIVICBOT_* environment variables; the embedded default needs none."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent


def default_faq_dir() -> Path:
    """The bundled knowledge base: inside an installed wheel, or the checkout's `faq/` folder."""
    bundled = PACKAGE_DIR / "_faq"
    return bundled if bundled.is_dir() else PACKAGE_DIR.parent / "faq"


def default_demo_cases() -> Path:
    """The fictional demo case dataset: inside an installed wheel, or the checkout's `data/demo/`."""
    bundled = PACKAGE_DIR / "_demo" / "cases.csv"
    return bundled if bundled.is_file() else PACKAGE_DIR.parent / "data" / "demo" / "cases.csv"


def default_data_dir() -> Path:
    """Where the embedded SQLite database lives: $XDG_DATA_HOME/civicbot (~/.local/share/civicbot)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "civicbot"


DEV_SECRET_KEY = "dev-only-insecure-key-do-not-deploy"
DEV_CASE_PEPPER = "dev-only-case-pepper-do-not-deploy"
CHANNEL_SECRETS = ("line_channel_secret", "line_channel_access_token", "telegram_bot_token", "telegram_webhook_secret")
PLACEHOLDER_WORDS = ("changeme", "placeholder", "password", "secret", "token", "dummy", "example")
TELEGRAM_SECRET_CHARS = re.compile(r"[A-Za-z0-9_-]{1,256}")


def is_placeholder(value: str) -> bool:
    """True for values nobody would use as a real secret: blank, 'changeme', 'xxx…', '<your token>'."""
    folded = value.strip().lower()
    bare = folded.replace("-", "").replace("_", "").replace(" ", "")
    return (
        len(folded) < 8
        or set(folded) <= set("x*.-_")
        or folded.startswith(("your", "<", "replace", "insert"))
        or any(bare in (word, f"my{word}", f"{word}here") or bare.startswith("changeme") for word in PLACEHOLDER_WORDS)
    )


class Settings(BaseSettings):
    """Everything configurable; read once by the composition root."""

    model_config = SettingsConfigDict(env_prefix="CIVICBOT_", extra="ignore", populate_by_name=True)

    database_url: str | None = None
    data_dir: Path = default_data_dir()
    faq_dir: Path = default_faq_dir()
    env: str = "dev"
    log_level: str = "WARNING"
    index_cache: bool = True  # keep built indexes in data_dir/index-cache for fast start-up
    # Rasa path (actions/): an FAQ pick whose response-selector confidence is below this falls back. Chosen on the
    # dev set by scripts/rasa-e2e's sweep (best right-minus-wrong answers); retune when config.yml changes.
    rasa_min_confidence: float = 0.09
    # Keys hashes of user ids (and signs admin sessions); the dev default is refused outside dev.
    secret_key: str = DEV_SECRET_KEY
    # Origins allowed to call the chat API from a browser (agency sites embedding the widget); "*" = any.
    allowed_origins: list[str] = ["*"]
    max_body_bytes: int = 16_384  # request bodies of the public chat API
    chat_threads: int = 0  # threads running chat turns; 0 = on the event loop for SQLite, 4 PostgreSQL, 16 Rasa
    # Case lookup: an agency case system over HTTP when set (see bot/adapters/case_http.py), else imported cases.
    case_api_url: str | None = None
    case_api_token: str | None = None
    case_api_timeout: float = 5.0
    # Keys the stored verifier hashes; changing it means re-importing cases. Refused outside dev.
    case_verifier_pepper: str = DEV_CASE_PEPPER
    demo_cases: Path = default_demo_cases()  # loaded on the embedded default when no case is stored
    # Who runs the conversation: civicbot's own engine, or a Rasa server's REST channel at rasa_url.
    engine: Literal["native", "rasa"] = "native"
    rasa_url: str | None = None
    rasa_timeout: float = 10.0  # seconds for one Rasa turn (NLU + actions)

    # Chat channels keep the platforms' usual variable names (no prefix); absent credentials = not mounted.
    line_channel_secret: str | None = Field(default=None, validation_alias="LINE_CHANNEL_SECRET")
    line_channel_access_token: str | None = Field(default=None, validation_alias="LINE_CHANNEL_ACCESS_TOKEN")
    line_api_base_url: str | None = Field(default=None, validation_alias="LINE_API_BASE_URL")
    telegram_bot_token: str | None = Field(default=None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_webhook_secret: str | None = Field(default=None, validation_alias="TELEGRAM_WEBHOOK_SECRET")
    telegram_api_base_url: str | None = Field(default=None, validation_alias="TELEGRAM_API_BASE_URL")

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        """Outside dev, a channel secret that is obviously a placeholder stops start-up with a clear message."""
        for name in CHANNEL_SECRETS:
            value = getattr(self, name)
            if value == "":  # an empty variable (e.g. compose's ${VAR:-}) means "not configured"
                setattr(self, name, None)
            elif value is not None and self.env != "dev" and is_placeholder(value):
                raise ValueError(f"{name.upper()} looks like a placeholder; set the real value or unset it")
        if self.env != "dev" and (self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 16):
            raise ValueError("CIVICBOT_SECRET_KEY must be set to a random value of at least 16 characters outside dev")
        secret = self.telegram_webhook_secret
        if secret and not TELEGRAM_SECRET_CHARS.fullmatch(secret):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return self

    @model_validator(mode="after")
    def _check_case_settings(self) -> Settings:
        """The case-verifier pepper must be a real secret outside dev; an empty API URL means none."""
        self.case_api_url = self.case_api_url or None
        self.case_api_token = self.case_api_token or None
        if self.env != "dev" and (self.case_verifier_pepper == DEV_CASE_PEPPER or len(self.case_verifier_pepper) < 16):
            raise ValueError(
                "CIVICBOT_CASE_VERIFIER_PEPPER must be set to a random value of at least 16 characters outside dev"
            )
        if not self.case_verifier_pepper:
            raise ValueError("CIVICBOT_CASE_VERIFIER_PEPPER must not be empty")
        return self

    @model_validator(mode="after")
    def _check_engine(self) -> Settings:
        """The Rasa engine needs the Rasa server's http(s) URL."""
        self.rasa_url = self.rasa_url or None
        if self.engine == "rasa" and not self.rasa_url:
            raise ValueError(
                "the rasa engine needs CIVICBOT_RASA_URL (serve --rasa-url URL), e.g. http://127.0.0.1:5005"
            )
        if self.rasa_url and not self.rasa_url.startswith(("http://", "https://")):
            raise ValueError("CIVICBOT_RASA_URL must start with http:// or https://")
        return self

    @property
    def embedded(self) -> bool:
        """True when running on the embedded default database (no URL configured)."""
        return not self.database_url

    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'civicbot.db'}"
