"""The web chat's plain HTTP error texts (a missing image or file, a foreign Host) are in the request's
Accept-Language, like its API refusals; English without one."""

from __future__ import annotations

from tests.web.conftest import WebRun

GERMAN = {"Accept-Language": "de"}


async def test_a_missing_image_is_refused_in_german(web: WebRun) -> None:
    """GET /images/999/0 in German: 404 "Dieses Bild gibt es nicht."."""
    response = await web.client.get("/images/999/0", headers=GERMAN)
    assert response.status_code == 404 and response.text == "Dieses Bild gibt es nicht."


async def test_a_missing_image_is_refused_in_english_without_a_language(web: WebRun) -> None:
    """GET /images/999/0 without Accept-Language: 404 "No such image."."""
    response = await web.client.get("/images/999/0")
    assert response.status_code == 404 and response.text == "No such image."


async def test_a_missing_static_file_is_refused_in_spanish(web: WebRun) -> None:
    """GET /static/nothing.js in Spanish: 404 "No encontrado."."""
    response = await web.client.get("/static/nothing.js", headers={"Accept-Language": "es-ES"})
    assert response.status_code == 404 and response.text == "No encontrado."


async def test_a_foreign_host_is_misdirected_in_german(web: WebRun) -> None:
    """A Host this Easel does not answer to: 421 in German, still naming the setting."""
    host = f"rebind.example:{web.port}"
    response = await web.client.get("/", headers={**GERMAN, "Host": host})
    assert response.status_code == 421
    assert response.text.startswith("Dieses Easel antwortet nicht auf den Namen")
    assert "web.allowed_hosts" in response.text
