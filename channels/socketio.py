"""Rasa's socketio channel, fixed for python-socketio 5.x and made safe to retry (issue 6).

Two problems with stock `rasa.core.channels.socketio.SocketIOInput` under Rasa 3.6.21:

- Its `session_request` handler calls `sio.enter_room(...)` without `await`; in the
  python-socketio 5.x that Rasa installs, `AsyncServer.enter_room` is a coroutine, so the
  socket never joins its session's room and, with `session_persistence: true`, every bot
  message (sent to that room) is lost.
- A widget that reconnects after a network drop must resend a message whose
  acknowledgement it never got, which would run the turn twice.

This subclass awaits `enter_room`, acknowledges each user message once its replies are
sent (with the message's text as Rasa kept it), and keys turns by a client `message_id`:
a repeated id is not run again, its replies are re-sent instead. Each reply carries
`reply_to` (that id) and `seq`, so the widget can drop replies it already shows. The event
names and /socket.io path are as configured in credentials.yml.
"""

import asyncio
import json
import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

logger = logging.getLogger(__name__)

# Turns remembered per Rasa process for answering a resent message (oldest dropped first).
MAX_REMEMBERED_TURNS = 2000
# Longest session or message id accepted; Rasa's tracker store keys conversations by it.
MAX_ID_CHARS = 255


class _Turn:
    """The replies sent for one user message, whether the turn has finished, and the
    message as Rasa kept it (card details hidden: channels/sensitive.py)."""

    def __init__(self) -> None:
        self.replies: list[dict[str, Any]] = []
        self.done = asyncio.Event()
        self.text = ""


class _TurnOutput(SocketIOOutput):
    """Sends replies to the session's room, tagged with the message they answer."""

    def __init__(self, sio: Any, bot_message_evt: str, message_id: str, turn: _Turn) -> None:
        super().__init__(sio, bot_message_evt)
        self.message_id = message_id
        self.turn = turn

    async def _send_message(self, socket_id: str, response: Any) -> None:
        tagged = {**response, "reply_to": self.message_id, "seq": len(self.turn.replies)}
        self.turn.replies.append(tagged)
        await super()._send_message(socket_id, tagged)


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS


class SafeSocketIOInput(SocketIOInput):
    """The socketio channel with awaited rooms and idempotent, acknowledged turns."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turns: OrderedDict[tuple[str, str], _Turn] = OrderedDict()

    def _remember(self, key: tuple[str, str]) -> _Turn:
        turn = self._turns[key] = _Turn()
        while len(self._turns) > MAX_REMEMBERED_TURNS:
            self._turns.popitem(last=False)
        return turn

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Return the stock blueprint with our session and message handlers."""
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by super().blueprint

        # Registering an event again replaces the stock handler.
        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: dict | None) -> None:
            session_id = data.get("session_id") if isinstance(data, dict) else None
            if not _valid_id(session_id):
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any) -> dict[str, Any]:
            if not isinstance(data, dict) or not isinstance(data.get("message", ""), str):
                return {"status": "error", "error": "'message' must be a string"}
            if self.session_persistence:
                if not _valid_id(data.get("session_id")):
                    return {"status": "error", "error": "send session_request first"}
                sender_id = data["session_id"]
            else:
                sender_id = sid
            message_id = data.get("message_id")
            if not _valid_id(message_id):
                message_id = uuid.uuid4().hex

            key = (sender_id, message_id)
            seen = self._turns.get(key)
            if seen is not None:
                # A resend after a lost acknowledgement: replay, don't run the turn again.
                await seen.done.wait()
                for reply in seen.replies:
                    await sio.emit(self.bot_message_evt, reply, room=sid,
                                   namespace=self.namespace)
                return {"status": "ok", "message_id": message_id, "text": seen.text,
                        "replayed": True}

            turn = self._remember(key)
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except json.JSONDecodeError:
                    metadata = {}
            message = UserMessage(
                data.get("message", ""),
                _TurnOutput(sio, self.bot_message_evt, message_id, turn),
                sender_id,
                input_channel=self.name(),
                message_id=message_id,
                metadata=metadata if isinstance(metadata, dict) else {},
            )
            try:
                await on_new_message(message)
                turn.text = message.text or ""
            except Exception:
                logger.exception("socketio message %s of %s failed", message_id, sender_id)
                self._turns.pop(key, None)
                return {"status": "error", "error": "the message could not be handled"}
            finally:
                turn.done.set()
            # The message as kept, so the widget shows and stores it without card details.
            return {"status": "ok", "message_id": message_id, "text": turn.text}

        return blueprint
