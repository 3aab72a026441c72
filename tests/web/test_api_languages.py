"""The web API answers in the request's Accept-Language (which the pages set to their own language):
its refusals, the guards' answers and the chats' labels; English without one."""

from __future__ import annotations

from tests.web.conftest import WebRun

GERMAN = {"Accept-Language": "de"}


async def test_an_empty_message_is_refused_in_german(web: WebRun) -> None:
    """POST /api/messages with nothing: 400 with the German reason."""
    response = await web.client.post("/api/messages", json={"text": " "}, headers=GERMAN)
    assert response.status_code == 400
    assert response.json()["error"] == "Gib einen Prompt ein oder füge ein Bild hinzu."


async def test_an_unknown_picture_is_refused_in_spanish(web: WebRun) -> None:
    """GET /api/generations/999 in Spanish: 404, "Esa imagen no existe."."""
    response = await web.client.get("/api/generations/999", headers={"Accept-Language": "es-ES"})
    assert response.status_code == 404 and response.json()["error"] == "Esa imagen no existe."


async def test_a_cross_site_request_is_refused_in_german(web: WebRun) -> None:
    """The guard's 403 is in the request's language too."""
    response = await web.client.post(
        "/api/messages", json={"text": "a cat"}, headers={**GERMAN, "Origin": "http://evil.example"}
    )
    assert response.status_code == 403
    assert response.text == "Anfragen von anderen Websites werden nicht angenommen."


async def test_the_conversation_labels_are_in_german(web: WebRun) -> None:
    """/api/conversations and /api/session name the main conversation "Web-Chat"."""
    listed = (await web.client.get("/api/conversations", headers=GERMAN)).json()
    assert listed["conversations"][0]["label"] == "Web-Chat"
    assert (await web.client.get("/api/session", headers=GERMAN)).json()["chat_label"] == "Web-Chat"


async def test_the_gallery_labels_follow_the_language(web: WebRun) -> None:
    """The facets' chat and user labels: German with de, English without a header."""
    await web.generate("/imagine a lighthouse")
    german = (await web.client.get("/api/gallery/facets", headers=GERMAN)).json()
    assert [c["label"] for c in german["chats"]] == ["Web-Chat"]
    assert german["users"][0]["label"].endswith("(Web-Chat)")
    english = (await web.client.get("/api/gallery/facets")).json()
    assert [c["label"] for c in english["chats"]] == ["Web chat"]
