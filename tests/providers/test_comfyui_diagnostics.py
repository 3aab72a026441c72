"""`easel providers` for comfyui (issue 17, item 18): the live model list is the server's alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import diagnostics
from bot.settings import load_settings
from tests.fakes.providers.comfyui import FakeComfyUI


async def comfyui_report(
    fake: FakeComfyUI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> diagnostics.ProviderReport:
    monkeypatch.chdir(tmp_path)
    environ = {
        "EASEL__DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'easel.db'}",
        "EASEL__MEDIA_DIR": str(tmp_path / "media"),
        "EASEL__PROVIDERS__COMFYUI__BASE_URL": fake.base_url,
    }
    reports = await diagnostics.report(load_settings(environ=environ), probe=False, list_models=True)
    [report] = [r for r in reports if r.name == "comfyui"]
    return report


async def test_a_server_without_checkpoints_lists_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model-free server: live list empty, no catalogue names merged in."""
    async with FakeComfyUI(checkpoints=()) as fake:
        report = await comfyui_report(fake, tmp_path, monkeypatch)
    assert report.live_models and report.models == ()


async def test_the_live_list_is_what_the_server_has(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One checkpoint installed: exactly that one is listed."""
    async with FakeComfyUI(checkpoints=("dreamshaper_8.safetensors",)) as fake:
        report = await comfyui_report(fake, tmp_path, monkeypatch)
    assert report.models == ("dreamshaper_8.safetensors",)
