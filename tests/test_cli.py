"""The ``easel`` command line end to end, in-process and as a real subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image as PILImage
from typer.testing import CliRunner

from bot import __version__
from bot.cli import app
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_world import BOT_ID as DISCORD_BOT_ID
from tests.fakes.discord_world import BOT_NAME as DISCORD_BOT_NAME
from tests.fakes.discord_world import TOKEN as DISCORD_TOKEN
from tests.fakes.providers.openai_images import FakeOpenAIImages
from tests.fakes.telegram import BOT_USERNAME, TOKEN, FakeTelegram
from tests.platforms.conftest import free_port


@pytest.fixture
def env(tmp_path: Path, db_url: str) -> dict[str, str]:
    """Environment pointing Easel's database and media at temporary places."""
    return {
        "EASEL__DATABASE_URL": db_url,
        "EASEL__MEDIA_DIR": str(tmp_path / "media"),
        "EASEL__PROVIDERS__BUILTIN__LONG_SIDE": "128",
    }


def easel(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env, input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def saved_paths(stdout: str) -> list[Path]:
    return [Path(line) for line in stdout.splitlines() if line.endswith(".png")]


def test_gen_prints_absolute_paths_of_saved_images(env: dict[str, str], tmp_path: Path) -> None:
    """gen writes the images and prints one absolute path per line, nothing else on stdout."""
    code, out, _ = easel(
        env, "gen", "a watercolor fox at dawn", "--aspect", "16:9", "--n", "2", "--seed", "7"
    )
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert all(Path(line).is_absolute() and Path(line).is_file() for line in lines)
    assert all(Path(line).is_relative_to(tmp_path / "media") for line in lines)


def test_gen_out_copies_images_there(env: dict[str, str], tmp_path: Path) -> None:
    """--out DIR puts the images in DIR and prints those paths."""
    code, out, _ = easel(env, "gen", "a fox", "--out", str(tmp_path / "out"))
    (path,) = saved_paths(out)
    assert code == 0 and path.parent == tmp_path / "out" and path.is_file()


def test_gen_same_seed_gives_identical_bytes(env: dict[str, str]) -> None:
    """The same prompt and seed produce byte-identical files with the built-in renderer."""
    first = saved_paths(easel(env, "gen", "a fox", "--seed", "42")[1])[0]
    second = saved_paths(easel(env, "gen", "a fox", "--seed", "42")[1])[0]
    assert first != second and first.read_bytes() == second.read_bytes()


def test_gen_aspect_shapes_the_image(env: dict[str, str]) -> None:
    """--aspect 16:9 gives a landscape image of that ratio."""
    (path,) = saved_paths(easel(env, "gen", "a fox", "--aspect", "16:9")[1])
    with PILImage.open(path) as img:
        assert abs(img.width / img.height - 16 / 9) < 0.05


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["", "--seed", "1"], "what to draw"),
        (["fox", "--n", "0"], "--n must be between"),
        (["fox", "--n", "99"], "--n must be between"),
        (["fox", "--n", "two"], "Invalid value for '--n'"),
        (["fox", "--aspect", "0:1"], "Aspect ratio"),
        (["fox", "--provider", "nope"], "There is no provider 'nope'"),
        (["fox", "--provider", "openai"], "needs providers.openai.api_key"),
        (["a" * 100_000], "100,000 characters"),
    ],
)
def test_gen_bad_input_is_explained(
    env: dict[str, str], tmp_path: Path, args: list[str], message: str
) -> None:
    """A bad value on the command line exits 2 with a message naming it, before generating anything."""
    code, out, err = easel(env, "gen", *args)
    assert code == 2 and out == "" and message in err and "Traceback" not in err
    assert not (tmp_path / "media").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello", "is not an image I can read"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage", "is not an image I can read"),
        (None, "No such file or directory"),
        (b"\x89PNG\r\n\x1a\n" + bytes(20_000_001), "too large (20 MB at most)"),
    ],
    ids=["text", "corrupt-png", "missing", "too-large"],
)
def test_gen_edit_file_that_cannot_be_used_exits_2(
    env: dict[str, str], tmp_path: Path, content: bytes | None, message: str
) -> None:
    """--edit with a file that is missing, too large or not a readable image: one line, exit 2."""
    path = tmp_path / "notes"
    if content is not None:
        path.write_bytes(content)
    code, out, err = easel(env, "gen", "make it warmer", "--edit", str(path))
    assert code == 2 and out == "" and message in err and "Traceback" not in err


@pytest.mark.parametrize("where", ["file", "proc"])
def test_gen_out_that_cannot_take_files_exits_2_before_generating(
    env: dict[str, str], tmp_path: Path, where: str
) -> None:
    """--out naming a file, or a place no directory can be made, is one line and exit 2; nothing is made."""
    existing = tmp_path / "existing"
    existing.write_text("x")
    out_dir = str(existing) if where == "file" else "/proc/easel-out"
    code, out, err = easel(env, "gen", "a fox", "--out", out_dir)
    assert code == 2 and out == "" and "--out" in err and "Traceback" not in err
    assert not (tmp_path / "media").exists()


def test_gen_a_request_that_fails_exits_1(env: dict[str, str]) -> None:
    """A valid command whose request cannot be done (the only provider is down) exits 1."""
    env = env | {
        "EASEL__GENERATION__PROVIDER": "openai-compatible",
        "EASEL__GENERATION__RETRIES": "0",
        "EASEL__PROVIDERS__OPENAI_COMPATIBLE__BASE_URL": "http://127.0.0.1:9/v1",
    }
    code, out, err = easel(env, "gen", "a fox")
    assert code == 1 and out == "" and "error:" in err and "Traceback" not in err


def test_gen_edit_of_image_file_saves_edit(env: dict[str, str], tmp_path: Path) -> None:
    """--edit with a real image saves the edited image."""
    source = tmp_path / "in.png"
    PILImage.new("RGB", (64, 48), (100, 100, 100)).save(source)
    code, out, _ = easel(env, "gen", "make it black and white", "--edit", str(source))
    assert code == 0 and len(saved_paths(out)) == 1


def test_malformed_config_names_file_and_line(env: dict[str, str], tmp_path: Path) -> None:
    """A config file with an unknown key stops with file:line: key."""
    config = tmp_path / "easel.yaml"
    config.write_text("generation:\n  providr: auto\n")
    code, _, err = easel(env, "--config", str(config), "gen", "fox")
    assert code == 2 and f"{config}:2: generation.providr: unknown key" in err


def test_unreachable_database_is_explained(env: dict[str, str]) -> None:
    """A database that cannot be reached is named (password hidden) and nothing crashes."""
    env = env | {"EASEL__DATABASE_URL": "postgresql+asyncpg://easel:hunter2@127.0.0.1:1/easel"}
    code, out, err = easel(env, "gen", "fox")
    assert code == 1 and out == ""
    assert "Cannot connect to the database" in err and "hunter2" not in err


def test_chat_reads_piped_lines_and_edits_last_image(env: dict[str, str]) -> None:
    """Piped chat: a prompt then 'make it warmer' print two image paths; /history shows the lineage."""
    code, out, _ = easel(env, "chat", stdin="/imagine a red fox\nmake it warmer\n/history\n")
    paths = saved_paths(out)
    assert code == 0 and len(paths) == 2 and all(p.is_absolute() and p.is_file() for p in paths)
    assert "edit of #1" in out


def test_chat_answers_bad_commands_and_continues(env: dict[str, str]) -> None:
    """A bad line is answered and the chat goes on to the next one."""
    code, out, _ = easel(env, "chat", stdin="/imagine a fox --n 99\n/imagine a fox\n")
    assert code == 0 and "--n must be between" in out and len(saved_paths(out)) == 1


def test_chat_has_schedules_and_birthdays(env: dict[str, str]) -> None:
    """The terminal chat answers /schedule and /birthday (the scheduler's commands are always wired)."""
    stdin = "/schedule add every day at 09:00 a lighthouse\n/schedule list\n/birthday set 14-03\n"
    code, out, _ = easel(env, "chat", stdin=stdin)
    assert code == 0 and "not available" not in out
    assert "Scheduled #1" in out and "a lighthouse" in out and "Saved:" in out


def test_config_check_reports_provider_and_hides_secrets(env: dict[str, str]) -> None:
    """config check validates, names the provider chain, and never prints a secret."""
    env = env | {"EASEL__PROVIDERS__OPENAI__API_KEY": "sk-super-secret"}
    code, out, _ = easel(env, "config", "check")
    assert code == 0 and "providers: openai" in out and "sk-super-secret" not in out


def test_config_show_redacts_secrets(env: dict[str, str]) -> None:
    """config show prints YAML with *** in place of secrets."""
    env = env | {"EASEL__TELEGRAM__TOKEN": "123:secret-token"}
    code, out, _ = easel(env, "config", "show")
    assert code == 0 and "token: '***'" in out and "secret-token" not in out


def test_db_upgrade_downgrade_and_current(env: dict[str, str]) -> None:
    """db upgrade reaches head, db downgrade base empties it, current reports each."""
    assert easel(env, "db", "upgrade")[0] == 0
    head = easel(env, "db", "current")[1].strip()
    assert head and head != "base"
    assert easel(env, "db", "downgrade", "base")[0] == 0
    assert easel(env, "db", "current")[1].strip() == "base"


def test_providers_lists_every_provider(env: dict[str, str]) -> None:
    """providers lists builtin as used and the others as not configured."""
    code, out, _ = easel(env, "providers")
    assert code == 0 and "builtin" in out and "used (#1)" in out and "openai-compatible" in out


def test_doctor_checks_database_and_providers(env: dict[str, str]) -> None:
    """doctor reports the database and the builtin provider as ok."""
    code, out, _ = easel(env, "doctor")
    assert code == 0 and "database    ok" in out and "builtin     ok" in out


def test_doctor_reports_a_dead_provider_and_fails(env: dict[str, str]) -> None:
    """A configured provider that does not answer is reported BAD and doctor exits 1."""
    env = env | {"EASEL__PROVIDERS__OPENAI_COMPATIBLE__BASE_URL": "http://127.0.0.1:9/v1"}
    code, out, _ = easel(env, "doctor")
    assert code == 1 and "openai-compatible BAD" in out and "connection refused" in out


def test_providers_names_the_missing_key(env: dict[str, str]) -> None:
    """providers says which setting an unconfigured provider needs."""
    code, out, _ = easel(env, "providers", "--no-live")
    assert code == 0 and "needs providers.openai.api_key" in out


def test_python_dash_m_bot_runs_like_easel(env: dict[str, str]) -> None:
    """`python -m bot gen` works as a real process and prints the saved path."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "gen", "a small fox", "--seed", "3"],
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_file()


async def test_doctor_reports_a_live_provider_with_latency(env: dict[str, str]) -> None:
    """A configured provider that answers is reported ok with its latency."""
    async with FakeOpenAIImages() as fake:
        env = env | {"EASEL__PROVIDERS__OPENAI_COMPATIBLE__BASE_URL": fake.base_url}
        code, out, _ = await asyncio.to_thread(easel, env, "doctor")
    line = next(line for line in out.splitlines() if line.startswith("openai-compatible"))
    assert code == 0 and " ok " in line and " ms " in line


# ------------------------------------------------------------------------ issue 18: the command line


@pytest.mark.parametrize("where", ["before", "after", "short"])
def test_config_is_read_before_or_after_the_command_name(
    env: dict[str, str], tmp_path: Path, where: str
) -> None:
    """--config PATH (and -c) is the file read, whether it comes before or after the command name."""
    config = tmp_path / "easel.yaml"
    config.write_text("generation:\n  providr: auto\n")
    args = {
        "before": ["--config", str(config), "config", "check"],
        "after": ["config", "check", "--config", str(config)],
        "short": ["config", "check", "-c", str(config)],
    }[where]
    code, _, err = easel(env, *args)
    assert code == 2 and f"{config}:2: generation.providr: unknown key" in err


def test_config_after_a_schedule_command_is_read(env: dict[str, str], tmp_path: Path) -> None:
    """A command two levels down (easel schedule list) takes -c PATH too."""
    config = tmp_path / "easel.yaml"
    config.write_text("scheduler:\n  timezon: UTC\n")
    code, _, err = easel(env, "schedule", "list", "-c", str(config))
    assert code == 2 and f"{config}:2: scheduler.timezon: unknown key" in err


def test_version_prints_the_version(env: dict[str, str]) -> None:
    """easel --version prints the package's version and exits 0."""
    code, out, _ = easel(env, "--version")
    assert code == 0 and out.strip() == f"easel {__version__}"


def test_run_with_a_busy_port_names_the_option_and_variable(env: dict[str, str]) -> None:
    """easel run on a port in use exits 2, naming --port and EASEL__WEB__PORT, before starting."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = easel(env, "run", "--port", str(port))
    assert code == 2 and out == ""
    assert f"127.0.0.1:{port}" in err and "--port" in err and "EASEL__WEB__PORT" in err
    assert "Starting Easel" not in err


async def test_run_port_and_host_set_the_web_chats_address(env: dict[str, str]) -> None:
    """easel run --host H --port N serves the web chat at http://H:N/ (a real process)."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--host", "127.0.0.2", "--port", str(port),
        env=os.environ | env | {"EASEL__WEB__SECRET_FILE": str(Path(env["EASEL__MEDIA_DIR"]) / "secret")},
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 60)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert line.decode().strip() == f"Easel web chat: http://127.0.0.2:{port}/", stderr.decode()
    assert process.returncode == 0


@pytest.mark.parametrize(
    ("extra", "platforms"),
    [
        ({}, "platforms: web "),
        ({"EASEL__TELEGRAM__TOKEN": TOKEN}, "platforms: telegram, web "),
        ({"EASEL__TELEGRAM__TOKEN": TOKEN, "EASEL__WEB__ENABLED": "false"}, "platforms: telegram "),
        ({"EASEL__DISCORD__TOKEN": DISCORD_TOKEN, "EASEL__WEB__ENABLED": "false"}, "platforms: discord "),
    ],
    ids=["nothing", "telegram", "telegram-no-web", "discord-no-web"],
)
def test_config_check_names_the_platforms_run_would_start(
    env: dict[str, str], extra: dict[str, str], platforms: str
) -> None:
    """config check lists the platforms `easel run` starts (the web chat, not a console)."""
    code, out, _ = easel(env | extra, "config", "check")
    assert code == 0 and platforms in out and "console" not in out


async def test_doctor_asks_telegram_who_the_bot_is(env: dict[str, str]) -> None:
    """doctor calls getMe with the configured token and reports the bot's @username."""
    async with FakeTelegram() as tg:
        env = env | {"EASEL__TELEGRAM__TOKEN": TOKEN, "EASEL__TELEGRAM__BASE_URL": tg.base_url}
        code, out, _ = await asyncio.to_thread(easel, env, "doctor")
        assert [c.method for c in tg.calls] == ["getMe"]
    line = next(line for line in out.splitlines() if line.startswith("telegram"))
    assert code == 0 and " ok " in line and f"@{BOT_USERNAME}" in line


async def test_doctor_reports_a_token_telegram_rejects(env: dict[str, str]) -> None:
    """A token the Bot API answers 401 to is BAD, named, not shown, and doctor exits 1."""
    async with FakeTelegram() as tg:
        env = env | {
            "EASEL__TELEGRAM__TOKEN": "999:wrong-token-xyz",
            "EASEL__TELEGRAM__BASE_URL": tg.base_url,
        }
        code, out, _ = await asyncio.to_thread(easel, env, "doctor")
    line = next(line for line in out.splitlines() if line.startswith("telegram"))
    assert code == 1 and "BAD" in line and "Telegram rejected telegram.token (401" in line
    assert "wrong-token" not in out


async def test_doctor_asks_discord_who_the_bot_is(env: dict[str, str]) -> None:
    """doctor calls GET /users/@me with the configured token and reports the bot user."""
    async with FakeDiscord() as dc:
        env = env | {"EASEL__DISCORD__TOKEN": DISCORD_TOKEN, "EASEL__DISCORD__API_BASE_URL": dc.api_base_url}
        code, out, _ = await asyncio.to_thread(easel, env, "doctor")
    line = next(line for line in out.splitlines() if line.startswith("discord"))
    assert code == 0 and " ok " in line and f"{DISCORD_BOT_NAME}" in line and f"id {DISCORD_BOT_ID}" in line


async def test_doctor_reports_a_token_discord_rejects(env: dict[str, str]) -> None:
    """A token Discord answers 401 to is BAD, named, not shown, and doctor exits 1."""
    async with FakeDiscord() as dc:
        env = env | {
            "EASEL__DISCORD__TOKEN": "bad-discord-token",
            "EASEL__DISCORD__API_BASE_URL": dc.api_base_url,
        }
        code, out, _ = await asyncio.to_thread(easel, env, "doctor")
    line = next(line for line in out.splitlines() if line.startswith("discord"))
    assert code == 1 and "BAD" in line and "Discord rejected discord.token (401" in line
    assert "bad-discord-token" not in out
