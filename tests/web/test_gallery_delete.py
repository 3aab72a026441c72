"""The gallery's Delete: the operator's, through the core, guarded by the CSRF token and the Origin."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.types import GenerationKind, Image
from tests.web.conftest import WebRun, png


async def _paths(web: WebRun, generation_id: int) -> list[str]:
    record = await web.easel.history.get_generation(generation_id=generation_id)
    assert record is not None and record.images
    return [str(image.path) for image in record.images]


async def test_gallery_delete_removes_the_picture_its_files_and_its_listing(web: WebRun) -> None:
    """POST .../delete with the token: 200, then the gallery, the detail and the image URL know it not."""
    kept = await web.generate("/imagine a lighthouse")
    gone = await web.generate("/imagine a red fox")
    files = await _paths(web, gone)
    response = await web.client.post(f"/api/generations/{gone}/delete", json={})
    assert response.status_code == 200, response.text
    assert response.json()["deleted"] == gone
    listed = (await web.client.get("/api/gallery")).json()["items"]
    assert [item["id"] for item in listed] == [kept]
    assert (await web.client.get(f"/api/generations/{gone}")).status_code == 404
    assert (await web.client.get(f"/images/{gone}/0")).status_code == 404
    media = web.easel.settings.media_dir
    assert all(not (media / path).exists() for path in files)
    assert not any(media.rglob(f"{files[0].rsplit('/', 1)[1].split('.')[0]}.*"))


async def test_gallery_delete_without_the_csrf_token_is_refused(web: WebRun) -> None:
    """Without the session's token (or with a forged one) it is 403 and the picture stays."""
    generation_id = await web.generate("/imagine a castle")
    del web.client.headers["X-CSRF-Token"]
    response = await web.client.post(f"/api/generations/{generation_id}/delete", json={})
    assert response.status_code == 403
    forged = await web.client.post(
        f"/api/generations/{generation_id}/delete", json={}, headers={"X-CSRF-Token": "0" * 64}
    )
    assert forged.status_code == 403
    assert await web.easel.history.get_generation(generation_id=generation_id) is not None
    assert all((web.easel.settings.media_dir / p).exists() for p in await _paths(web, generation_id))


async def test_gallery_delete_from_another_site_is_refused(web: WebRun) -> None:
    """Another site's page cannot delete, even with the token in hand."""
    generation_id = await web.generate("/imagine a castle")
    response = await web.client.post(
        f"/api/generations/{generation_id}/delete", json={}, headers={"Origin": "http://evil.example"}
    )
    assert response.status_code == 403
    assert await web.easel.history.get_generation(generation_id=generation_id) is not None


async def test_the_operator_deletes_another_chats_picture(web: WebRun) -> None:
    """The gallery shows every chat: its Delete removes a Telegram group's picture too."""
    easel, now = web.easel, datetime.now(UTC)
    user_id, chat_id, _ = await easel.history.upsert_identity(
        platform="telegram", user_external_id="5", display_name="Ada", chat_external_id="-100"
    )
    image = Image(data=png(), mime="image/png", width=64, height=48, seed=1, provider="builtin")
    stored = await easel.artifacts.save(image, metadata={}, now=now)
    generation_id, _ = await easel.history.record_generation(
        chat_id=chat_id, user_id=user_id, kind=GenerationKind.GENERATE, prompt="a cat", negative=None,
        params={}, parent_id=None, started=now, now=now, provider="builtin", images=[stored],
    )  # fmt: skip
    response = await web.client.post(f"/api/generations/{generation_id}/delete", json={})
    assert response.status_code == 200, response.text
    assert await easel.history.get_generation(generation_id=generation_id) is None
    assert not stored.path.exists() and not stored.path.with_suffix(".json").exists()


async def test_gallery_delete_of_an_unknown_picture_is_404(web: WebRun) -> None:
    """No such picture: 404, as the detail view answers."""
    response = await web.client.post("/api/generations/999/delete", json={})
    assert response.status_code == 404


async def test_a_child_shows_its_deleted_parent_and_still_rerolls(web: WebRun) -> None:
    """An edit of a deleted picture keeps its images; its detail names the parent as gone; it rerolls."""
    parent = await web.generate("/imagine a lighthouse")
    child = await web.generate(f"/edit #{parent} make it warmer")
    assert (await web.client.post(f"/api/generations/{parent}/delete", json={})).status_code == 200
    detail = (await web.client.get(f"/api/generations/{child}")).json()
    assert detail["parent"] is None and detail["parent_id"] is None
    assert detail["params"]["source"]["generation"] == parent  # what the page shows as "(deleted)"
    assert (await web.client.get(f"/images/{child}/0")).status_code == 200
    rerolled = await web.generate(f"/reroll #{child}")
    assert (await web.easel.history.get_generation(generation_id=rerolled)) is not None
