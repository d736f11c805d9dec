"""A custom action gets the conversation's recent turns, not all of it (issue 4).

Rasa 3.6 sends the whole conversation, every event as JSON, with each custom-action call
(`RemoteAction._action_call_format`), so a clarify or an escalation cost more the longer the
conversation had run: two or three times as much over turns 251-300 of one conversation as
over its first 50 (README.md, Performance). Here the call carries the events from the
`recent_user_turns`-th last customer message on (endpoints.yml, `action_endpoint`); the rest
of the tracker's state (slots, latest message, active loop, paused) is Rasa's, as is the
domain. Without the setting, or with one that is not a whole number (logged once), the call
is Rasa's own: a typo in endpoints.yml must not stop escalations. The whole conversation stays
in the tracker store.
"""

import logging
from typing import Any, Dict, List, Optional, Set

import rasa
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

SETTING = "recent_user_turns"
rasas_action_call = RemoteAction._action_call_format
logger = logging.getLogger(__name__)
_reported: Set[str] = set()


def user_turns_setting(value: Any) -> Optional[int]:
    """Return the setting as a number of customer messages, or None (Rasa's own call) when
    it is unset or not a whole number."""
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        if repr(value) not in _reported:
            _reported.add(repr(value))
            logger.error("endpoints.yml action_endpoint %s: %r is not a whole number; custom "
                         "actions get the whole conversation", SETTING, value)
        return None


def recent_events(events: List[Event], user_turns: int) -> List[Event]:
    """Return the events from the `user_turns`-th last customer message on (all of them if
    there are fewer customer messages)."""
    seen = 0
    for position in range(len(events) - 1, -1, -1):
        if isinstance(events[position], UserUttered):
            seen += 1
            if seen == user_turns:
                return events[position:]
    return events


def action_call(self: RemoteAction, tracker: DialogueStateTracker, domain: Domain
                ) -> Dict[str, Any]:
    """Return Rasa's request to the action server, its tracker's events only the recent ones."""
    user_turns = user_turns_setting(
        self.action_endpoint.kwargs.get(SETTING) if self.action_endpoint else None)
    if user_turns is None:
        return rasas_action_call(self, tracker, domain)
    # current_state with no events is ALL's state without them, and as_dict on every
    # event of a long conversation was part of the cost.
    state = tracker.current_state(EventVerbosity.NONE)
    state["events"] = [event.as_dict()
                       for event in recent_events(list(tracker.events), user_turns)]
    result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state,
              "version": rasa.__version__}
    if (not self._is_selective_domain_enabled()
            or domain.does_custom_action_explicitly_need_domain(self.name())):
        result["domain"] = domain.as_dict()
    return result


def install() -> None:
    """Make every custom-action call carry only the recent events, where endpoints.yml says."""
    RemoteAction._action_call_format = action_call  # type: ignore[method-assign]
