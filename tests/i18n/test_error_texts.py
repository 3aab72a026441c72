"""Provider errors in the request's language: the sentence is translated, the provider's own words
(from its API) stay as the API gave them; outside a language block everything is English."""

from __future__ import annotations

import httpx
import pytest

from bot.core import i18n
from bot.core.errors import InvalidRequest, Misconfigured, RateLimited, Refused
from bot.providers._http.common import api_key
from bot.providers._http.errors import raise_for_response
from bot.providers.settings import ProviderSettings


def _answer(status: int, error: dict[str, object], headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": error}, headers=headers)


def test_a_content_policy_refusal_is_worded_in_german() -> None:
    """A 400 content_policy_violation raised inside a German block has the German refusal."""
    with i18n.using("de"), pytest.raises(Refused) as info:
        raise_for_response(
            _answer(400, {"code": "content_policy_violation", "message": "rejected by the safety system"}),
            provider="openai",
        )
    assert info.value.user_message == "Der Bilddienst hat diesen Prompt abgelehnt (Inhaltsrichtlinie)."


def test_a_rejected_request_keeps_the_providers_words_inside_a_spanish_sentence() -> None:
    """A 400 with the API's own message: the sentence is Spanish, the API's words are unchanged."""
    with i18n.using("es"), pytest.raises(InvalidRequest) as info:
        raise_for_response(_answer(400, {"message": "size must be one of 1024x1024"}), provider="openai")
    assert (
        info.value.user_message == "El servicio de imágenes no pudo hacer eso: size must be one of 1024x1024"
    )


def test_a_rate_limit_says_its_wait_in_german() -> None:
    """A 429 with Retry-After: 7 tells a German user to wait about 7 s, in German."""
    with i18n.using("de"), pytest.raises(RateLimited) as info:
        raise_for_response(_answer(429, {"message": "slow down"}, {"retry-after": "7"}), provider="openai")
    assert info.value.user_message == "Der Bilddienst ist ausgelastet; versuch es in etwa 7 s wieder."


def test_a_missing_api_key_names_the_setting_in_spanish() -> None:
    """The missing-key message is Spanish and still names providers.<name>.api_key."""
    with i18n.using("es"), pytest.raises(Misconfigured) as info:
        api_key(ProviderSettings(), provider="flux")
    assert info.value.user_message == (
        "El servicio de imágenes flux no tiene clave de API; un administrador tiene que configurar "
        "providers.flux.api_key."
    )


def test_outside_a_language_block_the_texts_are_english() -> None:
    """The same refusal raised with no request language is the English source text."""
    with pytest.raises(Refused) as info:
        raise_for_response(_answer(403, {"code": "moderation_blocked", "message": "no"}), provider="openai")
    assert info.value.user_message == "The image service refused this prompt (content policy)."
