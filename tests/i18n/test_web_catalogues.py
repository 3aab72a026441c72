"""The web pages' catalogues (gettext domain ``web``): every text the pages and their scripts show is
in German and Spanish, placeholders kept, the compiled files current, and nothing left unmarked."""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from bot.core import i18n
from bot.platforms.web import localize
from bot.platforms.web.pages import STATIC_DIR

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "bot" / "locale"
TRANSLATED = [language for language in i18n.LANGUAGES if language != i18n.DEFAULT]
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
TEMPLATES = sorted(STATIC_DIR.glob("*.html"))
SCRIPTS = sorted(STATIC_DIR.glob("*.js"))
ALLOWED_WORDS = {"Easel"}
"""Text a template may show as it is: the product's name."""
VERBATIM = {"code", "kbd", "script", "style"}
"""Elements whose text is code or keys, shown as written (so is an element marked ``lang="en"``: an
example of what to type in English, such as a schedule's phrase)."""
TRANSLATED_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}


def singular_messages() -> set[str]:
    found = {message for path in TEMPLATES for message in localize.template_messages(path.read_text())}
    for path in SCRIPTS:
        found |= localize.script_messages(path.read_text()).singular
    return found


def plural_messages() -> set[tuple[str, str]]:
    return {pair for path in SCRIPTS for pair in localize.script_messages(path.read_text()).plural}


def entries(messages: Iterable[Message]) -> dict[str, str | tuple[str, ...]]:
    """msgid (a plural's singular) → msgstr (a plural's forms)."""
    found: dict[str, str | tuple[str, ...]] = {}
    for m in messages:
        if m.id:
            key = m.id if isinstance(m.id, str) else m.id[0]
            found[key] = m.string if isinstance(m.string, str) else tuple(m.string)
    return found


def po(language: str) -> dict[str, str | tuple[str, ...]]:
    with (LOCALE / language / "LC_MESSAGES" / "web.po").open("rb") as file:
        return entries(read_po(file))


def test_the_pages_mark_texts_for_translation() -> None:
    """The extraction finds the pages' texts and the scripts' singular and plural texts."""
    assert {"New conversation", "Load more", "Stop this request"} <= singular_messages()
    assert ("{n} image", "{n} images") in plural_messages()


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_of_the_pages_is_in_the_catalogue(language: str) -> None:
    """Each marked text of static/*.html and each t()/tn() text of static/*.js has an entry."""
    catalogue = po(language)
    missing = sorted(singular_messages() - set(catalogue))
    missing += sorted(one for one, _many in plural_messages() if not isinstance(catalogue.get(one), tuple))
    assert not missing, f"{language}: {missing[:5]} (python /work/notes/po_add.py FILE --domain web)"


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_web_translation_is_empty_and_placeholders_match(language: str) -> None:
    """Every msgstr (every plural form) is filled in and has exactly its msgid's {placeholders}."""
    plurals = dict(plural_messages())
    for msgid, msgstr in po(language).items():
        forms = msgstr if isinstance(msgstr, tuple) else (msgstr,)
        expected = sorted(_PLACEHOLDER.findall(msgid))
        for form in forms:
            assert form.strip(), f"{language}: empty translation of {msgid!r}"
            found = sorted(_PLACEHOLDER.findall(form))
            if msgid in plurals:  # a singular form may say "one" instead of {n}
                assert set(found) <= set(_PLACEHOLDER.findall(plurals[msgid])), msgid
            else:
                assert found == expected, msgid


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_web_catalogue_matches_its_po_file(language: str) -> None:
    """The committed web.mo (what the server reads) holds exactly the web.po's translations."""
    with (LOCALE / language / "LC_MESSAGES" / "web.mo").open("rb") as mo:
        compiled = entries(read_mo(mo))
    assert compiled == po(language), "run /work/notes/po_add.py (it compiles the .mo)"


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_one_other_plural_form_fits_every_count_a_page_shows(language: str) -> None:
    """The scripts' tn() picks the form for 1 or the form for 2: right when each catalogue's rule
    gives every count from 2 to 999,999 the same form (and 1 its own)."""
    catalogue = i18n.catalogue(language, i18n.WEB_DOMAIN)
    for one, many in plural_messages():
        other = catalogue.ngettext(one, many, 2)
        assert catalogue.ngettext(one, many, 1) != other
        assert {catalogue.ngettext(one, many, n) for n in range(2, 1000)} == {other}
        if language != i18n.DEFAULT:
            assert other != many, f"{language}: {one!r} has no translated plural"


def test_every_script_call_passes_literal_text() -> None:
    """t( and tn( get a string literal first (what the extraction reads), never a variable."""
    for path in SCRIPTS:
        source = path.read_text()
        for call in localize.ANY_CALL.finditer(source):
            if source[: call.start()].endswith("function "):
                continue  # the helpers' own definitions in common.js
            shown = source[call.start() :][:60]
            assert localize.SCRIPT_CALL.match(source, call.start()), f"{path.name}: {shown!r}"


_LITERAL_UI_TEXT = re.compile(
    r"""(?:\b(?:text|title|alt|placeholder)|"aria-label")\s*:\s*["`](?!/)[^"`]*[A-Za-z]|"""
    r"""\b(?:confirm|alert|Error)\(\s*["`]|textContent\s*=\s*["`][^"`]*[A-Za-z]"""
)


def test_no_script_shows_an_english_literal() -> None:
    """A label, title, alt text, confirm, alert or error of a script is t("...") or data, never a
    bare English literal (a /command a button sends is not a label)."""
    for path in SCRIPTS:
        source = re.sub(r"\$\{[^}]*\}", "", path.read_text()).replace('"Easel"', '""')  # data; the name
        found = _LITERAL_UI_TEXT.search(source)
        assert found is None, f"{path.name}: {found[0] if found else ''!r} (wrap it in t())"


class _Visible(HTMLParser):
    """Words a reader sees in a template once its markers are taken out."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.words: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in {"br", "meta", "link", "input", "img"}:
            self.open.append(tag)
        if tag != "html" and ("lang", "en") in attrs:
            return
        self.words += [value for name, value in attrs if name in TRANSLATED_ATTRIBUTES and value]

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        if not VERBATIM & set(self.open):
            self.words.append(data)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_no_template_text_is_left_unmarked(template: Path) -> None:
    """Outside {{_ "..."}} markers (and code, keys and the name Easel) a page shows no letters."""
    parser = _Visible()
    text = localize.MARKER.sub("", template.read_text())
    parser.feed(text.replace(localize.LANG_MARKER, "en").replace(localize.STRINGS_MARKER, ""))
    words = {word for text in parser.words for word in re.findall(r"[^\W\d_]+", text)}
    assert words <= ALLOWED_WORDS, f"{template.name}: {sorted(words - ALLOWED_WORDS)}"


def test_the_web_catalogues_are_read_from_the_package() -> None:
    """bot.core.i18n.catalogue(language, "web") reads the web domain, separately from easel's."""
    web = i18n.catalogue("de", i18n.WEB_DOMAIN)
    assert isinstance(web, gettext.GNUTranslations)
    assert web.gettext("New conversation") == "Neue Unterhaltung"
    assert i18n.catalogue("de").gettext("New conversation") == "New conversation"
    assert i18n.catalogue("xx", i18n.WEB_DOMAIN).gettext("Send") == "Send"
