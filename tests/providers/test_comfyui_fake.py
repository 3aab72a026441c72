"""The ComfyUI fake follows the real server (0.3.64's server.py / execution.py) where clients can tell."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import pytest

from tests.fakes.providers.comfyui import FakeComfyUI, make_png

MB = 1024 * 1024


def blank(batch: int = 1, prefix: str = "easel", steps: int = 0) -> dict[str, Any]:
    """EmptyImage → (EaselSteps) → SaveImage: the model-free workflow a CPU server runs."""
    workflow: dict[str, Any] = {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 64, "height": 32, "batch_size": batch, "color": 255},
        },
        "9": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": prefix}},
    }
    if steps:
        workflow["2"] = {
            "class_type": "EaselSteps",
            "inputs": {"image": ["1", 0], "steps": steps, "seconds": 0.01},
        }
        workflow["9"]["inputs"]["images"] = ["2", 0]
    return workflow


@pytest.fixture
async def fake() -> AsyncIterator[FakeComfyUI]:
    async with FakeComfyUI() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post(http: aiohttp.ClientSession, url: str, body: Any) -> tuple[int, Any, str]:
    async with http.post(url, json=body) as response:
        text = await response.text()
        data = json.loads(text) if response.content_type == "application/json" else None
        return response.status, data, response.content_type


async def events_until_done(ws: aiohttp.ClientWebSocketResponse, prompt_id: str) -> list[Any]:
    """Every frame (text as dicts, binary as bytes) until ``executing {node: null}`` for ``prompt_id``."""
    seen: list[Any] = []
    async with asyncio.timeout(5):
        async for message in ws:
            if message.type is aiohttp.WSMsgType.BINARY:
                seen.append(message.data)
                continue
            event = json.loads(message.data)
            seen.append(event)
            data = event["data"]
            if (
                event["type"] == "executing"
                and data.get("node") is None
                and data.get("prompt_id") == prompt_id
            ):
                return seen
    raise AssertionError("the run never ended")


async def run(
    fake: FakeComfyUI, http: aiohttp.ClientSession, workflow: dict[str, Any], **body: Any
) -> list[Any]:
    async with http.ws_connect(f"{fake.base_url}/ws", params={"clientId": "me"}) as ws:
        status, answer, _ = await post(
            http, f"{fake.base_url}/prompt", {"prompt": workflow, "client_id": "me", **body}
        )
        assert status == 200, answer
        return await events_until_done(ws, answer["prompt_id"])


def kinds(events: list[Any]) -> list[str]:
    return [e["type"] for e in events if isinstance(e, dict)]


async def test_identical_prompt_is_cached(fake: FakeComfyUI, http: aiohttp.ClientSession) -> None:
    """A repeat runs nothing: no executing, the history names the old file, nothing new is written."""
    await run(fake, http, blank())
    events = await run(fake, http, blank())
    assert [e for e in events if isinstance(e, dict) and e["type"] == "executing" and e["data"]["node"]] == []
    [first, second] = fake.history.values()
    assert first["outputs"] == second["outputs"] and len(fake.served) == 1
    cached = next(e for e in events if isinstance(e, dict) and e["type"] == "execution_cached")
    assert set(cached["data"]["nodes"]) == {"1", "9"}


async def test_free_memory_empties_the_cache(fake: FakeComfyUI, http: aiohttp.ClientSession) -> None:
    """POST /free {"free_memory": true} makes the next identical prompt run again."""
    await run(fake, http, blank())
    status, _, _ = await post(http, f"{fake.base_url}/free", {"unload_models": True, "free_memory": True})
    await asyncio.sleep(0.01)
    await run(fake, http, blank())
    assert status == 200 and len(fake.served) == 2


async def test_executing_only_for_nodes_that_run(fake: FakeComfyUI, http: aiohttp.ClientSession) -> None:
    """Changing only the last node re-runs only it."""
    await run(fake, http, blank(prefix="a"))
    events = await run(fake, http, blank(prefix="b"))
    ran = [e["data"]["node"] for e in events if isinstance(e, dict) and e["type"] == "executing"]
    assert ran == ["9", None]


async def test_end_of_run_order(fake: FakeComfyUI, http: aiohttp.ClientSession) -> None:
    """execution_success comes before the history is written; executing {node: null} after it."""
    fake.history_delay_s = 0.05
    async with http.ws_connect(f"{fake.base_url}/ws", params={"clientId": "me"}) as ws:
        _, answer, _ = await post(http, f"{fake.base_url}/prompt", {"prompt": blank(), "client_id": "me"})
        async for message in ws:
            event = json.loads(message.data)
            if event["type"] == "execution_success":
                assert answer["prompt_id"] not in fake.history
            if event["type"] == "executing" and event["data"]["node"] is None:
                assert answer["prompt_id"] in fake.history
                break


async def test_status_and_progress_state(fake: FakeComfyUI, http: aiohttp.ClientSession) -> None:
    """Queue changes are broadcast as status; nodes report progress_state with the prompt id."""
    events = await run(fake, http, blank(steps=2))
    states = [e["data"] for e in events if isinstance(e, dict) and e["type"] == "progress_state"]
    assert "status" in kinds(events) and states and all(s["prompt_id"] for s in states)
    assert states[-1]["nodes"]["9"]["state"] == "finished"


async def test_runs_without_a_client_id_are_broadcast(fake: FakeComfyUI, http: aiohttp.ClientSession) -> None:
    """Another client's run (no client_id) sends progress and legacy previews to every socket."""
    async with http.ws_connect(f"{fake.base_url}/ws", params={"clientId": "bystander"}) as ws:
        await fake.queue_prompt(blank(steps=2))
        frames: list[Any] = []
        async with asyncio.timeout(5):
            while not any(isinstance(f, bytes) for f in frames):
                message = await ws.receive()
                frames.append(
                    message.data if message.type is aiohttp.WSMsgType.BINARY else json.loads(message.data)
                )
    assert "progress" in kinds(frames) and "executing" not in kinds(frames)
    assert next(f for f in frames if isinstance(f, bytes))[:4] == b"\0\0\0\1"


async def test_preview_metadata_when_the_client_asks(fake: FakeComfyUI, http: aiohttp.ClientSession) -> None:
    """A client that sends feature_flags supports_preview_metadata gets type-4 previews with prompt_id."""
    async with http.ws_connect(f"{fake.base_url}/ws", params={"clientId": "me"}) as ws:
        await ws.send_json({"type": "feature_flags", "data": {"supports_preview_metadata": True}})
        await ws.receive()  # status
        reply = json.loads((await ws.receive()).data)
        _, answer, _ = await post(
            http, f"{fake.base_url}/prompt", {"prompt": blank(steps=2), "client_id": "me"}
        )
        frames = await events_until_done(ws, answer["prompt_id"])
    preview = next(f for f in frames if isinstance(f, bytes))
    size = int.from_bytes(preview[4:8], "big")
    assert reply["type"] == "feature_flags" and preview[:4] == b"\0\0\0\4"
    assert json.loads(preview[8 : 8 + size])["prompt_id"] == answer["prompt_id"]


async def test_interrupt_with_prompt_id_only_stops_that_prompt(
    fake: FakeComfyUI, http: aiohttp.ClientSession
) -> None:
    """/interrupt {"prompt_id": <queued one>} leaves the running prompt alone."""
    running = await fake.queue_prompt(blank(steps=20))
    queued = await fake.queue_prompt(blank(prefix="q"))
    await asyncio.sleep(0.05)
    await post(http, f"{fake.base_url}/interrupt", {"prompt_id": queued})
    assert fake.interrupts == 0 and fake.executor.running is not None
    await post(http, f"{fake.base_url}/interrupt", {"prompt_id": running})
    assert fake.interrupts == 1


async def test_partial_validity_is_200_with_node_errors(
    fake: FakeComfyUI, http: aiohttp.ClientSession
) -> None:
    """One good output and one bad: 200, the bad one in node_errors, only the good one runs."""
    workflow = blank()
    workflow["5"] = {"class_type": "LoadImage", "inputs": {"image": "missing.png"}}
    workflow["6"] = {"class_type": "SaveImage", "inputs": {"images": ["5", 0], "filename_prefix": "x"}}
    status, answer, _ = await post(http, f"{fake.base_url}/prompt", {"prompt": workflow})
    assert status == 200 and answer["node_errors"]["5"]["dependent_outputs"] == ["6"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"client_id": "x"}, "no_prompt"),
        ({"prompt": {"1": {"class_type": "EmptyImage", "inputs": {}}}}, "prompt_no_outputs"),
    ],
)
async def test_node_errors_is_an_object(
    fake: FakeComfyUI, http: aiohttp.ClientSession, body: dict[str, Any], expected: str
) -> None:
    """Rejections always carry node_errors as an object, never a list."""
    status, answer, _ = await post(http, f"{fake.base_url}/prompt", body)
    assert (status, answer["error"]["type"], answer["node_errors"]) == (400, expected, {})


async def test_non_object_prompt_is_500_text(fake: FakeComfyUI, http: aiohttp.ClientSession) -> None:
    """A prompt that is not an object crashes the handler: 500 text/plain."""
    status, _, content_type = await post(http, f"{fake.base_url}/prompt", {"prompt": ["not", "nodes"]})
    assert (status, content_type) == (500, "text/plain")


async def test_subfolder_is_its_own_field(fake: FakeComfyUI, http: aiohttp.ClientSession) -> None:
    """A filename_prefix with a folder gives subfolder=folder and a bare filename."""
    await run(fake, http, blank(prefix="easel/run"))
    [entry] = fake.history.values()
    assert entry["outputs"]["9"]["images"] == [
        {"filename": "run_00001_.png", "subfolder": "easel", "type": "output"}
    ]


async def test_batch_writes_one_file_per_image(fake: FakeComfyUI, http: aiohttp.ClientSession) -> None:
    """EmptyImage batch_size 3 gives three output files."""
    await run(fake, http, blank(batch=3))
    [entry] = fake.history.values()
    assert len(entry["outputs"]["9"]["images"]) == 3


async def test_upload_takes_100_mib(fake: FakeComfyUI) -> None:
    """A 5 MiB photo is accepted (the limit is 100 MiB); over the limit is 413."""
    photo = make_png(8, 8, (1, 2, 3)) + b"\0" * (5 * MB)
    files = {"image": ("photo.png", photo, "image/png")}
    async with httpx.AsyncClient() as client, FakeComfyUI(max_upload_mb=1) as small:
        accepted = await client.post(f"{fake.base_url}/upload/image", files=files)
        refused = await client.post(f"{small.base_url}/upload/image", files=files)
    assert accepted.status_code == 200 and accepted.json()["name"] == "photo.png"
    assert refused.status_code == 413


async def test_api_prefixed_routes_and_queue_info(fake: FakeComfyUI, http: aiohttp.ClientSession) -> None:
    """Every route also answers under /api/; GET /prompt gives the queue info; /history lists all."""
    await run(fake, http, blank())
    async with http.get(f"{fake.base_url}/api/prompt") as response:
        assert await response.json() == {"exec_info": {"queue_remaining": 0}}
    async with http.get(f"{fake.base_url}/api/history", params={"max_items": "5"}) as response:
        assert list(await response.json()) == fake.prompt_ids


async def test_queue_clear_and_delete(fake: FakeComfyUI, http: aiohttp.ClientSession) -> None:
    """POST /queue {"delete": [id]} and {"clear": true} remove pending prompts."""
    await fake.queue_prompt(blank(steps=50))
    doomed = [await fake.queue_prompt(blank(prefix=str(i))) for i in range(3)]
    await post(http, f"{fake.base_url}/queue", {"delete": [doomed[0]]})
    assert len(fake.executor.queue) == 2
    await post(http, f"{fake.base_url}/queue", {"clear": True})
    async with http.get(f"{fake.base_url}/queue") as response:
        queue = await response.json()
    assert queue["queue_pending"] == [] and len(queue["queue_running"]) == 1


async def test_checkpoints_as_configured(http: aiohttp.ClientSession) -> None:
    """A model-free server lists no checkpoints."""
    async with (
        FakeComfyUI(checkpoints=()) as empty,
        http.get(f"{empty.base_url}/object_info/CheckpointLoaderSimple") as response,
    ):
        info = await response.json()
    assert info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0] == []
