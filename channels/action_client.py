"""Custom-action calls over kept-alive connections, not a new connection per call (issue 4).

Rasa 3.6's `EndpointConfig.request` opens a new aiohttp session, so a new TCP connection to
the action server, for every custom action, and closes it after the reply. Here each
endpoint keeps one session for the life of its event loop; `request` itself is Rasa's.
"""

import asyncio
from contextlib import nullcontext

import aiohttp
from rasa.utils.endpoints import EndpointConfig

# Rasa's own: a new session as the endpoint's settings say (headers, auth, time-out).
# Its connections stay open 15 s when idle (aiohttp's default), less than the bot service
# keeps them (bot/cli.py), so an idle one is always closed from this side first.
_new_session = EndpointConfig.session


def session(self: EndpointConfig) -> "nullcontext[aiohttp.ClientSession]":
    """Return this endpoint's session for the running event loop, made on first use, as
    `async with` takes it and leaves it open."""
    loop = asyncio.get_running_loop()
    kept = self.__dict__.get("_kept_session")
    if kept is None or kept[0] is not loop or kept[1].closed:
        kept = (loop, _new_session(self))
        self.__dict__["_kept_session"] = kept
    return nullcontext(kept[1])


def install() -> None:
    """Make every `EndpointConfig.request` (custom actions) reuse the endpoint's session."""
    EndpointConfig.session = session  # type: ignore[method-assign]
