"""Settings: defaults < YAML < environment, interpolation, and errors that name file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.observability.masking import redacted
from bot.settings import load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file_or_env() -> None:
    """With nothing configured the embedded defaults apply."""
    settings = load_settings(None, environ={})
    assert settings.database_url == "sqlite+aiosqlite:///./data/easel.db"
    assert settings.media_dir == Path("data/media")
    assert settings.generation.provider == "auto"


def test_yaml_overrides_defaults(tmp_path: Path) -> None:
    """A key in the YAML file replaces the default."""
    path = write(tmp_path, "generation:\n  max_images: 2\n")
    assert load_settings(path, environ={}).generation.max_images == 2


def test_environment_overrides_yaml(tmp_path: Path) -> None:
    """EASEL__SECTION__KEY wins over the same key in the file."""
    path = write(tmp_path, "generation:\n  max_images: 2\n  timeout_s: 30\n")
    settings = load_settings(path, environ={"EASEL__GENERATION__MAX_IMAGES": "3"})
    assert settings.generation.max_images == 3
    assert settings.generation.timeout_s == 30


def test_easel_config_env_names_the_file(tmp_path: Path) -> None:
    """$EASEL_CONFIG is read when no --config is given."""
    path = write(tmp_path, "media_dir: /srv/media\n")
    assert load_settings(None, environ={"EASEL_CONFIG": str(path)}).media_dir == Path("/srv/media")


def test_config_yaml_in_working_directory_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """./config.yaml is used when neither --config nor $EASEL_CONFIG is given."""
    write(tmp_path, "log_level: debug\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings(None, environ={}).log_level == "DEBUG"


def test_interpolation_reads_environment(tmp_path: Path) -> None:
    """${VAR} in a YAML value is replaced by the environment variable."""
    path = write(tmp_path, "providers:\n  openai:\n    api_key: ${OPENAI_KEY}\n")
    settings = load_settings(path, environ={"OPENAI_KEY": "sk-test"})
    key = settings.providers.openai.api_key
    assert key is not None and key.get_secret_value() == "sk-test"


def test_interpolation_default_used_when_unset(tmp_path: Path) -> None:
    """${VAR:-fallback} gives the fallback when VAR is unset."""
    path = write(tmp_path, "media_dir: ${MEDIA:-/tmp/m}\n")
    assert load_settings(path, environ={}).media_dir == Path("/tmp/m")


def test_interpolation_of_missing_variable_names_line_and_key(tmp_path: Path) -> None:
    """An unset ${VAR} without a default is an error naming the file, line, key and variable."""
    path = write(tmp_path, "telegram:\n  token: ${TG_TOKEN}\n")
    with pytest.raises(ConfigError, match=r"config\.yaml:2: telegram\.token: environment variable TG_TOKEN"):
        load_settings(path, environ={})


def test_unknown_key_names_file_line_and_key(tmp_path: Path) -> None:
    """A typo'd key is rejected with its location."""
    path = write(tmp_path, "generation:\n  provider: auto\n  max_imagez: 3\n")
    with pytest.raises(ConfigError, match=r"config\.yaml:3: generation\.max_imagez: unknown key"):
        load_settings(path, environ={})


def test_bad_value_names_file_line_and_key(tmp_path: Path) -> None:
    """A value of the wrong kind is rejected with its location."""
    path = write(tmp_path, "generation:\n  timeout_s: soon\n")
    with pytest.raises(ConfigError, match=r"config\.yaml:2: generation\.timeout_s: "):
        load_settings(path, environ={})


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    """Broken YAML is reported with the file and line of the problem."""
    path = write(tmp_path, "generation:\n  provider: auto\n   fallbacks: [x\n")
    with pytest.raises(ConfigError, match=r"config\.yaml:3: invalid YAML"):
        load_settings(path, environ={})


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    """A file that is a list instead of keys is rejected."""
    path = write(tmp_path, "- a\n- b\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_settings(path, environ={})


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    """An explicit --config that does not exist is a clear error."""
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml", environ={})


def test_unknown_environment_key_rejected() -> None:
    """A typo in an EASEL__ variable is reported rather than silently ignored."""
    with pytest.raises(ConfigError, match="EASEL__GENERATON__PROVIDER"):
        load_settings(None, environ={"EASEL__GENERATON__PROVIDER": "openai"})


def test_bad_environment_value_names_the_variable() -> None:
    """A bad value from the environment names the variable it came from."""
    with pytest.raises(ConfigError, match="environment variable EASEL__GENERATION__MAX_IMAGES"):
        load_settings(None, environ={"EASEL__GENERATION__MAX_IMAGES": "99"})


def test_hyphenated_provider_reachable_from_environment() -> None:
    """providers.openai-compatible is set with EASEL__PROVIDERS__OPENAI_COMPATIBLE__BASE_URL."""
    env = {"EASEL__PROVIDERS__OPENAI_COMPATIBLE__BASE_URL": "http://127.0.0.1:9000/v1"}
    assert load_settings(None, environ=env).providers.openai_compatible.base_url == "http://127.0.0.1:9000/v1"


def test_a_knob_of_another_provider_is_an_unknown_key(tmp_path: Path) -> None:
    """providers.openai.workflow (only comfyui has one) is refused, naming the file, line and key."""
    path = write(tmp_path, "providers:\n  openai:\n    api_key: k\n    workflow: x.json\n")
    with pytest.raises(ConfigError, match=r"config\.yaml:4: providers\.openai\.workflow: unknown key"):
        load_settings(path, environ={})


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("openai_compatible", "steps"),
        ("gemini", "cfg_scale"),
        ("sdwebui", "region"),
        ("stability", "sampler"),
    ],
)
def test_a_knob_of_another_provider_is_refused_from_the_environment(name: str, key: str) -> None:
    """EASEL__PROVIDERS__<NAME>__<KNOB> for a knob that provider does not have names the variable."""
    variable = f"EASEL__PROVIDERS__{name.upper()}__{key.upper()}"
    with pytest.raises(ConfigError, match=f"{variable}: unknown key '{key}'"):
        load_settings(None, environ={variable: "1"})


def test_each_provider_takes_its_own_knobs(tmp_path: Path) -> None:
    """comfyui's workflow, sdwebui's sampling, stability's strength and bedrock's region are accepted
    where they belong, under the names users write (openai-compatible with its hyphen)."""
    path = write(
        tmp_path,
        "providers:\n"
        "  comfyui: {base_url: 'http://127.0.0.1:8188', workflow: w.json, steps: 20}\n"
        "  sdwebui: {base_url: 'http://127.0.0.1:7860', sampler: Euler, cfg_scale: 6.5}\n"
        "  stability: {denoising_strength: 0.4}\n"
        "  bedrock: {region: eu-west-1, cfg_scale: 5}\n"
        "  openai-compatible: {base_url: 'http://127.0.0.1:9000/v1', max_concurrency: 2}\n",
    )
    providers = load_settings(path, environ={}).providers
    assert providers.comfyui.workflow == Path("w.json") and providers.comfyui.steps == 20
    assert (providers.sdwebui.sampler, providers.sdwebui.cfg_scale) == ("Euler", 6.5)
    assert providers.stability.denoising_strength == 0.4 and providers.bedrock.region == "eu-west-1"
    assert providers.get("openai-compatible").max_concurrency == 2  # type: ignore[union-attr]


def test_config_show_lists_only_a_providers_own_keys() -> None:
    """easel config show (the redacted dump) shows each provider's keys: workflow only under comfyui."""
    shown = redacted(load_settings(None, environ={}))["providers"]
    assert "workflow" in shown["comfyui"] and "workflow" not in shown["openai"]
    assert "region" in shown["bedrock"] and "region" not in shown["openai-compatible"]
    assert shown["builtin"] == {"long_side": 1024, "format": "png"}


def test_unknown_provider_name_rejected(tmp_path: Path) -> None:
    """generation.provider must be auto or a known provider."""
    path = write(tmp_path, "generation:\n  provider: dalle9\n")
    with pytest.raises(ConfigError, match="unknown provider 'dalle9'"):
        load_settings(path, environ={})


def test_web_off_loopback_requires_auth_token(tmp_path: Path) -> None:
    """Binding the web chat beyond loopback without a token is refused."""
    path = write(tmp_path, "web:\n  host: 0.0.0.0\n")
    with pytest.raises(ConfigError, match=r"needs web\.auth_token"):
        load_settings(path, environ={})


def test_webhook_mode_requires_secret(tmp_path: Path) -> None:
    """Telegram webhook mode without a secret token is refused."""
    path = write(tmp_path, "telegram:\n  mode: webhook\n  webhook_url: https://x.example/hook\n")
    with pytest.raises(ConfigError, match="secret_token"):
        load_settings(path, environ={})


def test_bad_timezone_rejected(tmp_path: Path) -> None:
    """scheduler.timezone must be an IANA zone."""
    path = write(tmp_path, "scheduler:\n  timezone: Mars/Olympus\n")
    with pytest.raises(ConfigError, match="unknown time zone"):
        load_settings(path, environ={})


def test_bad_rate_rejected(tmp_path: Path) -> None:
    """Rates must look like 5/minute."""
    path = write(tmp_path, "limits:\n  user_rate: lots\n")
    with pytest.raises(ConfigError, match=r"limits\.user_rate"):
        load_settings(path, environ={})


def test_redacted_hides_secrets_and_url_password() -> None:
    """Secrets never appear in the shown configuration."""
    env = {
        "EASEL__PROVIDERS__OPENAI__API_KEY": "sk-very-secret",
        "EASEL__DATABASE_URL": "postgresql+asyncpg://easel:hunter2@db/easel",
    }
    shown = redacted(load_settings(None, environ=env))
    assert shown["providers"]["openai"]["api_key"] == "***"
    assert shown["database_url"] == "postgresql+asyncpg://easel:***@db/easel"
    assert "sk-very-secret" not in repr(shown) and "hunter2" not in repr(shown)


def test_example_config_is_valid() -> None:
    """config.example.yaml loads as it is shipped."""
    example = Path(__file__).resolve().parents[1] / "config.example.yaml"
    assert load_settings(example, environ={}).generation.provider == "auto"
