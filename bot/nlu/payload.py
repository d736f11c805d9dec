"""Rasa's button-payload syntax: /intent or /intent{"slot": "value"}."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_PAYLOAD = re.compile(r"^/(?P<intent>[A-Za-z_][\w-]*)(?P<entities>\{.*\})?\s*$", re.DOTALL)


@dataclass(frozen=True)
class Payload:
    """An intent a button (or a tester) names directly, with entity values."""

    intent: str
    entities: dict[str, Any] = field(default_factory=dict)


def parse_payload(text: str) -> Payload | None:
    """Return the payload a text spells, or None for ordinary text.

    Malformed JSON after the intent name makes the text ordinary, so a customer
    typing "/help{" is understood as words, not rejected.
    """
    match = _PAYLOAD.match(text.strip())
    if match is None:
        return None
    entities: dict[str, Any] = {}
    if match.group("entities"):
        try:
            loaded = json.loads(match.group("entities"))
        except json.JSONDecodeError:
            return None
        if not isinstance(loaded, dict):
            return None
        entities = loaded
    return Payload(intent=match.group("intent"), entities=entities)


def format_payload(intent: str, **entities: Any) -> str:
    """Return the text a button sends for this intent and these entities, in the syntax
    parse_payload reads: /intent, or /intent{"entity": value}."""
    return f"/{intent}{json.dumps(entities)}" if entities else f"/{intent}"
