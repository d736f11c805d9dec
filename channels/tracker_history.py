"""Copying a tracker and listing its applied events without walking the conversation (issue 4).

Rasa 3.6 walks the whole conversation several times per message: it copies the tracker
before running each action (two or three per message) by replaying every event into a fresh
one, and it lists the applied events (those not undone by a revert, a restart or a new
session) twice to decide whether the session has expired. Here Rasa's CPU per turn was
7.0-7.6 ms over the first 50 turns of one conversation and 18.8-21.2 ms over turns 251-300,
which sent the same messages (README.md, Performance); what still grows is the call to a
custom action, which carries the whole conversation.

- `copy_tracker` starts from the same fresh tracker and sets what the replay would rebuild:
  the same event objects (the replay shares them too), each slot as it stands, and the
  fields events set. model_id and assistant_id stay unset, as in Rasa's copy.
- `applied_events` remembers its last answer on the tracker and, when events were only
  appended since, continues from it with Rasa's own rules; anything else (a tracker whose
  oldest events were dropped, a new loop name, which changes how earlier events count) is
  worked out from the start as before.

tests/rasa_side compares both with Rasa's after every event of a long conversation.
"""

import copy
import itertools
from dataclasses import dataclass
from typing import List, Set

from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

replaying_copy = DialogueStateTracker.copy
all_applied_events = DialogueStateTracker.applied_events


def copy_tracker(self: DialogueStateTracker) -> DialogueStateTracker:
    """Return a tracker in the state `travel_back_in_time(inf)` would rebuild."""
    if type(self.slots) is not dict:
        # An AnySlotDict (a tracker without a domain) grows a slot on every read, which a
        # replay would not have: keep Rasa's copy there.
        return replaying_copy(self)
    clone = self.init_copy()
    clone.events.extend(self.events)
    clone.slots = {name: copy.copy(slot) for name, slot in self.slots.items()}
    clone._paused = self._paused
    clone.followup_action = self.followup_action
    clone.latest_action = copy.copy(self.latest_action)
    clone.latest_message = self.latest_message
    clone.latest_bot_utterance = self.latest_bot_utterance
    clone.active_loop = copy.copy(self.active_loop)
    return clone


@dataclass
class _Applied:
    """The applied events of a tracker's events as they were: which, how many, first, last."""

    events: object
    length: int
    first: Event
    last: Event
    loop_names: Set[str]
    applied: List[Event]


def _loop_names(events) -> Set[str]:  # type: ignore[no-untyped-def]
    return {e.name for e in events if isinstance(e, ActiveLoop) and e.name}


def applied_events(self: DialogueStateTracker) -> List[Event]:
    """Return what Rasa's `applied_events` returns, working only through new events."""
    events = self.events
    if not events:
        return []
    seen = self.__dict__.get("_applied")
    if (seen is None or seen.events is not events or len(events) < seen.length
            or events[0] is not seen.first or events[seen.length - 1] is not seen.last):
        applied = all_applied_events(self)
        loop_names = _loop_names(events)
    else:
        new = list(itertools.islice(events, seen.length, None))
        loop_names = seen.loop_names | _loop_names(new)
        if loop_names != seen.loop_names:
            applied = all_applied_events(self)  # earlier loop actions may now count otherwise
        else:
            applied = list(seen.applied)
            for event in new:
                _apply(self, event, applied, loop_names)
    self.__dict__["_applied"] = _Applied(events, len(events), events[0], events[-1],
                                         loop_names, applied)
    return list(applied)


def _apply(tracker: DialogueStateTracker, event: Event, applied: List[Event],
           loop_names: Set[str]) -> None:
    """One step of Rasa 3.6's DialogueStateTracker.applied_events, as it is written there."""
    if isinstance(event, (Restarted, SessionStarted)):
        applied.clear()
    elif isinstance(event, ActionReverted):
        tracker._undo_till_previous(ActionExecuted, applied)
    elif isinstance(event, UserUtteranceReverted):
        tracker._undo_till_previous(UserUttered, applied)
        tracker._undo_till_previous(ActionExecuted, applied)
    elif (isinstance(event, ActionExecuted) and event.action_name in loop_names
          and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)):
        tracker._undo_till_previous_loop_execution(event.action_name, applied)
    else:
        applied.append(event)


def install() -> None:
    """Make every tracker copy and list its applied events this way."""
    DialogueStateTracker.copy = copy_tracker
    DialogueStateTracker.applied_events = applied_events
