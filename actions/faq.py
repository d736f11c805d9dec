"""Asking which FAQ was meant, and noticing repeated failures.

Routine answers need no action: the rule for ask_faq utters utter_faq_answer, filled from
the slot the bot service's faq_answer entity sets."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import REPEATED_FAILURE, EscalatingAction, escalate
from bot.decision import CHOICES, CHOOSE_FAQ, OFFER, REQUEST_HUMAN
from bot.nlu.payload import format_payload

logger = logging.getLogger(__name__)


def _failed_before(tracker: Tracker) -> bool:
    return (tracker.get_slot("failed_turns") or 0) >= 1


class ActionClarifyFaq(EscalatingAction):
    """Ask which of the closest FAQs the customer means (two too close to call, or none sure
    enough to answer: bot/decision.py); escalate on a second miss."""

    def name(self) -> str:
        return "action_clarify_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if _failed_before(tracker):
            return await escalate(self.tickets, dispatcher, tracker, REPEATED_FAILURE)
        message = tracker.latest_message
        candidates = (message.get("candidates") or [])[:CHOICES]
        # A suggestion's buttons carry its inbox id back, so staff see which one was clicked.
        offer = {OFFER: message[OFFER]} if isinstance(message.get(OFFER), int) else {}
        buttons = [{"title": c["question"],
                    "payload": format_payload(CHOOSE_FAQ, faq_key=c["key"], **offer)}
                   for c in candidates]
        buttons.append({"title": "Something else: talk to a person",
                        "payload": format_payload(REQUEST_HUMAN, **offer)})
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
        return [SlotSet("failed_turns", 1.0)]


class ActionHandleDeny(EscalatingAction):
    """After a "no": ask the customer to rephrase, or escalate if that already failed."""

    def name(self) -> str:
        return "action_handle_deny"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if _failed_before(tracker):
            return await escalate(self.tickets, dispatcher, tracker, REPEATED_FAILURE)
        dispatcher.utter_message(response="utter_rephrase")
        return [SlotSet("failed_turns", 1.0)]
