"""bedrock against the loopback Bedrock fake: SigV4 (verified by botocore), bodies per model, errors."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage
from pydantic import SecretStr

from bot.core.errors import InvalidRequest, Misconfigured, ProviderTimeout, RateLimited, Refused, Unavailable
from bot.core.ports import Provider
from bot.core.types import Aspect, GenerationKind, Image, ImageRequest
from bot.providers._http import errors as http_errors
from bot.providers.bedrock.provider import ACCESS_DENIED_TEXT, BedrockProvider, create
from bot.providers.bedrock.settings import BedrockSettings
from tests.fakes.providers.bedrock import (
    ACCESS_KEY,
    CORE,
    NOVA,
    SD35,
    SECRET_KEY,
    TITAN,
    ULTRA,
    FakeBedrock,
    make_image,
)
from tests.fakes.providers.harness import Progress, aws_credentials

Make = Callable[..., BedrockProvider]
REGION = "us-east-1"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """The test credentials in the environment; no profile files, no instance metadata lookups."""
    aws_credentials(monkeypatch, tmp_path, ACCESS_KEY, SECRET_KEY)
    return monkeypatch


@pytest.fixture
async def fake() -> AsyncIterator[FakeBedrock]:
    async with FakeBedrock(region=REGION, api_key="bedrock-api-key-test") as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as made:
        yield made


@pytest.fixture
def make(fake: FakeBedrock, client: httpx.AsyncClient) -> Make:
    def build(**overrides: Any) -> BedrockProvider:
        chosen = overrides.pop("client", client)
        fields: dict[str, Any] = {"base_url": fake.base_url, "region": REGION}
        fields.update(overrides)
        return create(BedrockSettings(**fields), client=chosen)

    return build


async def generate(provider: BedrockProvider, prompt: str = "a lighthouse", **fields: Any) -> list[Image]:
    return await provider.generate(ImageRequest(prompt, **fields), on_progress=Progress())


def edit(prompt: str = "make it warmer", *, reference: bytes | None = None, **fields: Any) -> ImageRequest:
    return ImageRequest(
        prompt,
        kind=fields.pop("kind", GenerationKind.EDIT),
        reference_images=(reference or make_image(64, 64),),
        source_prompt=fields.pop("source_prompt", "a lighthouse at dusk"),
        **fields,
    )


# ------------------------------------------------------------------------------------- capabilities


def test_capabilities_follow_the_model(make: Make) -> None:
    """Nova: n 5, negative, seed, 5 references; Titan: fixed sizes; SD3.5: n 1, edits; Core: no edits."""
    nova, titan, sd35, core = make(), make(model=TITAN), make(model=SD35), make(model=CORE)
    assert isinstance(nova, Provider)
    caps = nova.capabilities
    assert (caps.edit, caps.max_n, caps.negative_prompt, caps.seed, caps.max_reference_images) == (
        True,
        5,
        True,
        True,
        5,
    )
    assert caps.aspects is not None and Aspect(16, 9) in caps.aspects
    assert titan.capabilities.aspects is not None and Aspect(16, 9) not in titan.capabilities.aspects
    assert (sd35.capabilities.max_n, sd35.capabilities.edit) == (1, True)
    assert (core.capabilities.edit, core.capabilities.max_reference_images) == (False, 0)
    assert NOVA in nova.catalog and SD35 in nova.catalog


# ---------------------------------------------------------------------------------------- signing


async def test_request_is_sigv4_signed_and_verified(fake: FakeBedrock, make: Make) -> None:
    """The fake recomputes the signature with botocore; the header has the right scope and headers."""
    await generate(make())
    [request] = fake.requests
    assert fake.verified_signatures == 1
    authorization = request.headers["authorization"]
    date = request.headers["x-amz-date"][:8]
    assert authorization.startswith(
        f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{date}/{REGION}/bedrock/aws4_request, "
    )
    signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"host", "x-amz-date", "content-type", "accept"} <= set(signed)
    assert "x-amz-security-token" not in request.headers


async def test_model_id_colon_is_percent_encoded(fake: FakeBedrock, make: Make) -> None:
    """The URL carries amazon.nova-canvas-v1%3A0 (and the signature over it still verifies)."""
    await generate(make())
    assert fake.requests[0].raw_path == "/model/amazon.nova-canvas-v1%3A0/invoke"


async def test_temporary_credentials_send_the_security_token(aws_env: pytest.MonkeyPatch) -> None:
    """AWS_SESSION_TOKEN goes out as X-Amz-Security-Token and is signed."""
    aws_env.setenv("AWS_SESSION_TOKEN", "session-token-123")
    async with (
        FakeBedrock(region=REGION, session_token="session-token-123") as fake,
        httpx.AsyncClient() as http,
    ):
        provider = create(BedrockSettings(base_url=fake.base_url, region=REGION), client=http)
        await generate(provider)
    assert fake.requests[0].headers["x-amz-security-token"] == "session-token-123"
    assert (
        "x-amz-security-token" in fake.requests[0].headers["authorization"] and fake.verified_signatures == 1
    )


async def test_api_key_is_sent_as_bearer(fake: FakeBedrock, make: Make, aws_env: pytest.MonkeyPatch) -> None:
    """With providers.bedrock.api_key the request carries Bearer and is not signed."""
    aws_env.delenv("AWS_ACCESS_KEY_ID")
    [image] = await generate(make(api_key=SecretStr("bedrock-api-key-test")))
    headers = fake.requests[0].headers
    assert headers["authorization"] == "Bearer bedrock-api-key-test" and "x-amz-date" not in headers
    assert image.data == fake.served[0]


async def test_unknown_access_key_is_misconfigured(make: Make, aws_env: pytest.MonkeyPatch) -> None:
    """UnrecognizedClientException → Misconfigured."""
    aws_env.setenv("AWS_ACCESS_KEY_ID", "AKIDSOMEBODYELSE0000")
    with pytest.raises(Misconfigured, match="UnrecognizedClientException"):
        await generate(make())


# ------------------------------------------------------------------------------------ amazon bodies


async def test_nova_text_image_body(fake: FakeBedrock, make: Make) -> None:
    """TEXT_IMAGE with text, negativeText and imageGenerationConfig (size for 16:9, seed, cfg, n)."""
    images = await generate(
        make(cfg_scale=7), "a red fox", aspect=Aspect(16, 9), n=2, seed=42, negative="blur"
    )
    body = fake.requests[0].json
    assert body == {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": "a red fox", "negativeText": "blur"},
        "imageGenerationConfig": {
            "numberOfImages": 2,
            "width": 1360,
            "height": 768,
            "quality": "standard",
            "cfgScale": 7.0,
            "seed": 42,
        },
    }
    assert [i.data for i in images] == fake.served and [i.seed for i in images] == [None, None]
    assert fake.requests[0].headers["content-type"] == "application/json"


async def test_negative_text_is_omitted_not_null(fake: FakeBedrock, make: Make) -> None:
    """No negative prompt → no negativeText key at all (null is rejected)."""
    await generate(make())
    assert "negativeText" not in fake.requests[0].json["textToImageParams"]


async def test_single_image_records_the_sent_seed(fake: FakeBedrock, make: Make) -> None:
    """Nova reports no seed; for one image the (range-folded) seed sent is recorded."""
    [image] = await generate(make(), seed=858_993_460 + 7, quality="hd")
    config = fake.requests[0].json["imageGenerationConfig"]
    assert config["seed"] == 7 and config["quality"] == "premium" and image.seed == 7


async def test_titan_uses_its_fixed_sizes(fake: FakeBedrock, make: Make) -> None:
    """Titan maps 3:2 to 1152x768 and an unlisted 16:9 to the nearest listed size."""
    provider = make(model=TITAN)
    [image] = await generate(provider, aspect=Aspect(3, 2))
    await generate(provider, aspect=Aspect(16, 9))
    sizes = [
        (r.json["imageGenerationConfig"]["width"], r.json["imageGenerationConfig"]["height"])
        for r in fake.requests
    ]
    assert sizes == [(1152, 768), (1152, 640)] and (image.width, image.height) == (1152, 768)
    assert fake.requests[0].raw_path == "/model/amazon.titan-image-generator-v2%3A0/invoke"


async def test_options_pass_through(fake: FakeBedrock, make: Make) -> None:
    """options: style lands in textToImageParams, quality in imageGenerationConfig."""
    await generate(make(options={"style": "PHOTOREALISM", "quality": "premium"}))
    body = fake.requests[0].json
    assert body["textToImageParams"]["style"] == "PHOTOREALISM"
    assert body["imageGenerationConfig"]["quality"] == "premium"


async def test_nova_edit_is_an_image_variation(fake: FakeBedrock, make: Make) -> None:
    """EDIT → IMAGE_VARIATION with the reference, similarityStrength 1 - strength, and combined text."""
    reference = make_image(64, 64, (200, 100, 50))
    [image] = await make(denoising_strength=0.3).generate(edit(reference=reference), on_progress=Progress())
    body = fake.requests[0].json
    params = body["imageVariationParams"]
    assert body["taskType"] == "IMAGE_VARIATION" and "textToImageParams" not in body
    assert params["images"] == [base64.b64encode(reference).decode()]
    assert params["similarityStrength"] == 0.7
    assert params["text"] == "a lighthouse at dusk, make it warmer"
    assert image.data == fake.served[0]


async def test_webp_reference_is_converted_to_png(fake: FakeBedrock, make: Make) -> None:
    """Nova takes PNG/JPEG only: a WebP reference is re-encoded as PNG for a VARY."""
    buffer = io.BytesIO()
    PILImage.new("RGB", (32, 32), (1, 2, 3)).save(buffer, format="WEBP")
    await make().generate(
        edit("x", reference=buffer.getvalue(), kind=GenerationKind.VARY), on_progress=Progress()
    )
    params = fake.requests[0].json["imageVariationParams"]
    assert base64.b64decode(params["images"][0]).startswith(b"\x89PNG")
    assert params["text"] == "a lighthouse at dusk"


# --------------------------------------------------------------------------------- stability bodies


async def test_sd35_body_and_server_seed(fake: FakeBedrock, make: Make) -> None:
    """Stability body: prompt, negative_prompt, aspect_ratio, output_format; the server's seed is kept."""
    fake.next_seed = 31337
    [image] = await generate(make(model=SD35), "a castle", aspect=Aspect(16, 9), negative="fog")
    assert fake.requests[0].json == {
        "prompt": "a castle",
        "negative_prompt": "fog",
        "aspect_ratio": "16:9",
        "output_format": "png",
    }
    assert image.seed == 31337 and image.data == fake.served[0] and (image.width, image.height) == (1344, 768)
    assert fake.requests[0].raw_path == "/model/stability.sd3-5-large-v1%3A0/invoke"


async def test_sd35_edit_is_image_to_image(fake: FakeBedrock, make: Make) -> None:
    """EDIT on SD3.5: mode image-to-image, image, strength, no aspect_ratio."""
    reference = make_image(48, 32)
    [image] = await make(model=SD35).generate(edit(reference=reference, seed=5), on_progress=Progress())
    body = fake.requests[0].json
    assert (body["mode"], body["strength"], body["seed"]) == ("image-to-image", 0.6, 5)
    assert body["image"] == base64.b64encode(reference).decode() and "aspect_ratio" not in body
    assert (image.width, image.height, image.seed) == (48, 32, 5)


async def test_ultra_edit_sends_no_mode(fake: FakeBedrock, make: Make) -> None:
    """EDIT on Stable Image Ultra: image and strength, no mode (AWS documents mode for SD3 Large only)."""
    reference = make_image(40, 56)
    [image] = await make(model=ULTRA).generate(edit(reference=reference, seed=9), on_progress=Progress())
    body = fake.requests[0].json
    assert "mode" not in body and "aspect_ratio" not in body
    assert (body["strength"], body["seed"], body["image"]) == (0.6, 9, base64.b64encode(reference).decode())
    assert (image.width, image.height) == (40, 56)


async def test_fake_rejects_mode_on_ultra(make: Make) -> None:
    """The fake answers mode on Ultra as the real model does: 400 ValidationException, extraneous key."""
    provider = make(model=ULTRA, options={"mode": "image-to-image"})
    with pytest.raises(InvalidRequest) as info:
        await provider.generate(edit(), on_progress=Progress())
    assert "extraneous key [mode]" in info.value.user_message


async def test_fake_checks_the_envelope_against_botocore(
    fake: FakeBedrock, client: httpx.AsyncClient
) -> None:
    """Header enums and Content-Type come from botocore's InvokeModel shape: violations are 400s."""
    url = f"{fake.base_url}/model/{NOVA.replace(':', '%3A')}/invoke"
    auth = {"Authorization": "Bearer bedrock-api-key-test"}
    body = b'{"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x"}}'
    trace = await client.post(
        url, content=body, headers={**auth, "Content-Type": "application/json", "X-Amzn-Bedrock-Trace": "ON"}
    )
    plain = await client.post(url, content=body, headers={**auth, "Content-Type": "text/plain"})
    good = await client.post(url, content=body, headers={**auth, "Content-Type": "application/json"})
    assert trace.status_code == plain.status_code == 400
    assert trace.headers["x-amzn-errortype"].startswith("ValidationException")
    assert "at 'trace' failed to satisfy constraint" in trace.json()["message"]
    assert "application/json" in plain.json()["message"]
    assert good.status_code == 200


# ------------------------------------------------------------------------------------------- faults


async def test_stability_filter_reason_is_refused(fake: FakeBedrock, make: Make) -> None:
    """HTTP 200 with finish_reasons ["Filter reason: prompt"] → Refused."""
    fake.filter_next()
    with pytest.raises(Refused) as info:
        await generate(make(model=SD35))
    assert info.value.user_message == http_errors.REFUSED_TEXT


async def test_stability_inference_error_is_unavailable(fake: FakeBedrock, make: Make) -> None:
    """HTTP 200 with finish_reasons ["Inference error"] → Unavailable."""
    fake.filter_next("Inference error")
    with pytest.raises(Unavailable, match="Inference error"):
        await generate(make(model=SD35))


async def test_throttling_without_retry_after(fake: FakeBedrock, make: Make) -> None:
    """429 with no hint → RateLimited(retry_after=None) and a generic busy message."""
    fake.throttle_next()
    with pytest.raises(RateLimited) as info:
        await generate(make())
    assert info.value.retry_after is None and "busy" in info.value.user_message


async def test_access_denied_is_misconfigured(fake: FakeBedrock, make: Make) -> None:
    """403 AccessDeniedException → Misconfigured telling the admin to enable model access."""
    fake.fail_next(
        403, "AccessDeniedException", "You don't have access to the model with the specified model ID."
    )
    with pytest.raises(Misconfigured) as info:
        await generate(make())
    assert info.value.user_message == ACCESS_DENIED_TEXT


async def test_model_timeout_is_provider_timeout(fake: FakeBedrock, make: Make) -> None:
    """408 ModelTimeoutException → ProviderTimeout."""
    fake.fail_next(408, "ModelTimeoutException", "Model has timed out in processing the request.")
    with pytest.raises(ProviderTimeout):
        await generate(make())


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (503, "ServiceUnavailableException"),
        (429, "ModelNotReadyException"),
        (500, "InternalServerException"),
        (424, "ModelErrorException"),
    ],
)
async def test_server_side_failures_are_unavailable(
    fake: FakeBedrock, make: Make, status: int, kind: str
) -> None:
    """ServiceUnavailable, ModelNotReady, InternalServer, ModelError → Unavailable."""
    fake.fail_next(status, kind)
    with pytest.raises(Unavailable) as info:
        await generate(make())
    assert info.value.user_message == http_errors.UNAVAILABLE_TEXT


async def test_validation_error_is_invalid_request(make: Make) -> None:
    """A ValidationException the model explains (an extraneous key) → InvalidRequest showing why."""
    with pytest.raises(InvalidRequest) as info:
        await generate(make(options={"bogus": 1}))
    assert "extraneous key [bogus]" in info.value.user_message


async def test_empty_result_is_unavailable(fake: FakeBedrock, make: Make) -> None:
    """A 200 with no images and no reason → Unavailable."""
    fake.empty_next()
    with pytest.raises(Unavailable, match="without images"):
        await generate(make())


# ------------------------------------------------------------------------------------ configuration


def test_missing_credentials_are_misconfigured(
    client: httpx.AsyncClient, aws_env: pytest.MonkeyPatch
) -> None:
    """No credentials and no api_key → Misconfigured naming what to set."""
    aws_env.delenv("AWS_ACCESS_KEY_ID")
    aws_env.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(Misconfigured, match=r"AWS_ACCESS_KEY_ID.*providers\.bedrock\.api_key"):
        create(BedrockSettings(region=REGION), client=client)


def test_region_comes_from_the_environment(client: httpx.AsyncClient, aws_env: pytest.MonkeyPatch) -> None:
    """AWS_REGION is used when providers.bedrock.region is unset; endpoints follow the region."""
    aws_env.setenv("AWS_REGION", "eu-west-1")
    provider = create(BedrockSettings(), client=client)
    assert provider.runtime_url == "https://bedrock-runtime.eu-west-1.amazonaws.com"
    assert provider.control_url == "https://bedrock.eu-west-1.amazonaws.com"


def test_unknown_model_is_misconfigured(make: Make) -> None:
    """A model id that is not an image model Easel knows → Misconfigured."""
    with pytest.raises(Misconfigured, match="anthropic"):
        make(model="anthropic.claude-3-haiku-20240307-v1:0")


# ------------------------------------------------------------------------------------------- health


async def test_list_models_returns_image_models(fake: FakeBedrock, make: Make) -> None:
    """ListFoundationModels filtered to IMAGE output, signed like everything else."""
    models = await make().list_models()
    assert models == sorted(fake.models)
    assert fake.requests[0].raw_path == "/foundation-models?byOutputModality=IMAGE"
    assert fake.verified_signatures == 1
