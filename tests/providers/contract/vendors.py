"""The contract suite's table: every provider in the registry, with its fake and its ways of failing."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.core.errors import ImageError
from tests.fakes.providers import bedrock as fake_bedrock
from tests.fakes.providers.aihubmix import FakeAIHubMix
from tests.fakes.providers.comfyui import FakeComfyUI
from tests.fakes.providers.flux import FakeBFL
from tests.fakes.providers.gemini import FakeGemini
from tests.fakes.providers.harness import aws_credentials
from tests.fakes.providers.imagen import FakeImagen
from tests.fakes.providers.minimax import FakeMiniMax
from tests.fakes.providers.ollama import FakeOllama
from tests.fakes.providers.openai_images import FakeOpenAIImages
from tests.fakes.providers.openai_responses import FakeOpenAIResponses
from tests.fakes.providers.openrouter import FakeOpenRouter
from tests.fakes.providers.replicate import FakeReplicate, problem
from tests.fakes.providers.sdwebui import FakeSDWebUI
from tests.fakes.providers.stability import FakeStability
from tests.fakes.providers.stepfun import FakeStepFun
from tests.fakes.providers.xai import FakeXAI
from tests.fakes.providers.zhipu import FakeZhipu
from tests.providers.contract.adapter import Adapter, Fake, Tracker

KEY = "sk-contract-0123456789abcdef"
LOGIN = "easel:s3cret-login"


def keyed(fake: Fake) -> dict[str, Any]:
    return {"base_url": fake.base_url, "api_key": SecretStr(KEY)}


def wrong_key(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    return {"api_key": SecretStr("sk-wrong-key-987654321")}


def delay(fake: Fake) -> None:
    fake.delay_s = 5.0


def in_flight(fake: Fake, tracker: Tracker) -> bool:
    return tracker.in_flight > 0


def _no_fake() -> contextlib.AbstractAsyncContextManager[None]:
    return contextlib.nullcontext(None)


def _aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    aws_credentials(monkeypatch, tmp_path, fake_bedrock.ACCESS_KEY, fake_bedrock.SECRET_KEY)


def _wrong_secret(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-987654321")
    return {}


def _comfyui_rejects_login(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """ComfyUI has no login of its own: a 401 is what an authenticating proxy in front says."""
    fake.fail_next(401)
    return {}


def _openai_images(name: str, *, strict: bool) -> Adapter:
    return Adapter(
        name,
        start=lambda: FakeOpenAIImages(api_key=KEY, strict=strict, image_scale=1 / 16),
        settings=lambda fake: keyed(fake) | ({} if strict else {"model": "gpt-image-1"}),
        model="gpt-image-1.5" if strict else "gpt-image-1",
        refusals={
            "policy error": ("content policy", lambda f: f.refuse_next()),
            "http 200": ("HTTP 200 without images", lambda f: f.empty_next()),
        },
        rate_limit=lambda f, s: f.rate_limit_next(retry_after=str(s)),
        outage=lambda f, status: f.fail_next(status),
        malformed=lambda f: f.malformed_next(),
        hang=delay,
        wrong_key=wrong_key,
        down="unavailable" if strict else "connection refused",
        backend_list=not strict,
        dead_path="/v1",
    )


ADAPTERS: tuple[Adapter, ...] = (
    Adapter(
        "builtin",
        start=_no_fake,
        settings=lambda fake: {"long_side": 64},
        model="builtin-v1",
        bad_reference=ImageError,
        healthy="offline renderer",
    ),
    Adapter(
        "sdwebui",
        start=lambda: FakeSDWebUI(auth=LOGIN),
        settings=lambda fake: {"base_url": fake.base_url, "api_key": SecretStr(LOGIN)},
        backend_list=True,
        model="sd_xl_base_1.0",
        rate_limit=lambda f, s: f.fail_next(429, retry_after=str(s)),  # a proxy in front
        outage=lambda f, status: f.fail_next(status),
        malformed=lambda f: f.malformed_next(),
        hang=lambda f: setattr(f, "job_s", 5.0),
        wrong_key=lambda fake, mp: {"api_key": SecretStr("easel:wrong-login")},
        key_rejected="providers.sdwebui.api_key",
        started=lambda fake, tracker: bool(fake.jobs),
        healthy="2 checkpoints",
    ),
    Adapter(
        "comfyui",
        start=FakeComfyUI,
        settings=lambda fake: {"base_url": fake.base_url},
        backend_list=True,
        model="sd_xl_base_1.0.safetensors",
        rate_limit=lambda f, s: f.fail_next(429, retry_after=str(s)),
        outage=lambda f, status: f.fail_next(status),
        malformed=lambda f: f.malformed_next(),
        hang=lambda f: setattr(f, "step_s", 1.0),
        wrong_key=_comfyui_rejects_login,
        check_sees_key=False,
        started=lambda fake, tracker: bool(fake.prompts),
        healthy="RTX 4090",
    ),
    Adapter(
        "ollama",
        start=FakeOllama,
        settings=lambda fake: {"base_url": fake.base_url, "model": "x/flux2-klein"},
        backend_list=True,
        model="x/flux2-klein",
        rate_limit=lambda f, s: f.fault(  # a proxy in front: Ollama itself queues
            429, {"error": "too many requests"}, headers={"Retry-After": str(s)}, path="/api/generate"
        ),
        outage=lambda f, status: f.fault(status, {"error": "runner terminated"}, path="/api/generate"),
        malformed=lambda f: f.malformed_next(),
        hang=delay,
        wrong_key=_comfyui_rejects_login,  # no login of its own: an authenticating proxy's 401
        check_sees_key=False,
        cannot_edit={"model": "x/z-image-turbo"},
        healthy="ok (Ollama 0.20.0)",
    ),
    _openai_images("openai-compatible", strict=False),
    _openai_images("openai", strict=True),
    Adapter(
        "openai-responses",
        start=lambda: FakeOpenAIResponses(api_key=KEY),
        settings=keyed,
        model="gpt-image-1.5",
        refusals={
            "policy error": ("content policy", lambda f: f.refuse_next()),
            "http 200": ("HTTP 200 without an image", lambda f: f.empty_next()),
        },
        rate_limit=lambda f, s: f.rate_limit_next(retry_after=str(s)),
        outage=lambda f, status: f.fail_next(status),
        malformed=lambda f: f.malformed_next(),
        hang=delay,
        wrong_key=wrong_key,
        down="unavailable",
        dead_path="/v1",
    ),
    Adapter(
        "gemini",
        start=lambda: FakeGemini(api_key=KEY),
        settings=keyed,
        backend_list=True,
        model="gemini-2.5-flash-image",
        refusals={  # Gemini refuses only inside an HTTP 200
            "blocked prompt": ("PROHIBITED_CONTENT", lambda f: f.block_next()),
            "safety finish": ("IMAGE_SAFETY", lambda f: f.finish_next("IMAGE_SAFETY")),
        },
        rate_limit=lambda f, s: f.rate_limit_next(retry_delay=f"{s}s"),
        outage=lambda f, status: f.fail_next(status),
        malformed=lambda f: f.malformed_next(),
        hang=delay,
        wrong_key=wrong_key,
        healthy="ok (gemini-2.5-flash-image)",
        dead_path="/v1beta",
    ),
    Adapter(
        "imagen",
        start=lambda: FakeImagen(api_key=KEY),
        settings=keyed,
        model="imagen-4.0-generate-001",
        refusals={"http 200": ("filtered", lambda f: f.filter_next())},  # Imagen refuses in a 200
        rate_limit=lambda f, s: f.rate_limit_next(s),
        outage=lambda f, status: f.fail_next(status),
        malformed=lambda f: f.malformed_next(),
        hang=delay,
        wrong_key=wrong_key,
        healthy="ok (imagen-4.0-generate-001)",
        dead_path="/v1beta",
    ),
    Adapter(
        "xai",
        start=lambda: FakeXAI(api_key=KEY),
        settings=keyed,
        model="grok-imagine-image",
        refusals={
            "policy error": ("content moderation", lambda f: f.refuse_next()),
            "http 200": ("withheld by moderation", lambda f: f.moderate_next()),
        },
        rate_limit=lambda f, s: f.rate_limit_next(str(s)),
        outage=lambda f, status: f.fail_next(status),
        malformed=lambda f: f.malformed_next(),
        hang=delay,
        wrong_key=wrong_key,
        healthy="ok",
        dead_path="/v1",
    ),
    Adapter(
        "minimax",
        start=lambda: FakeMiniMax(api_key=KEY),
        settings=keyed,
        model="image-01",
        refusals={"http 200": ("sensitive", lambda f: f.sensitive_next())},  # base_resp 1026 in a 200
        outage=lambda f, status: f.fail_next(status),  # MiniMax's throttling (1002) names no wait
        malformed=lambda f: f.malformed_next(),
        hang=delay,
        wrong_key=wrong_key,
        healthy="ok",
        dead_path="/v1",
    ),
    Adapter(
        "zhipu",
        start=lambda: FakeZhipu(api_key=KEY),
        settings=keyed,
        model="cogview-4-250304",
        refusals={"policy error": ("content safety", lambda f: f.refuse_next())},  # code 1301
        outage=lambda f, status: f.fail_next(status),  # throttling (1302) names no wait
        malformed=lambda f: f.malformed_next(),
        hang=delay,
        wrong_key=wrong_key,
        healthy="ok",
        dead_path="/api/paas/v4",
    ),
    Adapter(
        "stepfun",
        start=lambda: FakeStepFun(api_key=KEY),
        settings=keyed,
        model="step-image-edit-2",
        refusals={"http 200": ("content_filtered", lambda f: f.filter_next())},
        outage=lambda f, status: f.fail_next(status),  # throttling's form is undocumented
        malformed=lambda f: f.malformed_next(),
        hang=delay,
        wrong_key=wrong_key,
        cannot_edit={"model": "step-1x-medium"},
        healthy="ok",
        dead_path="/v1",
    ),
    Adapter(
        "bedrock",
        start=lambda: fake_bedrock.FakeBedrock(region="us-east-1"),
        settings=lambda fake: {"base_url": fake.base_url, "region": "us-east-1"},
        model="amazon.nova-canvas-v1:0",
        refusals={
            "policy error": ("content filters", lambda f: f.refuse_next()),
            "http 200": ("HTTP 200", lambda f: f.filter_next()),
        },
        rate_limit=lambda f, s: f.throttle_next(retry_after=str(s)),
        outage=lambda f, status: f.fail_next(
            status, "ServiceUnavailableException" if status == 503 else "InternalServerException"
        ),
        malformed=lambda f: f.malformed_next(),
        hang=delay,
        wrong_key=_wrong_secret,
        rejection="signature",
        cannot_edit={"model": fake_bedrock.CORE},
        healthy="ok, 5 image models",
        prepare=_aws,
    ),
    Adapter(
        "flux",
        start=lambda: FakeBFL(api_key=KEY, pending_polls=0),
        settings=keyed,
        model="flux-2-pro",
        refusals={"http 200": ("Request Moderated", lambda f: f.end_next("Request Moderated"))},  # a poll
        rate_limit=lambda f, s: f.rate_limit_next(str(s)),
        outage=lambda f, status: f.fault(status, {"detail": "Internal Server Error"}),
        malformed=lambda f: f.fault(200, raw=b"<html>gateway", path="/v1/get_result"),
        hang=delay,
        wrong_key=wrong_key,
        cannot_edit={"model": "flux-pro-1.1"},
        healthy="ok (42.5 credits)",
    ),
    Adapter(
        "replicate",
        start=lambda: FakeReplicate(api_key=KEY),
        settings=keyed,
        model="black-forest-labs/flux-schnell",
        refusals={"http 200": ("NSFW", lambda f: f.fail_prediction_next())},  # a failed prediction
        rate_limit=lambda f, s: f.rate_limit_next(retry_after=str(s)),
        outage=lambda f, status: f.fault(status, problem(status, "Server error", "Something went wrong")),
        malformed=lambda f: f.fault(201, raw=b'{"id": "p1", "status": "succ'),  # the create answer
        hang=delay,
        wrong_key=wrong_key,
        healthy="ok (account easel)",
        dead_path="/v1",
    ),
    Adapter(
        "stability",
        start=lambda: FakeStability(api_key=KEY),
        settings=keyed,
        model="sd3.5-large",
        refusals={  # its HTTP-200 CONTENT_FILTERED is a flagged image, not a refusal
            "policy error": ("content policy", lambda f: f.moderate_next()),
        },
        rate_limit=lambda f, s: f.rate_limit_next(retry_after=str(s)),
        outage=lambda f, status: f.fail_next(status),
        malformed=lambda f: f.malformed_next(),
        hang=delay,
        wrong_key=wrong_key,
        cannot_edit={"model": "core"},
        healthy="42.5 credits",
    ),
    Adapter(
        "openrouter",
        start=lambda: FakeOpenRouter(api_key=KEY),
        settings=keyed,
        backend_list=True,
        model="google/gemini-2.5-flash-image",
        refusals={
            "policy error": ("moderation flagged", lambda f: f.moderate_next()),
            "http 200": ("content_filter", lambda f: f.content_filter_next()),
        },
        own_refusal_text=frozenset({"policy error"}),  # "moderation refused this prompt (violence)"
        rate_limit=lambda f, s: f.rate_limit_next(retry_after=str(s)),
        outage=lambda f, status: f.fail_next(status),
        malformed=lambda f: f.malformed_next(),
        hang=delay,
        wrong_key=wrong_key,
        healthy="ok (credit left: 4.90)",
        dead_path="/api/v1",
    ),
    Adapter(
        "aihubmix",
        start=lambda: FakeAIHubMix(api_key=KEY, image_scale=1 / 16),
        settings=keyed,
        model="gpt-image-1.5",
        refusals={
            "policy error": ("content policy", lambda f: f.refuse_next()),
            "http 200": ("HTTP 200 without images", lambda f: f.empty_next()),
        },
        rate_limit=lambda f, s: f.rate_limit_next(retry_after=str(s)),
        outage=lambda f, status: f.fail_next(status),
        malformed=lambda f: f.malformed_next(),
        hang=delay,
        wrong_key=wrong_key,
        down="unavailable",
        dead_path="/v1",
    ),
)
"""One adapter per provider in the registry (``test_every_registered_provider_has_an_adapter``)."""
for _adapter in ADAPTERS:
    _adapter.started = _adapter.started or in_flight


def having(*attributes: str) -> list[Any]:
    """``pytest.param`` for each adapter that has all of ``attributes`` (set, not empty)."""
    return [pytest.param(a, id=a.name) for a in ADAPTERS if all(getattr(a, name) for name in attributes)]


def every() -> list[Any]:
    """``pytest.param`` for each provider."""
    return [pytest.param(a, id=a.name) for a in ADAPTERS]


def http() -> list[Any]:
    """``pytest.param`` for each provider that talks to a server."""
    return [pytest.param(a, id=a.name) for a in ADAPTERS if a.uses_http]


def refusals() -> list[Any]:
    """``pytest.param`` for each way each vendor refuses."""
    return [
        pytest.param(a, way, id=f"{a.name}-{way.replace(' ', '-')}") for a in ADAPTERS for way in a.refusals
    ]
