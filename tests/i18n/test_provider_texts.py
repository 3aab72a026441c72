"""Texts that reach a chat from errors: every ``user_message=`` in bot/providers and bot/core is
translated (``_()``), never an English literal or an untranslated constant, and the messages of the
directories Babel's extractor skips (``_http``) are in the catalogues too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from tests.i18n.test_catalogues import TRANSLATED, catalogue

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("bot/providers", "bot/core")
PENDING: dict[str, str] = {}
"""Files whose literals are known and not wrapped yet (each with why): remove an entry once its file
is done."""
_TRANSLATORS = {"_", "ngettext"}


def _untranslated(node: ast.expr) -> bool:
    """Whether a ``user_message`` value is English as written: a string or f-string literal with words
    (also concatenated, ``%``-formatted or ``.format``-ted) or an ALL_CAPS constant not passed through
    ``_()``."""
    if isinstance(node, ast.Constant):  # words, not a joining " " or ": "
        return isinstance(node.value, str) and any(ch.isalpha() for ch in node.value)
    if isinstance(node, ast.JoinedStr):
        return any(_untranslated(part) for part in node.values if isinstance(part, ast.Constant))
    if isinstance(node, ast.BinOp):
        return _untranslated(node.left) or _untranslated(node.right)
    if isinstance(node, ast.IfExp):
        return _untranslated(node.body) or _untranslated(node.orelse)
    if isinstance(node, ast.Name):
        return node.id.isupper()
    if isinstance(node, ast.Attribute):
        return node.attr.isupper()
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id in _TRANSLATORS:
            return False
        if isinstance(func, ast.Attribute) and func.attr == "format":
            return _untranslated(func.value)
    return False


def untranslated_user_messages(source: str, filename: str = "<source>") -> list[str]:
    """``file:line: code`` of each ``user_message=`` keyword whose value is untranslated."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.keyword) and node.arg == "user_message" and _untranslated(node.value):
            found.append(f"{filename}:{node.value.lineno}: {ast.unparse(node.value)[:80]}")
    return found


def _scanned_files() -> list[Path]:
    return sorted(path for folder in SCANNED for path in (ROOT / folder).rglob("*.py"))


def test_the_check_finds_literals_and_constants_and_passes_translated_text() -> None:
    """The scanner flags "..." / f"..." / "...".format() / CONSTANT values and passes _() / ngettext()."""
    flagged = """
raise Refused("x", user_message="The image service refused.")
raise Refused("x", user_message=f"{provider} refused.")
raise Refused("x", user_message="Could not: " + reason)
raise Refused("x", user_message="{n} refused.".format(n=1))
raise Refused("x", user_message=REFUSED_TEXT)
raise Refused("x", user_message=media.NOT_AN_IMAGE)
raise Refused("x", user_message=_("A") if a else "B")
"""
    passed = """
raise Refused("x", user_message=_("The image service refused."))
raise Refused("x", user_message=_("{provider} refused.").format(provider=provider))
raise Refused("x", user_message=_(REFUSED_TEXT))
raise Refused("x", user_message=exc.user_message)
raise Refused("x", user_message=busy_text(wait))
raise Refused("x", user_message=ngettext("one", "many", n))
raise Refused("x", user_message=_("A.") + " " + _(HELP))
"""
    assert len(untranslated_user_messages(flagged)) == 7
    assert untranslated_user_messages(passed) == []


def test_no_user_message_in_providers_or_core_is_left_in_english() -> None:
    """Every ``user_message=`` of bot/providers and bot/core goes through ``_()`` (the job's language)."""
    found = []
    for path in _scanned_files():
        name = path.relative_to(ROOT).as_posix()
        if name not in PENDING:
            found += untranslated_user_messages(path.read_text(encoding="utf-8"), name)
    assert not found, "wrap these in _() (constants: N_() where defined):\n" + "\n".join(found)


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_messages_of_underscore_directories_are_translated(language: str) -> None:
    """bot/providers/_http (skipped by Babel's directory walk, so by the catalogue check) has every
    marked message in the catalogue."""
    marked = set()
    for path in sorted((ROOT / "bot" / "providers" / "_http").rglob("*.py")):
        for _line, message, _comments, _context in extract_from_file(
            "python", str(path), keywords={"_": None, "N_": None, "ngettext": (1, 2)}
        ):
            marked.add(message if isinstance(message, str) else message[0])
    assert len(marked) > 20  # the shared provider texts are there to check
    missing = marked - set(catalogue(language))
    assert not missing, f"{language}: {sorted(missing)[:5]}"
