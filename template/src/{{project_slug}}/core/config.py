"""Settings read from the environment (and `.env` in development).

Defaults come from `profile.py`, the figures prodkit derived from the business answers, so a
fresh checkout runs as sized; each deployment overrides them with environment variables.
"""

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from . import profile


class Settings(BaseSettings):
    """Every setting the service reads. Names match the environment variables."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    app_env: Literal["development", "test", "production"] = "development"
    secret_key: SecretStr = Field(min_length=32)
    database_url: str = "sqlite+aiosqlite:///./app.db"
    redis_url: str | None = None
    cors_origins: Annotated[list[str], NoDecode] = []
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    web_concurrency: int = Field(default=profile.WEB_PROCESSES, ge=1)
    worker_concurrency: int = Field(default=profile.WORKER_CONCURRENCY, ge=1)
    db_pool_size: int = Field(default=profile.DB_POOL_SIZE, ge=1)
    db_max_overflow: int = Field(default=profile.DB_MAX_OVERFLOW, ge=0)
    rate_limit_anonymous: str = profile.RATE_LIMIT_ANONYMOUS
    rate_limit_authenticated: str = profile.RATE_LIMIT_AUTHENTICATED
    rate_limit_login: str = profile.RATE_LIMIT_LOGIN
    access_token_ttl_seconds: int = Field(default=900, ge=30)
    refresh_token_ttl_seconds: int = Field(default=14 * 24 * 3600, ge=60)
    event_retention_days: int = Field(default=profile.EVENT_RETENTION_DAYS, ge=1)
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    redis_prefix: str = "app"

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept `CORS_ORIGINS=https://a.example,https://b.example` as well as a list."""
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @property
    def in_process(self) -> bool:
        """True on the embedded default: no Redis, so queue and pub/sub live in this process."""
        return not self.redis_url

    @property
    def is_sqlite(self) -> bool:
        """SQLite needs a few different engine options (no pool sizing, WAL, foreign keys)."""
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
