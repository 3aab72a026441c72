"""The message catalogues: complete for every language, placeholders kept, the compiled files current,
and the language of a request chosen safely (``bot.core.i18n``)."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from bot.core import i18n

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "bot" / "locale"
TRANSLATED = [language for language in i18n.LANGUAGES if language != i18n.DEFAULT]
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def _scanned(dirpath: str) -> bool:
    """Every package folder, ``_http`` too (Babel's default filter skips names starting with ``_``)."""
    name = Path(dirpath).name
    return not name.startswith(".") and name != "__pycache__"


def source_messages() -> set[str]:
    """Every message the code marks with ``_``, ``N_`` or ``ngettext`` (Babel's extractor)."""
    found = extract_from_dir(
        str(ROOT / "bot"),
        method_map=[("**.py", "python")],
        directory_filter=_scanned,
        keywords={"_": None, "N_": None, "ngettext": (1, 2)},
    )
    return {message if isinstance(message, str) else message[0] for _file, _line, message, _c, _ctx in found}


def _key(message_id: str | tuple[str, ...]) -> str:
    """A message's singular msgid (plural entries are keyed by their first form)."""
    return message_id if isinstance(message_id, str) else message_id[0]


def _forms(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def catalogue(language: str) -> dict[str, list[str]]:
    """Each msgid (a plural's singular) and its translated forms."""
    with (LOCALE / language / "LC_MESSAGES" / "easel.po").open("rb") as po:
        return {_key(m.id): _forms(m.string) for m in read_po(po) if m.id}


def source_ids() -> dict[str, list[str]]:
    """Each msgid of the catalogue's template and its English forms (singular and plural)."""
    with (LOCALE / "easel.pot").open("rb") as pot:
        return {_key(m.id): _forms(m.id) for m in read_po(pot) if m.id}


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_of_the_code_is_in_the_catalogue(language: str) -> None:
    """Each marked string of bot/ has an entry (nothing the code says is left in English)."""
    missing = source_messages() - set(catalogue(language))
    assert not missing, f"{language}: {sorted(missing)[:5]} (pybabel extract, then update the .po)"


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_translation_is_empty_and_placeholders_match(language: str) -> None:
    """Every msgstr is filled in and has exactly its msgid's {placeholders}."""
    english = source_ids()
    for msgid, forms in catalogue(language).items():
        expected = sorted(set(_PLACEHOLDER.findall(" ".join(english.get(msgid, [msgid])))))
        for msgstr in forms:
            assert msgstr.strip(), f"{language}: empty translation of {msgid!r}"
            assert sorted(set(_PLACEHOLDER.findall(msgstr))) <= expected, msgid
            assert sorted(set(_PLACEHOLDER.findall(msgstr))) == expected or len(forms) > 1, msgid


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_plural_entry_has_every_form_of_its_language(language: str) -> None:
    """An ngettext entry has as many forms as the language's Plural-Forms says (Spanish: three)."""
    with (LOCALE / language / "LC_MESSAGES" / "easel.po").open("rb") as po:
        entries = read_po(po)
    for message in entries:
        if message.id and not isinstance(message.id, str):
            assert len(_forms(message.string)) == entries.num_plurals, message.id


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalogue_matches_its_po_file(language: str) -> None:
    """The committed .mo (what the bot reads) holds exactly the .po's translations."""
    with (LOCALE / language / "LC_MESSAGES" / "easel.mo").open("rb") as mo:
        compiled = {_key(m.id): _forms(m.string) for m in read_mo(mo) if m.id}
    assert compiled == catalogue(language), "run: pybabel compile -d bot/locale -D easel"


def test_the_package_data_includes_the_catalogues() -> None:
    """pyproject ships the .mo files in the wheel (and so with pip install -e . too)."""
    text = (ROOT / "pyproject.toml").read_text()
    assert '"locale/*/LC_MESSAGES/*.mo"' in text


def test_translations_are_used_and_english_is_unchanged() -> None:
    """_() gives German and Spanish text in their blocks and the English source outside."""
    message = "Nothing here yet."
    with i18n.using("de"):
        assert i18n._(message) == "Hier gibt es noch nichts."
    with i18n.using("es-ES"):
        assert i18n._(message) == "Aquí todavía no hay nada."
    assert i18n._(message) == message


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("de-DE,de;q=0.9", "de"),
        ("fr-FR,fr;q=0.9,es;q=0.8,de;q=0.7", "es"),
        ("en;q=0.5,de;q=0.6", "de"),
        ("de;q=0,es", "es"),
        ("*, es-419", "es"),
        ("de;q=1.5,es;q=abc,en;q=0.1", "en"),
        ("", None),
        ("klingon, tlh", None),
    ],
)
def test_accept_language_picks_the_preferred_supported_language(header: str, language: str | None) -> None:
    """q-values order the ranges; q=0, malformed q-values, unknown tags and * are skipped."""
    assert i18n.accept_language(header) == language


def test_a_hostile_accept_language_header_falls_back_to_english() -> None:
    """10 KB of garbage (and a supported tag only after the first ranges) gives no language."""
    garbage = "x" * 5000 + ";q=" + "9" * 5000
    assert i18n.accept_language(garbage) is None
    assert i18n.accept_language(",".join(["zz"] * 5000 + ["de"])) is None  # past MAX_RANGES
    assert i18n.accept_language("de-" + "A" * 10_000) is None  # a tag longer than any real one
    assert i18n.resolve({}, i18n.accept_language(garbage)) == "en"


def test_the_chat_setting_wins_over_the_senders_locale() -> None:
    """resolve: /settings language, then the sender's locale, then English."""
    assert i18n.resolve({"language": "es"}, "de-DE") == "es"
    assert i18n.resolve({}, "de-DE") == "de"
    assert i18n.resolve({"language": "xx"}, None) == "en"


def test_a_fresh_interpreter_finds_the_catalogues_from_the_package() -> None:
    """bot.core.i18n locates bot/locale next to the package (as installed), not via the cwd."""
    code = "from bot.core import i18n\nwith i18n.using('de'):\n    print(i18n._('Cancelled.'))"
    out = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "Abgebrochen."


def test_the_template_lists_every_message() -> None:
    """bot/locale/easel.pot (what translators start from) is current."""
    with (LOCALE / "easel.pot").open("rb") as pot:
        template = {m.id for m in read_po(io.BytesIO(pot.read())) if m.id}
    assert source_messages() <= template


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_the_help_fits_one_discord_message_in_every_language(language: str) -> None:
    """/help in each language is shorter than Discord's 2,000 characters (one message, not two)."""
    from bot.core.texts import HELP
    from bot.platforms.discord.render import MAX_CONTENT

    with i18n.using(language):
        assert len(i18n._(HELP)) < MAX_CONTENT - 20  # room for a mention in front
