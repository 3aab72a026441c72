"""The loopback fakes refuse what the real APIs refuse, so a provider passing against them is honest.

(Each provider's own behaviour against its fake is in ``test_<vendor>.py`` and the contract suite.)
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.fakes.providers.bedrock import ACCESS_KEY, NOVA, SECRET_KEY, FakeBedrock
from tests.fakes.providers.openai_images import FakeOpenAIImages

REPO = Path(__file__).resolve().parents[2]
KEY = "sk-test-0123456789abcdef"
REGION = "us-east-1"


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAIImages]:
    async with FakeOpenAIImages(api_key=KEY) as server:
        yield server


@pytest.fixture
async def strict() -> AsyncIterator[FakeOpenAIImages]:
    async with FakeOpenAIImages(api_key=KEY, strict=True) as server:
        yield server


@pytest.fixture
async def bedrock() -> AsyncIterator[FakeBedrock]:
    async with FakeBedrock(region=REGION) as server:
        yield server


# ------------------------------------------------------------------------------- OpenAI Images API


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "gpt-image-1.5", "prompt": "x", "response_format": "b64_json"}, "response_format"),
        ({"model": "gpt-image-1.5", "prompt": "x", "size": "1792x1024"}, "size"),
        ({"model": "gpt-image-1.5", "prompt": "x", "quality": "hd"}, "quality"),
        ({"model": "gpt-image-1.5", "prompt": "x", "style": "vivid"}, "style"),
        ({"model": "gpt-image-1.5", "prompt": "x", "negative_prompt": "y"}, "negative_prompt"),
        ({"prompt": "x"}, "model"),
    ],
)
async def test_fake_enforces_gpt_image_rules(
    strict: FakeOpenAIImages, body: dict[str, Any], param: str
) -> None:
    """The strict fake rejects what OpenAI rejects for GPT image models (and the retired default model)."""
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{strict.base_url}/images/generations", json=body, headers={"Authorization": f"Bearer {KEY}"}
        )
    assert response.status_code in (400, 404) and response.json()["error"]["param"] == param


async def test_fake_enforces_openai_limits(fake: FakeOpenAIImages) -> None:
    """The fake rejects what OpenAI rejects: non-JSON bodies, n out of 1..10, prompts over 32 000 chars."""
    headers = {"Authorization": f"Bearer {KEY}"}
    url = f"{fake.base_url}/images/generations"
    async with httpx.AsyncClient(headers=headers) as client:
        cases: list[Callable[[], Awaitable[httpx.Response]]] = [
            lambda: client.post(url, content=b"prompt=x", headers={"content-type": "text/plain"}),
            lambda: client.post(url, json={"prompt": "x", "n": 11}),
            lambda: client.post(url, json={"prompt": "x" * 32_001}),
            lambda: client.post(url, json={"n": 1}),
        ]
        for send in cases:
            resp = await send()
            assert resp.status_code == 400
            assert set(resp.json()["error"]) == {"message", "type", "param", "code"}
        ok = await client.post(url, json={"prompt": "x" * 32_000, "n": 10, "size": "auto"})
        assert ok.status_code == 200 and len(ok.json()["data"]) == 10


def test_fake_runs_as_a_separate_process() -> None:
    """The fake runs as its own process: prints LISTENING <base_url> and serves until terminated."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "tests.fakes.providers.openai_images", "--port", "0", "--delay", "0"]
    with subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            with selectors.DefaultSelector() as selector:
                selector.register(proc.stdout, selectors.EVENT_READ)
                assert selector.select(timeout=15), "no LISTENING line within 15 s"
            word, base_url = proc.stdout.readline().split()
            assert word == "LISTENING" and base_url.startswith("http://127.0.0.1:")
            models = httpx.get(f"{base_url}/models", timeout=5)
            assert models.status_code == 200 and json.loads(models.text)["object"] == "list"
        finally:
            proc.terminate()
            assert proc.wait(timeout=10) == 0


# ---------------------------------------------------------------------------------------------- Bedrock


async def test_fake_rejects_a_single_encoded_canonical_path(
    bedrock: FakeBedrock,
) -> None:
    """Signing the path with ':' but sending %3A is the known 403 SignatureDoesNotMatch gotcha."""
    body = json.dumps({"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x"}}).encode()
    host = bedrock.base_url.removeprefix("http://")
    wrong = AWSRequest(
        method="POST",
        url=f"http://{host}/model/{NOVA}/invoke",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "bedrock", REGION).add_auth(wrong)
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{bedrock.base_url}/model/amazon.nova-canvas-v1%3A0/invoke",
            content=body,
            headers=dict(wrong.headers.items()),
        )
    assert response.status_code == 403
    assert response.headers["x-amzn-errortype"].startswith("InvalidSignatureException")
