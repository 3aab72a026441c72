"""The web chat's per-image actions and truthful metadata over HTTP (issue 18, items 4 and 6): the page's
Vary k and Edit k send ``/vary #id/k`` and ``/edit #id/k ...``; the API says what was made."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import WebRun


def last_reply(web: WebRun) -> dict[str, Any]:
    return next(e.data for e in reversed(web.adapter.hub.recent()) if e.data.get("type") == "reply")


async def test_vary_2_from_the_page_varies_the_second_image(web: WebRun) -> None:
    """The page's Vary 2 button (``/vary #1/2``) makes a variation of image 2 of the set."""
    first = await web.generate("two foxes --n 2")
    varied = await web.generate(f"/vary #{first}/2")
    record = await web.easel.history.get_generation(generation_id=varied)
    assert (
        record is not None
        and record.kind == "vary"
        and record.params["source"] == {"generation": first, "image": 1}
    )


async def test_edit_2_from_the_page_edits_the_second_image(web: WebRun) -> None:
    """The page's Edit 2 (``/edit #1/2 make it warmer``) edits image 2, shown in the lineage API."""
    first = await web.generate("two foxes --n 2")
    edited = await web.generate(f"/edit #{first}/2 make it warmer")
    item = (await web.client.get(f"/api/generations/{edited}")).json()
    assert item["parent"]["id"] == first and item["params"]["source"] == {"generation": first, "image": 1}


async def test_image_9_of_a_two_image_set_is_answered_in_the_chat(web: WebRun) -> None:
    """``/vary #1/9`` of a set of two is answered with the set's size, not an HTTP failure."""
    first = await web.generate("two foxes --n 2")
    response = await web.send(f"/vary #{first}/9")
    assert response.status_code == 200
    await web.easel.queue.wait_for(response.json()["job_id"])
    reply = last_reply(web)
    assert reply["is_error"] and reply["text"] == f"Picture #{first} has 2 images; there is no image 9."


async def test_the_api_says_16_9_for_a_16_9_crop(web: WebRun) -> None:
    """'try a 16:9 version' of a square picture: the reply, the detail API and the gallery say 16:9."""
    await web.generate("a red fox")
    edited = await web.generate("try a 16:9 version")
    reply = last_reply(web)
    assert "· 16:9 ·" in reply["text"] and reply["images"][0]["width"] > reply["images"][0]["height"]
    item = (await web.client.get(f"/api/generations/{edited}")).json()
    assert item["params"]["aspect"] == "16:9"
    gallery = (await web.client.get("/api/gallery")).json()["items"][0]
    assert gallery["id"] == edited and gallery["params"]["aspect"] == "16:9"
