"""Settings: one pydantic-settings class, env prefix ``MUSEFORGE_``, one data dir.

Precedence, highest first: arguments passed in code, environment variables,
``config.toml`` in the data dir, the defaults below. The data dir itself comes
from ``MUSEFORGE_HOME`` (or the platform's user data dir) and cannot be set in
the TOML file it contains.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_FILE = "config.toml"


def default_home() -> Path:
    """The data dir: ``MUSEFORGE_HOME`` or the platform's user data dir."""
    env = os.environ.get("MUSEFORGE_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("museforge", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MUSEFORGE_", extra="ignore", populate_by_name=True
    )

    home: Path = Field(default_factory=default_home, description="Data dir")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite file in the data dir"
    )
    llm_base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint")
    llm_model: str | None = Field(default=None, description="Model name at that endpoint")
    llm_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("MUSEFORGE_LLM_API_KEY", "OPENAI_API_KEY", "llm_api_key"),
    )
    planner: Literal["auto", "llm", "offline"] = "auto"
    # Bounds on one turn of the LLM planner (a prompt must not fan out into hundreds of
    # generations, nor hang a front-end on a dead endpoint).
    llm_max_tool_calls: int = Field(default=8, ge=1, le=64,
                                    description="Tool calls the model may make per message")
    llm_max_round_trips: int = Field(default=4, ge=1, le=16,
                                     description="Model requests per message")
    llm_timeout_s: float = Field(default=60.0, gt=0, le=3600,
                                 description="Seconds to wait for one model request")
    llm_retries: int = Field(default=2, ge=0, le=10, description=(
        "Retries, with backoff, after a connection error, a timeout, HTTP 429 or 5xx"))
    llm_fast_path: bool = Field(default=True, description=(
        "Let unambiguous commands ('undo', 'revert #2 to v1') skip the model"))
    llm_stream: bool = Field(default=True, description=(
        "Stream the reply text to front-ends that show it as it comes"))
    image_backend: Literal["auto", "diffusers", "procedural", "openai"] = "auto"
    image_model: str = "sd-turbo"
    # The `openai` image backend (the OpenAI Images API or a compatible server).
    image_api_base_url: str | None = Field(default=None, description="Images API base URL")
    image_api_key: SecretStr | None = Field(default=None, description=(
        "Images API key; falls back to MUSEFORGE_LLM_API_KEY, then OPENAI_API_KEY"))
    image_api_model: str = Field(default="gpt-image-1", description="Images API model")
    image_api_timeout_s: float = Field(default=180.0, gt=0, le=3600,
                                       description="Seconds to wait for one image request")
    image_api_retries: int = Field(default=2, ge=0, le=10,
                                   description="Retries after a connection error or 429/5xx")
    device: str | None = Field(default=None, description="cuda, cuda:1, mps, cpu; auto if unset")
    upscaler: str = Field(default="auto", description=(
        "GAN upscaler: auto (a Real-ESRGAN preset whose file is here), builtin (the image "
        "backend's own), a preset, a file name or a path"))
    upscale_tile: int = Field(default=256, description=(
        "Input pixels a side per upscaling tile (32-4096; 0: the whole picture at once)"))
    upscale_overlap: int = Field(default=16, description=(
        "Input pixels of context around each tile (0-256, less than the tile)"))
    upscaler_dir: Path | None = Field(default=None, description=(
        "Where GAN upscaler weights live; default models/upscalers in the data dir"))
    audio_model: str | None = Field(default=None, description=(
        "The generate_audio model: a preset, a hub id or a folder; default musicgen-small"))
    max_generations: int = Field(default=4, ge=1, le=16, description=(
        "New artworks one message may start (a pasted essay must not start 32 "
        "generations); calls past it are left out and the reply says so."))
    turn_budget_s: float = Field(default=120.0, gt=0, le=86_400, description=(
        "Estimated generation seconds one message may spend (tools/costs.py estimates each "
        "call from its arguments); calls past it are refused, one sentence each, and the "
        "others run."))
    workers: int = Field(default=1, ge=1, le=16, description=(
        "Generations run at once by a server's job queue (1 keeps a GPU to one job)"))
    pipeline_cache_bytes: int | None = Field(default=None, ge=0, description=(
        "Bytes of loaded model pipelines kept in memory per process; default half of RAM"))
    queue: Literal["local", "celery"] = Field(default="local", description=(
        "Where turns run: local (this process's fair queue) or celery (museforge worker "
        "processes, through MUSEFORGE_BROKER_URL, fair across front-ends in PostgreSQL)"))
    queue_per_person: int = Field(default=3, ge=1, le=1000, description=(
        "Turns one person may have waiting or running in a server's queue"))
    broker_url: str = Field(default="redis://127.0.0.1:6379/0", description=(
        "The Redis that carries turns to workers, and their progress and cancels back "
        "(MUSEFORGE_QUEUE=celery)"))
    assets_url: str | None = Field(default=None, description=(
        "Where asset files live: a folder, or s3://bucket/prefix shared by every machine; "
        "default assets/ in the data dir"))
    assets_endpoint_url: str | None = Field(default=None, description=(
        "The S3-compatible server for s3:// assets (MinIO...); default AWS's"))
    assets_cache_bytes: int = Field(default=2 * 1024**3, ge=0, description=(
        "Bytes of s3:// assets kept in the local read-through cache"))
    discord_token: SecretStr | None = None
    web_token: SecretStr | None = Field(
        default=None, description="Required to serve the web chat beyond 127.0.0.1")
    no_inline: bool = Field(default=False, description=(
        "Never show pictures inline in the terminal chat"))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=default_home() / CONFIG_FILE)
        return (init_settings, env_settings, _WithoutHome(settings_cls, toml))

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'museforge.db'}"

    @property
    def assets_dir(self) -> Path:
        return self.home / "assets"

    @property
    def planner_kind(self) -> Literal["llm", "offline"]:
        if self.planner == "auto":
            return "llm" if self.llm_base_url or self.llm_api_key else "offline"
        return self.planner


class _WithoutHome(PydanticBaseSettingsSource):
    """The TOML source, minus ``home`` (the file lives inside the home it would name)."""

    def __init__(self, settings_cls: type[BaseSettings], inner: PydanticBaseSettingsSource):
        super().__init__(settings_cls)
        self._inner = inner

    def get_field_value(self, field, field_name):  # type: ignore[no-untyped-def]
        return None, field_name, False

    def __call__(self) -> dict:
        values = dict(self._inner())
        values.pop("home", None)
        return values


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
