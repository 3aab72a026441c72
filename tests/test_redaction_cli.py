"""`easel config show/check`, `providers` and `doctor` never print a URL password or a secret option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import app
from tests.fakes.providers.harness import dead_url

DB_PASSWORD = "db-pass-9981"
ONE_URL_PASSWORD = "sd-pass-1234"
LIST_PASSWORDS = ("gpu1-pass-77", "gpu2-pass-88")
OPTION_SECRETS = ("opt-key-5521", "nested-token-7734", "auth-header-0042")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A configuration full of secrets in places that are not SecretStr fields."""
    first, second = (
        dead_url("/v1").replace("http://", f"http://easel:{password}@") for password in LIST_PASSWORDS
    )
    options = {
        "api_key": OPTION_SECRETS[0],
        "extra_data": {"Auth_Token": OPTION_SECRETS[1], "front": True},
        "headers": {"Authorization": OPTION_SECRETS[2]},
        "long_side": 768,
    }
    return {
        "EASEL__DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'easel.db'}",
        "EASEL__MEDIA_DIR": str(tmp_path / "media"),
        "EASEL__PROVIDERS__SDWEBUI__BASE_URL": dead_url().replace("http://", f"http://a:{ONE_URL_PASSWORD}@"),
        "EASEL__PROVIDERS__OPENAI_COMPATIBLE__BASE_URL": json.dumps([first, second]),
        "EASEL__PROVIDERS__COMFYUI__OPTIONS": json.dumps(options),
    }


def easel(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


def assert_clean(out: str) -> None:
    for secret in (DB_PASSWORD, ONE_URL_PASSWORD, *LIST_PASSWORDS, *OPTION_SECRETS):
        assert secret not in out


def test_config_show_masks_url_passwords_and_secret_options(env: dict[str, str]) -> None:
    """config show: base_url passwords (one URL or a list), the database password and secret-looking
    options at any depth are ***; other options are shown."""
    env = env | {"EASEL__DATABASE_URL": f"postgresql+asyncpg://easel:{DB_PASSWORD}@db/easel"}
    code, out = easel(env, "config", "show")
    shown = yaml.safe_load(out)
    providers = shown["providers"]
    assert code == 0 and shown["database_url"] == "postgresql+asyncpg://easel:***@db/easel"
    assert providers["sdwebui"]["base_url"].startswith("http://a:***@127.0.0.1:")
    assert all(url.startswith("http://easel:***@") for url in providers["openai-compatible"]["base_url"])
    options = providers["comfyui"]["options"]
    assert options["api_key"] == "***" and options["extra_data"] == {"Auth_Token": "***", "front": True}
    assert options["headers"] == {"Authorization": "***"} and options["long_side"] == 768
    assert_clean(out)


def test_config_check_shows_no_password(env: dict[str, str]) -> None:
    """config check names the database and providers without any password."""
    env = env | {"EASEL__DATABASE_URL": f"postgresql+asyncpg://easel:{DB_PASSWORD}@db/easel"}
    code, out = easel(env, "config", "check")
    assert code == 0 and "database:  postgresql+asyncpg://easel:***@db/easel" in out
    assert_clean(out)


def test_doctor_names_backends_without_their_passwords(env: dict[str, str]) -> None:
    """doctor: each dead backend of a base_url list is reported (BAD), its password masked."""
    code, out = easel(env, "doctor")
    line = next(line for line in out.splitlines() if line.startswith("openai-compatible"))
    assert code == 1 and "BAD" in line and "http://easel:***@127.0.0.1:" in line
    assert "connection refused" in line
    assert_clean(out)


def test_providers_live_listing_errors_show_no_password(env: dict[str, str]) -> None:
    """providers --live: the failed live listings quote the backends, passwords masked."""
    code, out = easel(env, "providers", "--live")
    assert code == 0 and "live model list unavailable" in out
    assert_clean(out)
