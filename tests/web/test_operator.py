"""The web chat is the operator's own console (loopback, or behind ``web.auth_token``): its user is
not held to the request rates, as the terminal is not."""

from __future__ import annotations

from pathlib import Path

from tests.web.conftest import open_web


async def test_quick_clicks_on_the_web_are_not_rate_limited(tmp_path: Path) -> None:
    """Generate, Reroll, Vary and two more prompts within a minute under a 2-per-minute user rate."""
    env = {"EASEL__LIMITS__USER_RATE": "2/minute", "EASEL__LIMITS__CHAT_RATE": "2/minute"}
    async with open_web(tmp_path, env=env) as run:
        await run.login()
        first = await run.generate("a lighthouse")
        for action in ("reroll", "vary"):
            response = await run.client.post("/api/actions", json={"action": action, "generation_id": first})
            assert response.status_code == 200 and response.json()["job_id"] is not None, response.text
            await run.easel.queue.wait_for(response.json()["job_id"])
        await run.generate("make it warmer")
        await run.generate("a new prompt")
        refusals = [e.data for e in run.adapter.hub.recent() if e.data.get("is_error")]
        assert refusals == []
