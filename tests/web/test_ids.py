"""Numbers in addresses and forms are ASCII digits: "²", Arabic-Indic "٣" or a fullwidth one are a
clear 400 (never a 500, never read as another picture's id), and ids beyond 32 bits name nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.conftest import WebRun, open_web

OTHER_DIGITS = ["²", "٣", "\uff11"]
"""Superscript two, Arabic-Indic three, fullwidth one."""


@pytest.mark.parametrize("digit", OTHER_DIGITS)
@pytest.mark.parametrize(
    "path",
    [
        "/api/generations/{}",
        "/images/{}/0",
        "/images/1/{}",
        "/api/gallery?before={}",
        "/api/gallery?chat={}",
        "/api/gallery?user={}",
        "/api/gallery?limit={}",
    ],
)
async def test_other_digits_in_an_address_are_a_400(web: WebRun, path: str, digit: str) -> None:
    """Ids and page positions in URLs are refused with a JSON message unless written 0-9."""
    await web.generate("a red fox")
    response = await web.client.get(path.format(digit))
    assert response.status_code == 400
    assert "number" in response.json()["error"]


@pytest.mark.parametrize("digit", OTHER_DIGITS)
async def test_other_digits_in_reply_to_are_a_400(web: WebRun, digit: str) -> None:
    """A message replying to "#٣" is refused, not sent as a reply to picture 3."""
    response = await web.client.post(
        "/api/messages", json={"text": "make it warmer", "reply_to": f"#{digit}"}
    )
    assert response.status_code == 400
    assert "reply_to" in response.json()["error"]


@pytest.mark.parametrize("digit", OTHER_DIGITS)
async def test_other_digits_in_a_button_press_are_a_400(web: WebRun, digit: str) -> None:
    """Reroll with generation_id "²" is refused with a message."""
    response = await web.client.post("/api/actions", json={"action": "reroll", "generation_id": digit})
    assert response.status_code == 400
    assert "generation_id" in response.json()["error"]


async def test_other_digits_in_last_event_id_replay_everything(web: WebRun) -> None:
    """A reconnect's Last-Event-ID "<epoch>.²" is not a number: the stream starts from the beginning."""
    web.adapter.hub.publish({"type": "note"})
    epoch = web.adapter.hub.recent()[-1].epoch
    headers = {b"Last-Event-ID": f"{epoch}.²".encode()}
    async with web.client.stream("GET", "/api/events", headers=headers) as response:
        assert response.status_code == 200


@pytest.mark.parametrize("path", ["/api/generations/{}", "/images/{}/0"])
async def test_ids_beyond_32_bits_name_nothing(db_url: str, tmp_path: Path, path: str) -> None:
    """/api/generations/999999999999 is 404, on SQLite and PostgreSQL alike."""
    async with open_web(tmp_path, env={"EASEL__DATABASE_URL": db_url}) as run:
        response = await run.client.get(path.format(999_999_999_999))
        assert response.status_code == 404
