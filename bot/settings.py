"""Settings: defaults < YAML file < environment (``EASEL__SECTION__KEY``).

The YAML file is ``--config PATH``, else ``$EASEL_CONFIG``, else ``./config.yaml`` when it exists.
``${VAR}`` (or ``${VAR:-default}``) in YAML values reads the environment. Unknown keys and bad values
are rejected with a message naming the file, line and key. Each component gets only its own section.
"""

from __future__ import annotations

import ipaddress
import os
import re
import zoneinfo
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from bot.config_yaml import ConfigFile, read_config_file
from bot.core.errors import ConfigError

ENV_PREFIX = "EASEL__"
DEFAULT_CONFIG_FILE = Path("config.yaml")
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("easel_environ", default=None)
_RATE = re.compile(r"^\s*\d+\s*/\s*(\d+\s*)?(second|minute|hour|day)s?\s*$", re.IGNORECASE)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True)


class ProviderSettings(Section):
    """One image provider. ``base_url`` may be a list of backends for local servers."""

    base_url: str | list[str] | None = None
    api_key: SecretStr | None = None
    model: str | None = None
    timeout_s: float | None = Field(default=None, gt=0)
    """Seconds for one attempt (default: ``generation.attempt_timeout_s``)."""
    max_concurrency: int | None = Field(default=None, ge=1, le=64)
    """Requests in flight at once, per backend URL (default: 1 for local servers, 4 for clouds)."""
    region: str | None = None
    """AWS region (bedrock)."""
    workflow: Path | None = None
    """ComfyUI: an API-format workflow JSON with placeholders ({{prompt}}, {{negative}}, {{seed}},
    {{width}}, {{height}}, {{steps}}, {{image}}, {{cfg}}, {{sampler}}, {{denoise}}, {{model}}); a
    built-in SDXL-style template when unset."""
    steps: int | None = Field(default=None, ge=1, le=200)
    """Sampling steps for local diffusion servers."""
    sampler: str | None = None
    """Sampler name (sdwebui)."""
    cfg_scale: float | None = Field(default=None, ge=0, le=50)
    denoising_strength: float | None = Field(default=None, ge=0, le=1)
    """How far edits may move from the reference image (sdwebui img2img, stability)."""
    models: list[str] = []
    """Extra model names to list in `easel providers` (next to the built-in catalogue)."""
    options: dict[str, Any] = {}
    """Extra request fields passed through as they are (for API features Easel has no key for)."""
    max_response_mb: float = Field(default=64.0, gt=0, le=4096)
    """The largest answer read from the provider (after decompression); a bigger one is cut off and
    counts as the provider being unavailable. Result image downloads have their own 32 MB cap."""

    @property
    def configured(self) -> bool:
        return self.base_url is not None or self.api_key is not None


class BuiltinSettings(Section):
    """The offline renderer."""

    long_side: int = Field(default=1024, ge=64, le=2048)


class ProvidersSettings(Section):
    builtin: BuiltinSettings = BuiltinSettings()
    sdwebui: ProviderSettings = ProviderSettings()
    comfyui: ProviderSettings = ProviderSettings()
    openai: ProviderSettings = ProviderSettings()
    openai_responses: ProviderSettings = Field(default=ProviderSettings(), alias="openai-responses")
    gemini: ProviderSettings = ProviderSettings()
    xai: ProviderSettings = ProviderSettings()
    bedrock: ProviderSettings = ProviderSettings()
    flux: ProviderSettings = ProviderSettings()
    replicate: ProviderSettings = ProviderSettings()
    stability: ProviderSettings = ProviderSettings()
    openrouter: ProviderSettings = ProviderSettings()
    openai_compatible: ProviderSettings = Field(default=ProviderSettings(), alias="openai-compatible")

    @classmethod
    def names(cls) -> list[str]:
        """Provider names as users write them (``openai-compatible``)."""
        return [f.alias or name for name, f in cls.model_fields.items()]

    def get(self, name: str) -> ProviderSettings | BuiltinSettings:
        value = getattr(self, name.replace("-", "_"))
        assert isinstance(value, ProviderSettings | BuiltinSettings)
        return value


class GenerationSettings(Section):
    provider: str = "auto"
    fallbacks: list[str] = []
    timeout_s: float = Field(default=180.0, gt=0, le=3600)
    max_images: int = Field(default=4, ge=1, le=10)
    default_aspect: str = "1:1"
    max_prompt_chars: int = Field(default=1500, ge=10, le=32000)
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


class TelegramSettings(Section):
    """The Telegram adapter; it runs (``easel run``) when ``token`` is set."""

    token: SecretStr | None = None
    """The bot token from @BotFather."""
    base_url: str = "https://api.telegram.org/bot"
    """The Bot API's ``/bot`` URL (the token is appended): a self-hosted server's, or a test fake's."""
    base_file_url: str = "https://api.telegram.org/file/bot"
    """Where files are downloaded from (the token and the file path are appended)."""
    mode: Literal["polling", "webhook"] = "polling"
    """``polling`` asks Telegram for updates; ``webhook`` has Telegram post them to ``webhook_url``."""
    webhook_url: str | None = None
    """Webhook mode: the public HTTPS URL Telegram posts to; its path is the path served locally."""
    listen: str = "0.0.0.0"
    """Webhook mode: the address the webhook server binds."""
    port: int = Field(default=8443, ge=1, le=65535)
    """Webhook mode: the port the webhook server binds."""
    secret_token: SecretStr | None = None
    """Webhook mode (required): Telegram sends it with every update; requests without it get 403."""
    allowed_users: list[int] = []
    """Telegram user ids allowed to use the bot; empty = everyone."""
    allowed_chats: list[int] = []
    """Chat ids (groups are negative) the bot works in; empty = all."""
    admin_ids: list[int] = []
    """User ids that may change any chat's settings and delete any image (besides chat administrators)."""
    status_delay_s: float = Field(default=1.0, ge=0, le=60)
    """A job's status message ("Queued (#2)", "Generating… 40%") appears only if the job is still
    going after this many seconds (0 = at once): quick images come without the extra messages."""

    @model_validator(mode="after")
    def _webhook_complete(self) -> TelegramSettings:
        if self.mode == "webhook" and (not self.webhook_url or self.secret_token is None):
            raise ValueError("webhook mode needs webhook_url and secret_token")
        return self


class DiscordSettings(Section):
    """The Discord adapter; it runs (``easel run``) when ``token`` is set."""

    token: SecretStr | None = None
    """The bot token from the Discord developer portal (Bot → Reset Token)."""
    api_base_url: str = "https://discord.com/api/v10"
    """The REST API root: a REST proxy's (large bots), or a test fake's."""
    gateway_url: str = "wss://gateway.discord.gg/"
    """The gateway (WebSocket) URL: a gateway proxy's, or a test fake's."""
    guild_ids: list[int] = []
    """Guilds whose slash commands are synced instantly at start; empty = global commands (can take
    up to an hour to appear)."""
    allowed_guilds: list[int] = []
    """Guild (server) ids the bot works in; empty = all."""
    allowed_users: list[int] = []
    """User ids allowed to use the bot; empty = everyone."""
    allowed_channels: list[int] = []
    """Channel ids the bot works in; empty = all."""

    @field_validator("api_base_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.match(r"^https?://\S+$", value):
            raise ValueError("must be an http(s):// URL such as https://discord.com/api/v10")
        return value.rstrip("/")

    @field_validator("gateway_url")
    @classmethod
    def _gateway_url(cls, value: str) -> str:
        if not re.match(r"^wss?://\S+$", value):
            raise ValueError("must be a ws(s):// URL such as wss://gateway.discord.gg/")
        return value


MIN_WEB_TOKEN_CHARS = 12


class WebSettings(Section):
    """The local web chat, gallery, /healthz and /metrics (``bot.platforms.web.adapter``)."""

    enabled: bool = True
    """With Telegram or Discord configured, also run the web chat; it always runs when nothing else is."""
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    """0 picks a free port (tests); the chosen one is in the printed URL."""
    auth_token: SecretStr | None = None
    """Required when ``host`` is not a loopback address: browsers log in with it once, scrapers send
    ``Authorization: Bearer <token>``."""
    max_upload_mb: float = Field(default=10.0, gt=0, le=50)
    """The largest image a browser may upload to edit."""
    allowed_hosts: list[str] = []
    """Names (``host`` or ``host:port``) browsers may use to reach the web chat besides loopback ones
    (``localhost``, ``*.localhost``, 127.x.x.x, ``[::1]``) and, when ``host`` is not loopback, IP
    addresses. Any other ``Host`` is answered 421 (a defence against DNS rebinding)."""
    public_url: str | None = None
    """The address people open when a reverse proxy serves the web chat (``https://easel.example.org``):
    its host is allowed and its origin may post. Needs ``auth_token``."""
    secret_file: Path = Path("./data/web_secret")
    """A random per-installation key (made at first start, mode 0600) that signs login and CSRF
    cookies. Deleting it (or changing ``auth_token``) logs every browser out."""

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        """Each entry a host name or IP address (IPv6 in brackets), optionally ``:port``."""
        pattern = r"(\[[0-9a-f:.]+\]|[a-z0-9_-]+(\.[a-z0-9_-]+)*)(:(?P<port>[0-9]{1,5}))?"
        hosts = [entry.strip().lower() for entry in value]
        for entry in hosts:
            match = re.fullmatch(pattern, entry)
            if match is None or int(match["port"] or 0) > 65535:
                raise ValueError(f"{entry!r} is not a host name or host:port (e.g. easel.lan:8080)")
        return hosts

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        from urllib.parse import urlsplit

        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        shown = repr(redact_url(value.strip()))  # an error message must not repeat a password
        try:
            parts.port  # noqa: B018 (raises ValueError for a bad port)
        except ValueError as exc:
            raise ValueError(f"{shown} has a bad port") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username is not None:
            raise ValueError(f"{shown} is not an http(s) address like https://easel.example.org")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"{shown}: the web chat is served at the root of its address (no path)")
        return f"{parts.scheme}://{parts.netloc.lower()}"

    @model_validator(mode="after")
    def _auth_off_loopback(self) -> WebSettings:
        if not _is_loopback(self.host) and self.auth_token is None:
            raise ValueError(f"binding the web chat to {self.host} needs web.auth_token")
        if self.auth_token is not None and len(self.auth_token.get_secret_value()) < MIN_WEB_TOKEN_CHARS:
            raise ValueError(f"web.auth_token must be at least {MIN_WEB_TOKEN_CHARS} characters")
        if self.public_url is not None and self.auth_token is None:
            raise ValueError("web.public_url serves the web chat to others: it needs web.auth_token")
        return self


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


SECRET_NAME = re.compile(r"key|token|secret|password|passwd|auth|credential", re.IGNORECASE)
"""A setting or query parameter with such a name holds a secret (``options.api_key``, ``?sig=`` aside)."""
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^/?#@\s:]*:)[^/?#\s]*@")
_URL_SECRET_PARAM = re.compile(
    r"(?i)([?&][^=&#\s]*(?:key|token|secret|password|passwd|auth|credential|sig)[^=&#\s]*=)[^&#\s'\"]+"
)


def redacted(settings: AppSettings) -> dict[str, Any]:
    """The effective settings as plain data with every secret replaced by ``***``: secret fields,
    passwords in any URL (``database_url``, each ``base_url``), and secret-looking ``options``."""
    data = settings.model_dump(mode="json", by_alias=True)
    masked: dict[str, Any] = _mask_secrets(settings, data)
    return masked


def _mask_secrets(model: object, data: Any) -> Any:
    """``data`` (the JSON dump of ``model``) masked: ``SecretStr`` fields, URL passwords in strings
    (also in lists), and in free-form mappings every value under a secret-looking key, at any depth."""
    if isinstance(model, BaseModel) and isinstance(data, dict):
        for name, field in type(model).model_fields.items():
            key = field.alias or name
            value = getattr(model, name)
            data[key] = "***" if isinstance(value, SecretStr) else _mask_secrets(value, data[key])
        return data
    if isinstance(data, dict):
        return {
            key: "***" if value is not None and SECRET_NAME.search(str(key)) else _mask_secrets(None, value)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [_mask_secrets(None, item) for item in data]
    return redact_url(data) if isinstance(data, str) else data


def redact_url(url: str) -> str:
    """``scheme://user:secret@host`` → ``scheme://user:***@host`` and ``?key=secret`` (any
    secret-looking parameter, ``sig`` too) → ``?key=***``; works on any text with URLs in it."""
    return _URL_SECRET_PARAM.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", url))
