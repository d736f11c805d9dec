"""Run by tests/test_rasa_side.py with Rasa's Python: our code that runs inside Rasa."""

import asyncio
import json
import sys

from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels.tracker_store import CachedSQLTrackerStore


def store(path: str) -> CachedSQLTrackerStore:
    domain = Domain.load("domain.yml")
    return CachedSQLTrackerStore(domain=domain, dialect="sqlite", db=path)


def texts(tracker: DialogueStateTracker | None) -> list[str]:
    if tracker is None:
        return []
    return [e.text for e in tracker.events if isinstance(e, (UserUttered, BotUttered))]


async def main(path: str) -> dict:
    first = store(path)
    tracker = DialogueStateTracker.from_events("alice", [
        ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
    ], first.domain.slots)
    out = {}
    for turn in ("where is my card?", "thanks 🙂 שלום"):
        tracker.update(UserUttered(turn))
        tracker.update(BotUttered(f"reply to {turn}"))
        await first.save(tracker)
    again = await first.retrieve("alice")
    out["same_object"] = again is tracker
    out["texts_after_saves"] = texts(again)
    # Changed but never saved (a turn that failed half-way): the store re-reads SQL.
    tracker.update(UserUttered("lost turn"))
    out["texts_after_unsaved_change"] = texts(await first.retrieve("alice"))
    # Another process (a restart) sees every saved event, in order, exactly once.
    out["texts_after_restart"] = texts(await store(path).retrieve("alice"))
    # A second session in the same tracker: SQL now returns only the new session.
    fresh = await first.retrieve("alice")
    fresh.update(ActionExecuted("action_session_start"))
    fresh.update(SessionStarted())
    fresh.update(SlotSet("failed_turns", 0.0))
    fresh.update(UserUttered("new session"))
    await first.save(fresh)
    out["texts_new_session"] = texts(await first.retrieve("alice"))
    out["texts_new_session_restart"] = texts(await store(path).retrieve("alice"))
    out["unknown"] = await first.retrieve("nobody") is None
    return out


def action_validation() -> dict:
    """Importing channels swaps in the compiled validator; it still rejects bad replies."""
    action = RemoteAction("action_clarify_faq", None)
    out = {"patched": RemoteAction._validate_action_result.__module__}
    out["valid"] = action._validate_action_result({"events": [], "responses": [{"text": "hi"}]})
    try:
        action._validate_action_result({"events": "not a list"})
        out["invalid"] = "accepted"
    except ValidationError as error:
        out["invalid"] = error.message
    return out


print(json.dumps({"tracker_store": asyncio.run(main(sys.argv[1])),
                  "action_validation": action_validation()}))
