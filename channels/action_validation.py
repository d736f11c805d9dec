"""Validate custom-action replies with schemas compiled once, each event against its own kind.

Rasa 3.6's RemoteAction checks each reply from the action server with
`jsonschema.validate`, which re-checks the schema itself and rebuilds the validator every
time: about 15 % of Rasa's time under load here (issue 4, profiled with py-spy). Compiled
once, the check still tried every event against all 23 kinds of event (the schema's
`oneOf`): 9 % of Rasa's time in a conversation of escalations. The kinds differ by their
`event` name, so an event can only match the kind it names; it is checked against that one.
Anything that does not pass that way goes through the whole schema, so what is accepted,
and every error message, is Rasa's own.
"""

from functools import lru_cache
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def _validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@lru_cache(maxsize=1)
def _by_kind() -> tuple[Any, dict[str, Any]]:
    """Return a validator of the reply without its events, and one per kind of event."""
    schema = RemoteAction.action_response_format_spec()
    event_schema = schema["properties"]["events"]["items"]
    common = {k: v for k, v in event_schema.items() if k != "oneOf"}
    cls = validator_for(schema)
    kinds = {kind["properties"]["event"]["const"]: cls({**common, "allOf": [kind]})
             for kind in event_schema["oneOf"]}
    assert len(kinds) == len(event_schema["oneOf"]), "two kinds of event share a name"
    reply = {**schema, "properties": {**schema["properties"], "events": {"type": "array"}}}
    return cls(reply), kinds


def _passes_by_kind(result: Any) -> bool:
    """Return True only if the whole schema accepts the reply (False: no verdict)."""
    reply, kinds = _by_kind()
    if not reply.is_valid(result):
        return False
    for event in result.get("events") or ():
        kind = kinds.get(event.get("event")) if isinstance(event, dict) else None
        if kind is None or not kind.is_valid(event):
            return False
    return True


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    if _passes_by_kind(result):
        return True
    # The error `jsonschema.validate` would raise, with the advice Rasa adds to it.
    error = best_match(_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response "
        f"from the Action endpoint is valid. For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    """Replace RemoteAction's per-call validation with the compiled one."""
    RemoteAction._validate_action_result = _validate_action_result
