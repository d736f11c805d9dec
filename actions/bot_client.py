"""The actions' client of the bot service's HTTP API."""

from __future__ import annotations

from typing import Any

import httpx

from bot.config import get_settings

_TIMEOUT = httpx.Timeout(10.0)


async def create_ticket(
    *, conversation_id: str, reason: str, transcript: list[dict[str, Any]],
    candidates: list[dict[str, Any]],
) -> str:
    """Create an escalation ticket and return its reference."""
    async with httpx.AsyncClient(base_url=get_settings().service_url, timeout=_TIMEOUT) as client:
        response = await client.post(
            "/tickets",
            json={
                "conversation_id": conversation_id,
                "reason": reason,
                "transcript": transcript,
                "candidates": candidates,
            },
        )
        response.raise_for_status()
        return str(response.json()["reference"])
