"""The web chat's pages in the reader's language (gettext domain ``web``, :mod:`bot.core.i18n`).

A page template (``static/*.html``) marks each text ``{{_ "English text"}}``; a text with markup in it
names the markup as placeholders given beside it, fixed HTML of the template that is not translated
(``{{_ "Press {key} to send." key="<kbd>Enter</kbd>"}}``; no double quote inside a value). The
translation is HTML-escaped, then only its named placeholders become their markup, so a catalogue
can never add markup. ``{{lang}}`` is the page's language and ``{{strings}}`` the texts its scripts
show: a JSON data block (``<script type="application/json" id="easel-strings">``, which the
Content-Security-Policy allows as it is never run) read by ``Easel.t("English text", {name: value})``
and ``Easel.tn("one", "{n} many", n)`` in ``common.js``; only literal strings are passed to them, so
they can be extracted (:func:`script_messages`).

Every page is rendered once per language when the server starts (:func:`render_pages`); a request
only picks its copy (:func:`page_language`). The API answers (errors, labels, the core's replies) are
in the request's ``Accept-Language`` (:func:`language`), which the pages' scripts set to the page's.
"""

from __future__ import annotations

import gettext
import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.core import i18n

MARKER = re.compile(r'\{\{_ "(?P<id>[^"]+)"(?P<args>(?: [a-z_]+="[^"]*")*)\}\}')
"""``{{_ "text"}}`` or ``{{_ "text {name}" name="<b>markup</b>"}}``."""
_ARG = re.compile(r' (?P<name>[a-z_]+)="(?P<value>[^"]*)"')
_PLACEHOLDER = re.compile(r"\{(?P<name>[a-z_]+)\}")
LANG_MARKER = "{{lang}}"
STRINGS_MARKER = "{{strings}}"
_SCRIPT_SRC = re.compile(r'<script src="/static/(?P<name>[a-z0-9_-]+\.js)"')
_STRING = r'"(?:[^"\\\n]|\\.)*"'
SCRIPT_CALL = re.compile(rf"\bt\(\s*(?P<id>{_STRING})|\btn\(\s*(?P<one>{_STRING})\s*,\s*(?P<many>{_STRING})")
"""``t("text"`` or ``tn("one", "many"`` in a script."""
ANY_CALL = re.compile(r"\bt\(|\btn\(")
QUERY_KEY = "lang"
"""``?lang=de`` shows a page in that language whatever the browser or the chat says."""


@dataclass(frozen=True, slots=True)
class ScriptMessages:
    singular: frozenset[str]
    plural: frozenset[tuple[str, str]]


def template_messages(template: str) -> list[str]:
    """The texts a page template marks, in order."""
    return [match["id"] for match in MARKER.finditer(template)]


@lru_cache(maxsize=32)
def script_messages(script: str) -> ScriptMessages:
    """The texts a script passes to ``t`` and ``tn`` (string literals only); remembered for the few
    static scripts, which every page and language of a start reads."""
    singular: set[str] = set()
    plural: set[tuple[str, str]] = set()
    for match in SCRIPT_CALL.finditer(script):
        if match["id"] is not None:
            singular.add(json.loads(match["id"]))
        else:
            plural.add((json.loads(match["one"]), json.loads(match["many"])))
    return ScriptMessages(frozenset(singular), frozenset(plural))


def scripts_of(template: str) -> list[str]:
    """The static scripts a page loads (``common.js``, ``chat.js``)."""
    return [match["name"] for match in _SCRIPT_SRC.finditer(template)]


def _substitute(match: re.Match[str], catalogue: gettext.NullTranslations) -> str:
    text = html.escape(catalogue.gettext(match["id"]), quote=True)
    markup = {arg["name"]: arg["value"] for arg in _ARG.finditer(match["args"])}
    return _PLACEHOLDER.sub(lambda p: markup.get(p["name"], p[0]), text)


def strings_json(messages: Iterable[ScriptMessages], catalogue: gettext.NullTranslations) -> str:
    """The scripts' translated texts as the page's JSON data block (English: none, the scripts show
    their own text). ``<``, ``>`` and ``&`` are escaped, so no text can end the block. A plural's
    forms for 1 and for 2: the one and the other form (every catalogue's rule, below a million)."""
    table: dict[str, dict[str, object]] = {"messages": {}, "plurals": {}}
    for found in messages:
        for message in sorted(found.singular):
            if (translated := catalogue.gettext(message)) != message:
                table["messages"][message] = translated
        for one, many in sorted(found.plural):
            forms = [catalogue.ngettext(one, many, 1), catalogue.ngettext(one, many, 2)]
            if forms != [one, many]:
                table["plurals"][one] = forms
    text = json.dumps(table, ensure_ascii=False, sort_keys=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="easel-strings">{text}</script>'


def render(
    template: str,
    language: str,
    scripts: Mapping[str, str],
    catalogue: gettext.NullTranslations | None = None,
) -> str:
    """``template`` in ``language`` (from its ``web`` catalogue unless one is given); ``scripts``: the
    static scripts' sources by file name."""
    translations = catalogue or i18n.catalogue(language, i18n.WEB_DOMAIN)
    page = MARKER.sub(lambda match: _substitute(match, translations), template)
    page = page.replace(LANG_MARKER, language)
    if STRINGS_MARKER in page:
        found = [script_messages(scripts.get(name, "")) for name in scripts_of(template)]
        page = page.replace(STRINGS_MARKER, strings_json(found, translations))
    return page


def render_pages(templates: Mapping[str, str], scripts: Mapping[str, str]) -> dict[tuple[str, str], bytes]:
    """Every page in every language, by (file name, language)."""
    return {
        (name, language): render(template, language, scripts).encode()
        for name, template in templates.items()
        for language in i18n.LANGUAGES
    }


def page_language(query: Mapping[str, str], accept_language: str | None, chat_language: str | None) -> str:
    """``?lang=``, else the chat's ``/settings language``, else the browser's ``Accept-Language``,
    else English."""
    chosen = i18n.language_of(query.get(QUERY_KEY)) or i18n.language_of(chat_language)
    return chosen or i18n.accept_language(accept_language) or i18n.DEFAULT


@web.middleware
async def language(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Handle the request in its ``Accept-Language`` (``bot.core.i18n.using``): what the handlers and
    guards say with ``_()``, and the core's answers to a sender without a chat language. The pages'
    scripts send their page's language."""
    with i18n.using(i18n.accept_language(request.headers.get("Accept-Language"))):
        return await handler(request)
