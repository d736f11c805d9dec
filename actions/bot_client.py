"""The actions' client of the bot service's HTTP API."""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx

from bot.config import get_settings

_TIMEOUT = httpx.Timeout(10.0)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # A verifying TLS context reads the whole CA bundle: tens of ms of CPU, which httpx
    # spends on every new client. Profiling under load (issue 4) found it was 40 % of the
    # bot service's CPU, from escalations alone; build it once per process instead.
    return httpx.create_ssl_context()


async def create_ticket(
    *, conversation_id: str, reason: str, transcript: list[dict[str, Any]],
    candidates: list[dict[str, Any]],
) -> str:
    """Create an escalation ticket and return its reference."""
    async with httpx.AsyncClient(base_url=get_settings().service_url, timeout=_TIMEOUT,
                                 verify=_tls_context()) as client:
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
