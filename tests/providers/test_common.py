"""bot.providers._http.common: settings, edit detection, the two edit wordings, options and JSON answers."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from bot.core.errors import InvalidRequest, Misconfigured, Unavailable
from bot.core.types import GenerationKind, ImageRequest
from bot.providers._http.common import (
    api_key,
    base_url,
    base_urls,
    diffusion_prompt,
    instruction_prompt,
    is_edit,
    merge_options,
    read_json,
    read_object,
)
from bot.providers.settings import ProviderSettings


def test_api_key_is_stripped_and_required() -> None:
    """The key loses surrounding blanks; a blank key names the setting."""
    assert api_key(ProviderSettings(api_key=SecretStr(" k \n")), provider="x") == "k"
    with pytest.raises(Misconfigured, match=r"providers\.x\.api_key is not set") as caught:
        api_key(ProviderSettings(api_key=SecretStr("  ")), provider="x")
    assert "providers.x.api_key" in caught.value.user_message


def test_base_url_single_and_list() -> None:
    """One URL (trailing slash dropped) or the default; a list of two is refused for a single-URL API."""
    assert base_url(ProviderSettings(), provider="x", default="https://a/v1") == "https://a/v1"
    assert base_url(ProviderSettings(), provider="x", default=None) is None
    assert base_url(ProviderSettings(base_url=["http://h/v1/"]), provider="x", default=None) == "http://h/v1"
    with pytest.raises(Misconfigured, match="takes one URL"):
        base_url(ProviderSettings(base_url=["http://a", "http://b"]), provider="x", default="https://d")
    with pytest.raises(Misconfigured, match="not an http"):
        base_url(ProviderSettings(base_url="ftp://h"), provider="x", default="https://d")


def test_base_urls_for_server_lists() -> None:
    """A list of servers; required (with an example) when there is no default; each listed once."""
    settings = ProviderSettings(base_url=["http://a:1/", " http://b:2 "])
    assert base_urls(settings, provider="x") == ["http://a:1", "http://b:2"]
    assert base_urls(ProviderSettings(), provider="x", default="https://d") == ["https://d"]
    with pytest.raises(Misconfigured, match=r"base_url is not set \(for example http://e\)"):
        base_urls(ProviderSettings(), provider="x", example="http://e")
    with pytest.raises(Misconfigured, match="twice"):
        base_urls(ProviderSettings(base_url=["http://a", "http://a/"]), provider="x")


def test_is_edit_needs_a_reference() -> None:
    """EDIT/VARY are edits and need a reference image; a generation is not."""
    assert not is_edit(ImageRequest("p"), provider="x")
    assert is_edit(ImageRequest("p", kind=GenerationKind.VARY, reference_images=(b"i",)), provider="x")
    with pytest.raises(InvalidRequest, match="needs a reference image") as caught:
        is_edit(ImageRequest("p", kind=GenerationKind.EDIT), provider="x")
    assert caught.value.user_message == "I need an image to work from for that."


def test_the_two_edit_wordings() -> None:
    """Instruction-following models get an instruction; diffusion models "source, instruction"."""
    edit = ImageRequest("make it warmer", kind=GenerationKind.EDIT, source_prompt="a fox")
    vary = ImageRequest("a fox", kind=GenerationKind.VARY, source_prompt="a fox")
    assert instruction_prompt(ImageRequest("a fox")) == diffusion_prompt(ImageRequest("a fox")) == "a fox"
    assert instruction_prompt(edit) == (
        "Edit the attached image: make it warmer\n(The image was made from this prompt: a fox)"
    )
    assert "variation" in instruction_prompt(vary) and "a fox" in instruction_prompt(vary)
    assert diffusion_prompt(edit) == "a fox, make it warmer"
    assert diffusion_prompt(vary) == "a fox"
    same = ImageRequest("A Fox", kind=GenerationKind.EDIT, source_prompt="a fox")
    assert diffusion_prompt(same) == "A Fox"


def test_merge_options_merges_nested_objects() -> None:
    """Options override fields; nested objects are merged, not replaced; the body is not changed."""
    body = {"a": 1, "config": {"x": 1, "y": 2}}
    merged = merge_options(body, {"a": 2, "config": {"y": 3}, "b": True})
    assert merged == {"a": 2, "config": {"x": 1, "y": 3}, "b": True}
    assert body == {"a": 1, "config": {"x": 1, "y": 2}}


def test_read_json_and_read_object() -> None:
    """JSON is decoded; anything else (or a non-object where one is needed) is Unavailable."""
    assert read_json(httpx.Response(200, json=[1]), provider="x") == [1]
    assert read_object(httpx.Response(200, json={"a": 1}), provider="x") == {"a": 1}
    with pytest.raises(Unavailable, match="HTTP 502 answer is not JSON: <html>"):
        read_json(httpx.Response(502, text="<html>"), provider="x")
    with pytest.raises(Unavailable, match="not a JSON object"):
        read_object(httpx.Response(200, json=[1]), provider="x")
