"""Settings: defaults < YAML file < environment (``EASEL__SECTION__KEY``).

The YAML file is ``--config PATH``, else ``$EASEL_CONFIG``, else ``./config.yaml`` when it exists.
``${VAR}`` (or ``${VAR:-default}``) in YAML values reads the environment. Unknown keys and bad values
are rejected with a message naming the file, line and key. Each component gets only its own section.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    create_model,
    field_validator,
)
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from bot.config_yaml import ConfigFile, read_config_file
from bot.core.errors import ConfigError
from bot.platforms.discord.settings import DiscordSettings as DiscordSettings
from bot.platforms.telegram.settings import TelegramSettings as TelegramSettings
from bot.platforms.web.settings import WebSettings as WebSettings
from bot.providers import registry
from bot.providers.builtin.settings import BuiltinSettings as BuiltinSettings
from bot.providers.settings import ProviderSettings as ProviderSettings
from bot.sections import SettingsSection

ENV_PREFIX = "EASEL__"
DEFAULT_CONFIG_FILE = Path("config.yaml")
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("easel_environ", default=None)
_RATE = re.compile(r"^\s*\d+\s*/\s*(\d+\s*)?(second|minute|hour|day)s?\s*$", re.IGNORECASE)


Section = SettingsSection


class _ProvidersBase(Section):
    """``providers:``: one section per provider in :data:`bot.providers.registry.VENDORS`, each
    validated by that provider's own settings model (so a knob it does not have is an unknown key)."""

    @classmethod
    def names(cls) -> list[str]:
        """Provider names as users write them (``openai-compatible``)."""
        return [f.alias or name for name, f in cls.model_fields.items()]

    def get(self, name: str) -> ProviderSettings | BuiltinSettings:
        """The section of provider ``name`` (``AttributeError`` for a name no provider has)."""
        value = getattr(self, name.replace("-", "_"))
        assert isinstance(value, ProviderSettings | BuiltinSettings)
        return value


def _provider_field(vendor: registry.Vendor) -> Any:
    alias = vendor.name if vendor.name != vendor.attribute else None
    return (vendor.settings, Field(default_factory=vendor.settings, alias=alias))


if TYPE_CHECKING:
    ProvidersSettings = _ProvidersBase
else:
    ProvidersSettings = create_model(
        "ProvidersSettings",
        __base__=_ProvidersBase,
        __module__=__name__,
        **{vendor.attribute: _provider_field(vendor) for vendor in registry.VENDORS},
    )


class GenerationSettings(Section):
    provider: str = "auto"
    fallbacks: list[str] = []
    timeout_s: float = Field(default=180.0, gt=0, le=3600)
    max_images: int = Field(default=4, ge=1, le=10)
    default_aspect: str = "1:1"
    max_prompt_chars: int = Field(default=1500, ge=10, le=32000)
    embed_parameters: bool = True
    """Saved images carry their prompt and parameters in the file (A1111's ``parameters`` text in PNG,
    EXIF UserComment in JPEG and WebP), as A1111's "PNG Info" reads them."""
    workers: int = Field(default=4, ge=1, le=64)
    """Jobs generated at once, over all users and providers."""
    attempt_timeout_s: float = Field(default=120.0, gt=0, le=3600)
    """Seconds one provider call may take before it counts as a transient failure."""
    retries: int = Field(default=2, ge=0, le=10)
    """Extra tries of one provider on a transient failure, with exponential backoff and jitter."""
    max_job_attempts: int = Field(default=3, ge=1, le=20)
    """How often a job is started at most, counting restarts after a crash."""
    breaker_failures: int = Field(default=5, ge=1, le=100)
    """Consecutive failures that switch a provider off for ``breaker_reset_s``."""
    breaker_reset_s: float = Field(default=60.0, gt=0, le=3600)
    lease_s: float = Field(default=30.0, ge=1, le=600)
    """How long a replica's claim on a running job lasts without renewal (renewed every third of it):
    a replica that died has its jobs taken over by another after at most this long."""

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        if value != "auto" and value not in ProvidersSettings.names():
            raise ValueError(
                f"unknown provider {value!r}; use auto or one of {', '.join(ProvidersSettings.names())}"
            )
        return value

    @field_validator("fallbacks")
    @classmethod
    def _known_fallbacks(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in ProvidersSettings.names():
                raise ValueError(f"unknown provider {name!r} in fallbacks")
        return value

    @field_validator("default_aspect")
    @classmethod
    def _aspect(cls, value: str) -> str:
        match = re.fullmatch(r"(\d{1,3}):(\d{1,3})", value.strip())
        if not match or not all(1 <= int(part) <= 100 for part in match.groups()):
            raise ValueError("must look like 16:9")
        return value.strip()


class LimitsSettings(Section):
    user_rate: str = "5/minute"
    chat_rate: str = "20/minute"
    global_rate: str = "60/minute"
    daily_images_per_user: int = Field(default=100, ge=0)
    """0 means unlimited."""
    admins: list[str] = []
    """``platform:user_id`` entries exempt from limits and allowed to manage the bot."""
    max_queue: int = Field(default=200, ge=1)
    confirm_over: float | None = Field(default=None, ge=0)
    """Ask before running a request whose estimated cost (USD) is above this."""
    prices: dict[str, float] = {}
    """Estimated USD per image, by ``provider`` or ``provider/model`` (the more specific wins)."""

    @field_validator("prices")
    @classmethod
    def _prices(cls, value: dict[str, float]) -> dict[str, float]:
        for key, price in value.items():
            if price < 0:
                raise ValueError(f"price for {key!r} must not be negative")
            if key.split("/", 1)[0] not in ProvidersSettings.names():
                raise ValueError(f"unknown provider in price key {key!r}")
        return value

    @field_validator("user_rate", "chat_rate", "global_rate")
    @classmethod
    def _rate(cls, value: str) -> str:
        if not _RATE.match(value):
            raise ValueError("must look like 5/minute (per second, minute, hour or day)")
        return value.strip()


class SchedulerSettings(Section):
    enabled: bool = True
    timezone: str = "UTC"
    birthday_hour: int = Field(default=9, ge=0, le=23)
    misfire_grace: float = Field(default=6 * 3600, ge=0)
    """Seconds (or "6h", "30m", "90s"): a run missed while the bot was down is made once at start if it
    is at most this late; older ones are skipped and logged."""
    max_failures: int = Field(default=3, ge=1, le=100)
    """Consecutive failed runs after which a schedule pauses itself (with a notice)."""
    retry_backoff: float = Field(default=120, ge=1)
    """Seconds (or "2m") before retrying a failed run; doubles with each consecutive failure."""
    max_per_chat: int = Field(default=20, ge=1, le=10_000)
    """Scheduled posts one chat may have (``/schedule add`` beyond it is refused; birthdays are one
    per member and not counted). ``easel schedule add`` (the operator) is not limited."""

    @field_validator("misfire_grace", "retry_backoff", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if isinstance(value, str) and (match := re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", value)):
            return float(match[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)") from exc
        return value


class AppSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        case_sensitive=False,
        extra="forbid",
        validate_default=True,
    )

    database_url: str = "sqlite+aiosqlite:///./data/easel.db"
    media_dir: Path = Path("./data/media")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    redis_url: str | None = None
    """Shared state for several replicas (``redis://127.0.0.1:6379/0``): rate limits, circuit breakers,
    per-backend concurrency, Telegram's flood control and events. Unset: all of it stays in memory
    (right for one process)."""
    redis_prefix: str = Field(default="easel", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    """Prefix of every Redis key and channel: lets several installations (or test runs) share one Redis."""
    shutdown_grace_s: float = Field(default=8.0, ge=0, le=600)
    """On SIGTERM, how long jobs already running (a photo on its way) may take to finish and be recorded
    before they are interrupted; new work stops at once. Keep it under your supervisor's stop timeout
    (Docker waits 10 s by default)."""
    generation: GenerationSettings = GenerationSettings()
    providers: ProvidersSettings = ProvidersSettings()
    telegram: TelegramSettings = TelegramSettings()
    discord: DiscordSettings = DiscordSettings()
    web: WebSettings = WebSettings()
    limits: LimitsSettings = LimitsSettings()
    scheduler: SchedulerSettings = SchedulerSettings()

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The YAML file arrives as init kwargs; the environment wins over it.
        return _EnvironSource(settings_cls), init_settings


class _EnvironSource(EnvSettingsSource):
    """The environment source, reading the mapping given to ``load_settings`` (``os.environ`` by default)."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        env = _ENVIRON.get() or os.environ
        return {name.lower(): value for name, value in env.items()}


def config_path_from(explicit: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The config file to read: explicit, else $EASEL_CONFIG, else ./config.yaml if present."""
    if explicit is not None:
        return explicit
    from_env = environ.get("EASEL_CONFIG")
    if from_env:
        return Path(from_env)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def load_settings(config_path: Path | None = None, environ: Mapping[str, str] | None = None) -> AppSettings:
    """Build the settings or raise ConfigError with one line per problem."""
    env = os.environ if environ is None else environ
    path = config_path_from(config_path, env)
    file = read_config_file(path, env) if path is not None else None
    _reject_unknown_env(env)
    token = _ENVIRON.set(env)
    try:
        return AppSettings(**(file.data if file else {}))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, file, env)) from exc
    finally:
        _ENVIRON.reset(token)


def _reject_unknown_env(env: Mapping[str, str]) -> None:
    for name in env:
        if not name.upper().startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        model: type[BaseModel] | None = AppSettings
        for part in parts:
            if model is None:
                raise ConfigError(f"environment variable {name}: {part!r} is not a settings section")
            field = _field_named(model, part)
            if field is None:
                raise ConfigError(f"environment variable {name}: unknown key {part!r}")
            annotation = field.annotation
            model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _field_named(model: type[BaseModel], name: str) -> Any:
    for field_name, field in model.model_fields.items():
        if name in (field_name, (field.alias or "").replace("-", "_")):
            return field
    return None


def _describe(exc: ValidationError, file: ConfigFile | None, env: Mapping[str, str]) -> str:
    problems = []
    for error in exc.errors():
        loc = tuple(
            part for part in error["loc"] if not isinstance(part, str) or not part.startswith("function")
        )
        dotted = ".".join(str(part) for part in loc) or "(top level)"
        env_name = ENV_PREFIX + "__".join(str(part).replace("-", "_") for part in loc).upper()
        message = (
            "unknown key"
            if error["type"] == "extra_forbidden"
            else error["msg"].removeprefix("Value error, ")
        )
        if loc and any(k.upper() == env_name for k in env):
            where = f"environment variable {env_name}"
        elif file is not None:
            line = file.line_of(loc)
            where = f"{file.path}:{line}" if line else str(file.path)
        else:
            where = "settings"
        problems.append(f"{where}: {dotted}: {message}")
    return "Invalid configuration:\n  " + "\n  ".join(problems)
