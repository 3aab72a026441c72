"""``easel schedule add|list|pause|resume|run|remove`` against a temporary SQLite database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "EASEL__DATABASE_URL": f"sqlite:///{tmp_path / 'easel.sqlite3'}",
        "EASEL__MEDIA_DIR": str(tmp_path / "media"),
        "EASEL__SCHEDULER__TIMEZONE": "Europe/Berlin",
        "EASEL__TELEGRAM__TOKEN": "123456:TEST-token",  # `easel run` would post to Telegram and the web
    }
    monkeypatch.chdir(tmp_path)  # no ./config.yaml is picked up
    return values


def easel(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["schedule", *args], env=env)
    return result.exit_code, result.output


def test_add_list_pause_resume_run_remove(env: dict[str, str]) -> None:
    """The operator's whole round: every command answers, and list shows the state."""
    code, out = easel(
        env, "add", "--target", "telegram:42:7", "--cron", "0 9 * * *", "--prompt", "a lighthouse, {weekday}"
    )
    assert code == 0, out
    assert "Scheduled #1: every day at 09:00 (Europe/Berlin) → telegram:42:7" in out
    assert len(re.findall(r"\d{4}-\d\d-\d\d 09:00", out)) == 3
    code, out = easel(
        env, "add", "--target", "web", "--every", "every 2 hours", "--prompt", "x", "--aspect", "16:9"
    )
    assert code == 0, out
    code, out = easel(env, "list")
    assert code == 0 and "telegram:42:7" in out and "every 2 hours" in out and "never" in out
    assert easel(env, "pause", "1") == (0, "Paused #1.\n")
    assert "paused" in easel(env, "list")[1]
    assert easel(env, "resume", "1") == (0, "Resumed #1.\n")
    code, out = easel(env, "run", "2")
    assert code == 0 and "requested" in out
    assert easel(env, "remove", "1") == (0, "Removed #1.\n")
    code, out = easel(env, "list")
    assert "telegram:42:7" not in out


@pytest.mark.parametrize(
    ("args", "message", "exit_code"),
    [
        (["add", "--target", "web", "--cron", "0 9 * *", "--prompt", "x"], "not a cron expression", 2),
        (["add", "--target", "web", "--every", "sometimes", "--prompt", "x"], "couldn't tell when", 2),
        (["add", "--target", "mastodon:1", "--cron", "0 9 * * *", "--prompt", "x"], "can't post to", 2),
        (["add", "--target", "web", "--cron", "0 9 * * *", "--prompt", "{nope}"], "I don't know {nope}", 2),
        (
            ["add", "--target", "web", "--cron", "0 9 * * *", "--prompt", "x", "--tz", "Mars/Base"],
            "time zone",
            2,
        ),
        (["remove", "99"], "no schedule #99", 1),
        (["pause", "99"], "no schedule #99", 1),
        (["resume", "99"], "no schedule #99", 1),
        (["run", "99"], "no schedule #99", 1),
    ],
)
def test_bad_input_is_one_clear_line(
    env: dict[str, str], args: list[str], message: str, exit_code: int
) -> None:
    """A bad value exits 2, a schedule that does not exist 1 (README), with one line, never a traceback."""
    code, out = easel(env, *args)
    assert code == exit_code, out
    assert message in out and "Traceback" not in out


ADD = ["add", "--cron", "0 9 * * *", "--prompt", "a lighthouse"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "web", "--provider", "nope"], "There is no provider 'nope'"),
        (["--target", "web", "--provider", "openai"], "needs providers.openai.api_key"),
        (["--target", "discord:123456789012345678"], "does not run on discord"),
    ],
)
def test_add_refuses_what_this_configuration_cannot_run(
    env: dict[str, str], args: list[str], message: str
) -> None:
    """An unknown or unconfigured --provider, or a --target platform not configured: exit 2, nothing added."""
    code, out = easel(env, *ADD, *args)
    assert code == 2 and message in out, out
    assert "No schedules" in easel(env, "list")[1]


def test_add_refuses_the_web_when_it_does_not_run(env: dict[str, str]) -> None:
    """--target web with the web chat turned off (Telegram alone runs) is refused, exit 2."""
    code, out = easel(env | {"EASEL__WEB__ENABLED": "false"}, *ADD, "--target", "web")
    assert code == 2 and "does not run on web" in out and "runs on telegram" in out
