"""Validate custom-action replies against a schema compiled once, not on every call.

Rasa 3.6's RemoteAction checks each reply from the action server with
`jsonschema.validate`, which re-checks the schema itself and rebuilds the validator every
time: about 15 % of Rasa's time under load here (issue 4, profiled with py-spy). The same
schema and the same errors, compiled once.
"""

from functools import lru_cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def _validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    try:
        _validator().validate(result)
        return True
    except ValidationError as e:  # the message Rasa itself would give
        e.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise e


def install() -> None:
    """Replace RemoteAction's per-call validation with the compiled one."""
    RemoteAction._validate_action_result = _validate_action_result
