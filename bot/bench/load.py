"""A bounded asyncio load generator for Rasa's REST channel (loopback only).

Two shapes: a fixed number of conversations, each sending its next message as soon as the
reply comes (closed loop: the machine never idles), and a fixed rate of messages whatever the
pace of the replies (open loop: as customers send).

aiohttp rather than httpx: the client shares the two cores with the assistant, and httpx
spent 2.4 ms of CPU per message here (issue 4), which the benchmark would charge to the assistant.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

import aiohttp
import numpy as np


@dataclass
class LoadResult:
    """Per-turn latencies (seconds), errors and wall time of one load run."""

    concurrency: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    wall: float = 0.0
    # Messages offered per second, for a run that sends at a fixed rate (open loop).
    rate: float | None = None
    # The message each latency is of, in the same order.
    texts: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, float | int]:
        """Return p50/p95/p99 in ms, messages/s and the error count."""
        ms = np.asarray(self.latencies) * 1000 if self.latencies else np.zeros(1)
        return {
            "concurrency": self.concurrency,
            **({"offered_per_s": self.rate} if self.rate is not None else {}),
            "messages": len(self.latencies) + self.errors,
            "errors": self.errors,
            "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "messages_per_s": round(len(self.latencies) / self.wall, 1) if self.wall else 0.0,
        }


def _new_sender() -> str:
    return f"bench-{uuid.uuid4().hex[:12]}"


async def _send(client: aiohttp.ClientSession, url: str, sender: str, text: str,
                result: LoadResult) -> None:
    started = time.perf_counter()
    try:
        async with client.post(url, json={"sender": sender, "message": text}) as response:
            ok = response.status == 200 and bool(await response.json())
    except (TimeoutError, aiohttp.ClientError, ValueError):
        ok = False
    if ok:
        result.latencies.append(time.perf_counter() - started)
        result.texts.append(text)
    else:
        result.errors += 1


async def _conversation(client: aiohttp.ClientSession, url: str, texts: list[str],
                        result: LoadResult) -> None:
    sender = _new_sender()
    for text in texts:
        await _send(client, url, sender, text, result)


async def run_load(rasa_url: str, texts: list[str], *, concurrency: int,
                   turns_per_conversation: int = 10) -> LoadResult:
    """Send every text once, from `concurrency` conversations at a time; stop when all are sent."""
    url = f"{rasa_url}/webhooks/rest/webhook"
    result = LoadResult(concurrency=concurrency)
    chunks = [texts[i:i + turns_per_conversation]
              for i in range(0, len(texts), turns_per_conversation)]
    queue: asyncio.Queue[list[str]] = asyncio.Queue()
    for chunk in chunks:
        queue.put_nowait(chunk)
    connector = aiohttp.TCPConnector(limit=concurrency)

    async with aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=30)) as client:

        async def worker() -> None:
            while not queue.empty():
                await _conversation(client, url, queue.get_nowait(), result)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.wall = time.perf_counter() - started
    return result


async def run_rate_load(rasa_url: str, texts: list[str], *, rate: float,
                        conversations: int = 96) -> LoadResult:
    """Send every text once at `rate` per second, as customers send, whatever the pace of the
    replies (open loop); message k goes to conversation k mod `conversations`. Stop when every
    reply is in."""
    url = f"{rasa_url}/webhooks/rest/webhook"
    result = LoadResult(concurrency=conversations, rate=rate)
    senders = [_new_sender() for _ in range(conversations)]
    # No connection limit: an open loop must not queue its messages in the client.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=aiohttp.ClientTimeout(total=30)) as client:
        started = time.perf_counter()
        sends = []
        for k, text in enumerate(texts):
            await asyncio.sleep(max(0.0, started + k / rate - time.perf_counter()))
            sends.append(asyncio.create_task(
                _send(client, url, senders[k % conversations], text, result)))
        await asyncio.gather(*sends)
        result.wall = time.perf_counter() - started
    return result
