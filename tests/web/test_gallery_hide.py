"""The gallery's Hide and Unhide: the operator's /hide and /unhide through the core, guarded as Delete
(the CSRF token and the Origin); a hidden picture is listed only when asked for, and says so."""

from __future__ import annotations

import pytest

from tests.web.conftest import WebRun


async def listed(web: WebRun, query: str = "") -> list[tuple[int, bool]]:
    response = await web.client.get(f"/api/gallery{query}")
    assert response.status_code == 200, response.text
    return [(item["id"], item["hidden"]) for item in response.json()["items"]]


async def test_hide_leaves_the_picture_out_of_the_gallery_but_keeps_it(web: WebRun) -> None:
    """POST .../hide: 200 with the core's answer; the gallery lists it no more, its detail and image stay."""
    kept = await web.generate("/imagine a lighthouse")
    hidden = await web.generate("/imagine a red fox")
    response = await web.client.post(f"/api/generations/{hidden}/hide", json={})
    assert response.status_code == 200, response.text
    assert response.json()["hidden"] is True
    assert f"Hidden #{hidden}" in response.json()["replies"][0]["text"]
    assert await listed(web) == [(kept, False)]
    detail = await web.client.get(f"/api/generations/{hidden}")
    assert detail.status_code == 200 and detail.json()["hidden"] is True
    assert (await web.client.get(f"/images/{hidden}/0")).status_code == 200


async def test_show_hidden_lists_hidden_pictures_marked(web: WebRun) -> None:
    """?include_hidden=1 lists the hidden one too, with hidden: true."""
    kept = await web.generate("/imagine a lighthouse")
    hidden = await web.generate("/imagine a red fox")
    assert (await web.client.post(f"/api/generations/{hidden}/hide", json={})).status_code == 200
    assert await listed(web, "?include_hidden=1") == [(hidden, True), (kept, False)]
    assert await listed(web, "?include_hidden=yes-please") == [(kept, False)]


async def test_unhide_shows_the_picture_again(web: WebRun) -> None:
    """POST .../unhide after a hide: listed again, not marked."""
    generation = await web.generate("/imagine a castle")
    assert (await web.client.post(f"/api/generations/{generation}/hide", json={})).status_code == 200
    response = await web.client.post(f"/api/generations/{generation}/unhide", json={})
    assert response.status_code == 200, response.text
    assert response.json()["hidden"] is False
    assert await listed(web) == [(generation, False)]


async def test_a_german_browser_gets_the_cores_answer_in_german(web: WebRun) -> None:
    """Accept-Language: de → the hide answer is the core's German text."""
    generation = await web.generate("/imagine a castle")
    response = await web.client.post(
        f"/api/generations/{generation}/hide", json={}, headers={"Accept-Language": "de"}
    )
    assert response.status_code == 200, response.text
    assert f"Hidden #{generation}" not in response.json()["replies"][0]["text"]


@pytest.mark.parametrize("verb", ["hide", "unhide"])
async def test_hiding_a_picture_that_does_not_exist_is_404(web: WebRun, verb: str) -> None:
    """No such picture (and past the largest row id): 404 with a JSON error, nothing changes."""
    for generation in ("999", "9" * 12):
        response = await web.client.post(f"/api/generations/{generation}/{verb}", json={})
        assert response.status_code == 404
        assert response.json()["error"] == "No such picture."


@pytest.mark.parametrize("generation", ["abc", "-1", "١٢", "1e3", "9" * 40])
async def test_a_non_numeric_id_is_refused(web: WebRun, generation: str) -> None:
    """Not ASCII digits (or too long): 400 or 404, never a 500."""
    response = await web.client.post(f"/api/generations/{generation}/hide", json={})
    assert response.status_code in (400, 404)


async def test_hide_from_another_site_is_refused(web: WebRun) -> None:
    """Another site's page cannot hide, even with the token in hand; without the token neither."""
    generation = await web.generate("/imagine a castle")
    evil = await web.client.post(
        f"/api/generations/{generation}/hide", json={}, headers={"Origin": "http://evil.example"}
    )
    assert evil.status_code == 403
    del web.client.headers["X-CSRF-Token"]
    assert (await web.client.post(f"/api/generations/{generation}/hide", json={})).status_code == 403
    assert await listed(web) == [(generation, False)]
