"""Rasa's REST channel, refusing malformed requests with a 400 instead of a 500.

Stock RestInput calls `request.json.get(...)`, so a JSON array, a number or a
non-string message crashes it. This subclass checks the body first; the URL stays
/webhooks/rest/webhook.

It also takes the objects Rasa made at startup out of the garbage collector's view once
the model is loaded (issue 4): importing Rasa and TensorFlow alone leaves about half a
million, and each full collection walked them all, stopping every conversation for
250-280 ms under load.
"""

import gc
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, Sanic
from sanic.exceptions import InvalidUsage
from sanic.request import Request

# Longest sender id accepted; Rasa's tracker store keys conversations by it.
MAX_SENDER_CHARS = 255


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json
    except Exception as exc:  # sanic raises its own error type for undecodable bodies
        raise InvalidUsage("request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise InvalidUsage("request body must be a JSON object")
    return body


def _freeze_startup_objects(_app: Sanic, _loop: Any) -> None:
    # after_server_start runs after Rasa's before_server_start listener loaded the agent.
    gc.collect()
    gc.freeze()


class SafeRestInput(RestInput):
    """The REST channel with request validation."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Rasa's REST blueprint, plus the startup-objects freeze."""
        blueprint = super().blueprint(on_new_message)
        blueprint.listener("after_server_start")(_freeze_startup_objects)
        return blueprint

    async def _extract_sender(self, req: Request) -> str | None:
        sender = _body(req).get("sender")
        if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
            raise InvalidUsage(
                f"'sender' must be a non-empty string of at most {MAX_SENDER_CHARS} characters")
        return sender

    def _extract_message(self, req: Request) -> str | None:
        message = _body(req).get("message")
        if not isinstance(message, str):
            raise InvalidUsage("'message' must be a string")
        return message

    def _extract_input_channel(self, req: Request) -> str:
        channel = _body(req).get("input_channel")
        return channel if isinstance(channel, str) and channel else self.name()

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        metadata = _body(request).get("metadata")
        return metadata if isinstance(metadata, dict) else None
