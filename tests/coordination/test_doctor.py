"""easel doctor and Redis: checked when redis_url is set; a note when PostgreSQL is shared without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli_diagnostics import PER_PROCESS, _doctor
from bot.settings import load_settings
from tests.coordination.redis_env import DEAD_REDIS_URL, REDIS_URL, redis_namespace

POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def doctor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> bool:
    """Run the doctor on these EASEL__ settings (SQLite and media under tmp_path unless given)."""
    monkeypatch.chdir(tmp_path)
    environ = {
        "EASEL__DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'easel.db'}",
        "EASEL__MEDIA_DIR": str(tmp_path / "media"),
    } | {f"EASEL__{key.upper()}": value for key, value in env.items()}
    return await _doctor(load_settings(environ=environ))


def redis_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("redis ")]


async def test_postgres_without_redis_says_state_is_per_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """PostgreSQL and no redis_url: the doctor says limits, breakers and concurrency are per process."""
    await doctor(tmp_path, monkeypatch, database_url=POSTGRES)
    [line] = redis_lines(capsys.readouterr().out)
    assert PER_PROCESS in line and "set redis_url" in line


async def test_sqlite_without_redis_says_nothing_about_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The one-machine default (SQLite, no Redis) is not a problem and gets no Redis line."""
    assert await doctor(tmp_path, monkeypatch)
    assert redis_lines(capsys.readouterr().out) == []


async def test_a_configured_redis_is_pinged_with_its_latency(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """redis_url set and answering: "redis ok <n> ms <url>", and the doctor passes."""
    async with redis_namespace():  # skips, with the reason, when the test Redis is unreachable
        ok = await doctor(tmp_path, monkeypatch, redis_url=REDIS_URL)
    [line] = redis_lines(capsys.readouterr().out)
    assert ok and " ok " in line and " ms " in line


async def test_an_unreachable_redis_fails_the_doctor_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """redis_url set and not answering: "redis BAD …", exit status 1, the password masked."""
    ok = await doctor(tmp_path, monkeypatch, redis_url=DEAD_REDIS_URL)
    out = capsys.readouterr().out
    assert not ok and redis_lines(out)[0].startswith("redis       BAD") and "hunter2" not in out
