"""The web pages in the reader's language: ``?lang=``, else the chat's ``/settings language`` (when the
front door tells it), else the browser's ``Accept-Language``, else English; translations escaped."""

from __future__ import annotations

import gettext
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.core.front_door import FrontDoor
from bot.platforms.web import localize
from tests.web.conftest import WebRun, open_web


async def page(web: WebRun, path: str, accept_language: str | bytes | None = None) -> httpx.Response:
    headers = {"Accept-Language": accept_language} if accept_language is not None else {}
    response = await web.client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response


def strings_of(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="easel-strings">(.*?)</script>', html)
    assert found is not None
    table: dict[str, Any] = json.loads(found[1])
    return table


async def test_a_german_browser_gets_the_chat_page_in_german(web: WebRun) -> None:
    """Accept-Language: de-DE → German labels, <html lang="de">, Content-Language: de, Vary."""
    response = await page(web, "/", "de-DE,de;q=0.9,en;q=0.8")
    assert '<html lang="de">' in response.text
    assert ">Neue Unterhaltung</button>" in response.text
    assert 'placeholder="Beschreibe ein Bild…"' in response.text
    assert "New conversation" not in response.text
    assert response.headers["Content-Language"] == "de"
    assert "Accept-Language" in response.headers["Vary"]


async def test_a_spanish_browser_gets_the_gallery_and_its_script_texts_in_spanish(web: WebRun) -> None:
    """The page's texts and the JSON table its script reads are Spanish."""
    response = await page(web, "/gallery", "es-ES")
    assert "<h1>Galería</h1>" in response.text
    table = strings_of(response.text)
    assert table["messages"]["Delete"] == "Eliminar"
    assert table["plurals"]["{n} image"] == ["{n} imagen", "{n} imágenes"]


async def test_without_accept_language_the_page_is_english(web: WebRun) -> None:
    """No header: the English page, with an empty table (the scripts' own text)."""
    response = await page(web, "/")
    assert '<html lang="en">' in response.text
    assert ">New conversation</button>" in response.text
    assert response.headers["Content-Language"] == "en"
    assert strings_of(response.text) == {"messages": {}, "plurals": {}}


async def test_an_unsupported_language_gets_english(web: WebRun) -> None:
    """Accept-Language: fr, tlh → English."""
    response = await page(web, "/status", "fr-FR,fr;q=0.9,tlh")
    assert "<h1>Status</h1>" in response.text and response.headers["Content-Language"] == "en"


async def test_a_hostile_accept_language_gets_the_english_page(web: WebRun) -> None:
    """8 KB of garbage (aiohttp's longest header line) → the English page, no error."""
    garbage = b"de" + b";q=" * 2000 + b"," * 1000 + "\u00e9\u00fc".encode() * 200
    response = await page(web, "/", garbage[:8000])
    assert response.headers["Content-Language"] == "en"
    assert ">New conversation</button>" in response.text


async def test_a_10_kb_accept_language_is_refused_before_any_page(web: WebRun) -> None:
    """A 10 KB header is longer than aiohttp reads: a plain 400 (the server keeps serving)."""
    response = await web.client.get("/", headers={"Accept-Language": "de," + "x" * 10_000})
    assert response.status_code == 400
    assert (await page(web, "/", "de")).headers["Content-Language"] == "de"


async def test_the_lang_query_wins_over_the_browser(web: WebRun) -> None:
    """/?lang=es with Accept-Language: de → Spanish; ?lang=xx is ignored."""
    assert (await page(web, "/?lang=es", "de")).headers["Content-Language"] == "es"
    assert (await page(web, "/?lang=xx", "de")).headers["Content-Language"] == "de"


async def test_the_login_page_follows_the_browser(tmp_path: Path) -> None:
    """The login form (before the access token) in German for a German browser."""
    env = {"EASEL__WEB__AUTH_TOKEN": "a-long-enough-token"}
    async with open_web(tmp_path, env=env, authorise=False) as run:
        response = await page(run, "/login", "de")
    assert ">Anmelden</button>" in response.text and "Zugangstoken" in response.text


async def test_the_templates_are_not_served_as_files(web: WebRun) -> None:
    """/static/chat.html (the template with its markers) is not an asset: 404."""
    response = await web.client.get("/static/chat.html")
    assert response.status_code == 404
    assert "{{" not in response.text


class ChatLanguageFront:
    """The real front door, plus the chat's language (what a core that tells it would answer)."""

    def __init__(self, front: FrontDoor, languages: dict[str, str]) -> None:
        self._front = front
        self.languages = languages

    async def chat_language(self, platform: str, chat_id: str) -> str | None:
        return self.languages.get(f"{platform}:{chat_id}")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._front, name)


@pytest.fixture
async def spanish_chat(tmp_path: Path) -> AsyncIterator[WebRun]:
    async with open_web(tmp_path) as run:
        front = ChatLanguageFront(run.easel.front, {"web:web": "es"})
        run.adapter.attach(front)  # type: ignore[arg-type]
        yield run


async def test_the_chats_language_wins_over_the_browser(spanish_chat: WebRun) -> None:
    """The main conversation set to Spanish: a German browser gets the Spanish page."""
    response = await page(spanish_chat, "/schedules", "de-DE")
    assert response.headers["Content-Language"] == "es"
    assert "<h1>Publicaciones programadas</h1>" in response.text


async def test_without_the_chats_language_the_browser_decides(spanish_chat: WebRun) -> None:
    """Another conversation with no language set: the browser's German."""
    spanish_chat.client.cookies.set("easel_chat", "w202501020304abcd")
    response = await page(spanish_chat, "/", "de")
    assert response.headers["Content-Language"] == "de"


class Hostile(gettext.NullTranslations):
    """A catalogue whose every text tries to inject markup."""

    def gettext(self, message: str) -> str:
        return '<img src=x onerror=alert(1)> "</script> {key}'

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return "</script><script>alert(1)</script>"


def test_translations_are_escaped_and_only_named_markup_is_added() -> None:
    """A translation's markup is shown as text; only the template's own {key} becomes markup."""
    template = '<p title="{{_ "Hi"}}">{{_ "Press {key}." key="<kbd>Enter</kbd>"}}</p>'
    out = localize.render(template, "de", {}, Hostile())
    assert "<img" not in out and "&lt;img src=x onerror=alert(1)&gt; &quot;&lt;/script&gt;" in out
    assert out.endswith("<kbd>Enter</kbd></p>")
    assert 'title="&lt;img' in out


def test_the_scripts_table_cannot_end_its_script_element() -> None:
    """</script> in a translation stays inside the JSON data block (escaped \\u003c)."""
    messages = localize.ScriptMessages(frozenset({"Hi"}), frozenset({("one", "many")}))
    block = localize.strings_json([messages], Hostile())
    assert block.count("</script>") == 1 and block.endswith("</script>")
    start = '<script type="application/json" id="easel-strings">'
    table = json.loads(block.removeprefix(start).removesuffix("</script>"))
    assert table["messages"]["Hi"].startswith("<img")


async def test_a_conversation_set_to_spanish_shows_its_pages_in_spanish(web: WebRun) -> None:
    """/settings language es in the web chat: a German browser then gets the Spanish page; auto: German."""
    response = await web.client.post("/api/command", json={"text": "/settings language es"})
    assert response.status_code == 200, response.text
    assert (await page(web, "/", "de")).headers["Content-Language"] == "es"
    await web.client.post("/api/command", json={"text": "/settings language auto"})
    assert (await page(web, "/", "de")).headers["Content-Language"] == "de"
