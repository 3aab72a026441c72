"""A loopback fake of AWS Bedrock (runtime ``InvokeModel`` + control-plane ``ListFoundationModels``).

aiohttp.web on 127.0.0.1 (random port). Every request must be SigV4-signed for service ``bedrock`` in the
fake's region with the known test credentials — the signature is recomputed with botocore from the raw
path as received (so a model id sent as ``%3A`` must have been signed as ``%253A``) — or carry
``Authorization: Bearer <api_key>``. The InvokeModel envelope (route, ``modelId`` pattern and length,
body size, ``Content-Type``/``Accept`` and the enum headers) is checked against botocore's own
bedrock-runtime service model, loaded at import; bodies are validated per model family as strictly as
the real models (extraneous keys, ranges, Titan's size list, ``negativeText: null``; the Stability keys
per model from ``tests/fakes/specs/bedrock/stability_bodies.json``, so ``mode`` is rejected on Ultra and
Core, where AWS does not document it). Sources: ``tests/fakes/specs/bedrock/README.md``. Errors use
AWS's JSON protocol: ``{"message"}`` plus ``x-amzn-ErrorType``::

    async with FakeBedrock() as fake:            # ACCESS_KEY / SECRET_KEY, region us-east-1
        fake.throttle_next()                     # also fail_next(503, "ServiceUnavailableException"),
        fake.refuse_next()                       # (400 content filters), filter_next() (HTTP 200),
        fake.delay_s = 0.2                       # malformed_next(), empty_next()
        ...; fake.requests[-1].json; fake.served; fake.verified_signatures
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import io
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.loaders import Loader
from PIL import Image as PILImage

ACCESS_KEY = "AKIDEXAMPLE0TESTKEY1"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOVA = "amazon.nova-canvas-v1:0"
TITAN = "amazon.titan-image-generator-v2:0"
SD35 = "stability.sd3-5-large-v1:0"
ULTRA = "stability.stable-image-ultra-v1:1"
CORE = "stability.stable-image-core-v1:1"
MODELS = (NOVA, TITAN, SD35, ULTRA, CORE)
TITAN_SIZES = {
    *((1024, 1024), (768, 768), (512, 512), (768, 1152), (384, 576), (1152, 768), (576, 384)),
    *((768, 1280), (384, 640), (1280, 768), (640, 384), (896, 1152), (448, 576), (1152, 896)),
    *((576, 448), (768, 1408), (384, 704), (1408, 768), (704, 384), (640, 1408), (320, 704)),
    *((1408, 640), (704, 320), (1152, 640), (1173, 640)),
}
STABILITY_SIZES = {
    "1:1": (1024, 1024),
    "16:9": (1344, 768),
    "9:16": (768, 1344),
    "21:9": (1536, 640),
    "9:21": (640, 1536),
    "3:2": (1216, 832),
    "2:3": (832, 1216),
    "5:4": (1152, 896),
    "4:5": (896, 1152),
}
FILTERED = (
    "This request has been blocked by our content filters. "
    "Please adjust your text prompt to submit a new request."
)
SPECS = Path(__file__).resolve().parents[1] / "specs" / "bedrock"
STABILITY_RULES: dict[str, Any] = json.loads((SPECS / "stability_bodies.json").read_text())
_SERVICE = Loader().load_service_model("bedrock-runtime", "service-2")
_INVOKE = _SERVICE["operations"]["InvokeModel"]
_INVOKE_INPUT = _SERVICE["shapes"][_INVOKE["input"]["shape"]]
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
    r"/aws4_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)


class _Invalid(Exception):
    """A ValidationException message."""


@dataclass(frozen=True)
class Recorded:
    method: str
    raw_path: str
    """As sent, percent-encoding included (``/model/amazon.nova-canvas-v1%3A0/invoke``)."""
    headers: dict[str, str]
    """Lower-case names."""
    body: bytes
    json: Any = None

    @property
    def model_id(self) -> str | None:
        parts = self.raw_path.split("?", 1)[0].split("/")
        return unquote(parts[2]) if len(parts) == 4 and parts[1] == "model" else None


@dataclass(frozen=True)
class Fault:
    kind: str  # "status" | "refuse" | "filter" | "malformed" | "empty"
    status: int = 500
    error_type: str = ""
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@functools.lru_cache(maxsize=64)
def make_image(
    width: int, height: int, colour: tuple[int, int, int] = (30, 140, 110), fmt: str = "PNG"
) -> bytes:
    """A solid-colour image; cached, since the same few sizes come up again and again."""
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), colour).save(buffer, format=fmt, compress_level=1)
    return buffer.getvalue()


def aws_error(
    status: int, error_type: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    extra = {
        "x-amzn-ErrorType": f"{error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/",
        "x-amzn-RequestId": str(uuid.uuid4()),
        **(headers or {}),
    }
    return web.json_response({"message": message}, status=status, headers=extra)


class FakeBedrock:
    """The fake; ``base_url`` is what ``providers.bedrock.base_url`` should be."""

    def __init__(
        self,
        *,
        region: str = "us-east-1",
        access_key: str = ACCESS_KEY,
        secret_key: str = SECRET_KEY,
        session_token: str | None = None,
        api_key: str | None = None,
        models: tuple[str, ...] = MODELS,
        delay_s: float = 0.0,
    ) -> None:
        self.region = region
        self.access_key = access_key
        self.secret_key = secret_key
        self.session_token = session_token
        self.api_key = api_key
        self.models = models
        self.delay_s = delay_s
        self.requests: list[Recorded] = []
        self.served: list[bytes] = []
        self.faults: list[Fault] = []
        self.verified_signatures = 0
        self.next_seed = 2130420379
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    async def __aenter__(self) -> FakeBedrock:
        app = web.Application(client_max_size=25 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -------------------------------------------------------------------------------------- scripting

    def fail_next(
        self, status: int = 500, error_type: str = "InternalServerException", message: str = ""
    ) -> None:
        self.faults.append(Fault("status", status, error_type, message or f"{error_type} (fake)"))

    def throttle_next(self, *, retry_after: str | None = None) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        message = "Too many requests, please wait before trying again."
        self.faults.append(Fault("status", 429, "ThrottlingException", message, headers))

    def refuse_next(self, message: str = FILTERED) -> None:
        """The HTTP-error refusal: 400 ValidationException about content filters."""
        self.faults.append(Fault("status", 400, "ValidationException", message))

    def filter_next(self, reason: str = "Filter reason: prompt") -> None:
        """The HTTP-200 refusal: Stability ``finish_reasons: [reason]`` (Amazon: ``error`` and no images)."""
        self.faults.append(Fault("filter", message=reason))

    def malformed_next(self) -> None:
        self.faults.append(Fault("malformed"))

    def empty_next(self) -> None:
        self.faults.append(Fault("empty"))

    # ------------------------------------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                parsed = None
        headers = {name.lower(): value for name, value in request.headers.items()}
        recorded = Recorded(request.method, request.raw_path, headers, body, parsed)
        self.requests.append(recorded)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        denied = self._authenticate(request, body)
        if denied is not None:
            return denied
        path = request.raw_path.split("?", 1)[0]
        if request.method == "GET" and path == "/foundation-models":
            return self._list(request)
        if (
            request.method != _INVOKE["http"]["method"]
            or recorded.model_id is None
            or not path.endswith("/invoke")
        ):
            return aws_error(404, "UnknownOperationException", "Unknown operation")
        problem = envelope_problem(recorded)
        if problem is not None:
            return aws_error(400, "ValidationException", problem)
        if self.faults:
            fault = self.faults.pop(0)
            if fault.kind == "status":
                return aws_error(fault.status, fault.error_type, fault.message, fault.headers)
            if fault.kind == "malformed":
                return web.Response(status=200, text="<html>oops", content_type="application/json")
        else:
            fault = None
        try:
            return self._invoke(recorded, fault)
        except _Invalid as exc:
            return aws_error(400, "ValidationException", str(exc))

    def _authenticate(self, request: web.Request, body: bytes) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            if self.api_key is not None and header == f"Bearer {self.api_key}":
                return None
            return aws_error(
                403,
                "UnrecognizedClientException",
                "Invalid API Key format: Must start with pre-defined prefix",
            )
        match = _AUTH.fullmatch(header)
        if not header:
            return aws_error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
        if match is None:
            return aws_error(
                403,
                "IncompleteSignatureException",
                "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.",
            )
        if match["key"] != self.access_key:
            return aws_error(
                403, "UnrecognizedClientException", "The security token included in the request is invalid."
            )
        amz_date = request.headers.get("X-Amz-Date", "")
        signed = match["signed"].split(";")
        problems = [
            match["service"] != "bedrock" and "Credential should be scoped to correct service: 'bedrock'.",
            match["region"] != self.region
            and f"Credential should be scoped to a valid region, not '{match['region']}'.",
            not amz_date.startswith(match["date"])
            and "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.",
            not {"host", "x-amz-date"} <= set(signed) and "'Host' and 'X-Amz-Date' must be signed headers.",
            self.session_token is not None
            and request.headers.get("X-Amz-Security-Token") != self.session_token
            and "The security token included in the request is invalid.",
        ]
        problem = next((p for p in problems if p), None)
        if problem:
            return aws_error(403, "InvalidSignatureException", problem)
        try:
            when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            return aws_error(
                403, "InvalidSignatureException", "X-Amz-Date is not a valid ISO-8601 basic timestamp."
            )
        if abs((datetime.now(UTC) - when).total_seconds()) > 300:
            return aws_error(403, "InvalidSignatureException", "Signature expired.")
        if not self._signature_matches(request, body, signed, amz_date, match["signature"]):
            return aws_error(
                403,
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. Check your "
                "AWS Secret Access Key and signing method. Consult the service documentation for details.",
            )
        self.verified_signatures += 1
        return None

    def _signature_matches(
        self, request: web.Request, body: bytes, signed: list[str], amz_date: str, given: str
    ) -> bool:
        """Recompute SigV4 with botocore from what arrived: raw path, the signed headers, the body."""
        headers = {name: request.headers.get(name, "") for name in signed}
        aws = AWSRequest(
            method=request.method, url=f"http://{request.host}{request.raw_path}", data=body, headers=headers
        )
        aws.context["timestamp"] = amz_date
        signer = SigV4Auth(
            Credentials(self.access_key, self.secret_key, self.session_token), "bedrock", self.region
        )
        expected = signer.signature(signer.string_to_sign(aws, signer.canonical_request(aws)), aws)
        return bool(expected == given)

    def _list(self, request: web.Request) -> web.Response:
        wanted = request.query.get("byOutputModality")
        summaries = [
            {
                "modelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{model}",
                "modelId": model,
                "providerName": "Amazon" if model.startswith("amazon.") else "Stability AI",
                "inputModalities": ["TEXT", "IMAGE"],
                "outputModalities": ["IMAGE"],
            }
            for model in self.models
        ]
        summaries.append({"modelId": "amazon.nova-pro-v1:0", "outputModalities": ["TEXT"]})
        if wanted:
            summaries = [s for s in summaries if wanted in s["outputModalities"]]
        return web.json_response({"modelSummaries": summaries})

    # ---------------------------------------------------------------------------------------- invoke

    def _invoke(self, recorded: Recorded, fault: Fault | None) -> web.Response:
        model = recorded.model_id or ""
        if model not in self.models:
            raise _Invalid("The provided model identifier is invalid.")
        if not isinstance(recorded.json, dict):
            raise _Invalid(
                "Malformed input request: expected a JSON object, please reformat your input and try again."
            )
        if model.startswith("stability."):
            return self._stability(model, recorded.json, fault)
        return self._amazon(model, recorded.json, fault)

    def _amazon(self, model: str, body: dict[str, Any], fault: Fault | None) -> web.Response:
        nova = model == NOVA
        task = body.get("taskType")
        params_key = {"TEXT_IMAGE": "textToImageParams", "IMAGE_VARIATION": "imageVariationParams"}.get(
            str(task)
        )
        if params_key is None:
            raise _Invalid(f"Malformed input request: #/taskType: {task} is not a valid enum value")
        _keys(body, {"taskType", params_key, "imageGenerationConfig"})
        params = body.get(params_key)
        if not isinstance(params, dict):
            raise _Invalid(f"Malformed input request: #/{params_key}: expected type: JSONObject")
        if task == "TEXT_IMAGE":
            _keys(
                params,
                {
                    "text",
                    "negativeText",
                    "conditionImage",
                    "controlMode",
                    "controlStrength",
                    *(["style"] if nova else []),
                },
            )
            _text(params, "text", required=True)
        else:
            _keys(params, {"images", "similarityStrength", "text", "negativeText"})
            images = params.get("images")
            if not isinstance(images, list) or not 1 <= len(images) <= 5:
                raise _Invalid(
                    "Malformed input request: #/imageVariationParams/images: expected 1 to 5 images"
                )
            for item in images:
                _b64_image(item)
            strength = params.get("similarityStrength", 0.7)
            if not isinstance(strength, int | float) or not 0.2 <= strength <= 1.0:
                raise _Invalid(
                    "Malformed input request: #/imageVariationParams/similarityStrength: must be 0.2 to 1.0"
                )
            _text(params, "text", required=False)
        _text(params, "negativeText", required=False)
        config = body.get("imageGenerationConfig", {})
        if not isinstance(config, dict):
            raise _Invalid("Malformed input request: #/imageGenerationConfig: expected type: JSONObject")
        _keys(config, {"numberOfImages", "width", "height", "quality", "cfgScale", "seed"})
        n = _int(config, "numberOfImages", 1, 1, 5)
        width, height = _int(config, "width", 1024, 320, 4096), _int(config, "height", 1024, 320, 4096)
        _int(config, "seed", 0, 0, 858_993_459 if nova else 2_147_483_646)
        if config.get("quality", "standard") not in ("standard", "premium"):
            raise _Invalid(
                "Malformed input request: #/imageGenerationConfig/quality: must be standard or premium"
            )
        cfg = config.get("cfgScale", 6.5)
        if not isinstance(cfg, int | float) or not 1.1 <= cfg <= 10:
            raise _Invalid("Malformed input request: #/imageGenerationConfig/cfgScale: must be 1.1 to 10")
        if nova:
            if width % 16 or height % 16 or not 0.25 <= width / height <= 4 or width * height >= 4_194_304:
                raise _Invalid(
                    "Invalid image dimensions: width and height must be divisible by 16, aspect ratio "
                    "between 1:4 and 4:1, fewer than 4194304 pixels"
                )
        elif (width, height) not in TITAN_SIZES:
            raise _Invalid(f"The provided width and height ({width}x{height}) are not supported.")
        if fault is not None and fault.kind == "filter":
            return web.json_response({"images": [], "error": FILTERED})
        if fault is not None and fault.kind == "empty":
            return web.json_response({"images": [], "error": None})
        images = []
        for index in range(n):
            data = make_image(width, height, (20 + 40 * index, 140, 110))
            self.served.append(data)
            images.append(base64.b64encode(data).decode())
        return web.json_response({"images": images, "error": None})

    def _stability(self, model: str, body: dict[str, Any], fault: Fault | None) -> web.Response:
        rules = STABILITY_RULES["models"][model]
        _keys(body, set(rules["keys"]))
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt or len(prompt) > STABILITY_RULES["prompt_max"]:
            raise _Invalid("Malformed input request: #/prompt: expected a string of 1 to 10000 characters")
        if "negative_prompt" in body and not isinstance(body["negative_prompt"], str):
            raise _Invalid("Malformed input request: #/negative_prompt: expected type: String")
        if body.get("aspect_ratio", "1:1") not in STABILITY_RULES["aspect_ratio"]:
            raise _Invalid(
                f"Malformed input request: #/aspect_ratio: {body.get('aspect_ratio')} is not a valid enum"
            )
        seed = _int(body, "seed", 0, 0, STABILITY_RULES["seed_max"]) or self.next_seed
        fmt = body.get("output_format", "png")
        if fmt not in STABILITY_RULES["output_format"]:
            raise _Invalid(f"Malformed input request: #/output_format: {fmt} is not a valid enum value")
        if rules["image_to_image"] == "mode":
            mode = body.get("mode", "text-to-image")
            if mode not in rules["mode"]:
                raise _Invalid(f"Malformed input request: #/mode: {mode} is not a valid enum value")
            img2img = mode == "image-to-image"
        else:
            img2img = "image" in body
        if img2img:
            if "aspect_ratio" in body:
                raise _Invalid("aspect_ratio is only valid for text-to-image requests")
            width, height = _b64_image(body.get("image"))
            strength = body.get("strength")
            if not isinstance(strength, int | float) or not 0 <= strength <= 1:
                raise _Invalid("Malformed input request: #/strength: required for image-to-image, 0 to 1")
        elif "image" in body or "strength" in body:
            raise _Invalid("image and strength are only valid with mode image-to-image")
        else:
            width, height = STABILITY_SIZES[body.get("aspect_ratio", "1:1")]
        if fault is not None and fault.kind == "filter":
            return web.json_response({"finish_reasons": [fault.message]})
        if fault is not None and fault.kind == "empty":
            return web.json_response({"seeds": [], "finish_reasons": [], "images": []})
        data = make_image(width, height, (seed % 256, 90, 200), "JPEG" if fmt == "jpeg" else "PNG")
        self.served.append(data)
        return web.json_response(
            {"seeds": [seed], "finish_reasons": [None], "images": [base64.b64encode(data).decode()]}
        )


def envelope_problem(recorded: Recorded) -> str | None:
    """What botocore's InvokeModel input shape says is wrong with the request's envelope, if anything."""
    shapes = _SERVICE["shapes"]
    values: dict[str, str | None] = {
        "modelId": recorded.model_id,
        **{
            name: recorded.headers.get(member["locationName"].lower())
            for name, member in _INVOKE_INPUT["members"].items()
            if member.get("location") == "header"
        },
    }
    problems = []
    body_shape = shapes[_INVOKE_INPUT["members"]["body"]["shape"]]
    if len(recorded.body) > body_shape["max"]:
        problems.append(
            f"Value at 'body' failed to satisfy constraint: Member must have length less than or equal "
            f"to {body_shape['max']}"
        )
    for name, value in values.items():
        if value is None:
            continue
        shape = shapes[_INVOKE_INPUT["members"][name]["shape"]]
        if "enum" in shape and value not in shape["enum"]:
            problems.append(
                f"Value '{value}' at '{name}' failed to satisfy constraint: Member must satisfy enum value "
                f"set: [{', '.join(shape['enum'])}]"
            )
        elif not shape.get("min", 0) <= len(value) <= shape.get("max", len(value)):
            problems.append(
                f"Value '{value}' at '{name}' failed to satisfy constraint: Member must have length "
                f"between {shape.get('min', 0)} and {shape.get('max')}"
            )
        elif "pattern" in shape and re.fullmatch(shape["pattern"], value) is None:
            problems.append(
                f"Value '{value}' at '{name}' failed to satisfy constraint: Member must satisfy regular "
                f"expression pattern: {shape['pattern']}"
            )
    if problems:
        count = len(problems)
        return f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(problems)
    if not (values["contentType"] or "").startswith(
        "application/json"
    ):  # "You must specify application/json"
        return "Malformed input request: content type must be application/json"
    if (values["accept"] or "application/json") not in ("application/json", "*/*"):
        return "Accept must be application/json"
    return None


def _keys(obj: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(obj) - allowed)
    if extra:
        raise _Invalid(
            f"Malformed input request: extraneous key [{extra[0]}] is not permitted, "
            "please reformat your input and try again."
        )


def _text(obj: dict[str, Any], key: str, *, required: bool) -> None:
    if key not in obj:
        if required:
            raise _Invalid(f"Malformed input request: #: required key [{key}] not found")
        return
    value = obj[key]
    if not isinstance(value, str):
        raise _Invalid(
            f"Malformed input request: #/{key}: expected type: String, found: {type(value).__name__}"
        )
    if not 1 <= len(value) <= 1024:
        raise _Invalid(
            f"Malformed input request: #/{key}: expected minLength: 1, maxLength: 1024, actual: {len(value)}"
        )


def _int(obj: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = obj.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _Invalid(f"Malformed input request: #/{key}: {value!r} is not an integer from {low} to {high}")
    return value


def _b64_image(value: object) -> tuple[int, int]:
    if not isinstance(value, str):
        raise _Invalid("Malformed input request: image: expected a base64 string")
    try:
        data = base64.b64decode(value, validate=True)
        if not data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
            raise ValueError("not png or jpeg")
        with PILImage.open(io.BytesIO(data)) as image:
            return image.size
    except (binascii.Error, ValueError, OSError) as exc:
        raise _Invalid("Invalid image: the input image must be a base64-encoded PNG or JPEG") from exc
