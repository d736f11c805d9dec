"""Escalation to a person: a ticket with the conversation so far."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.decision import REQUEST_HUMAN
from bot.tickets import TicketStore

logger = logging.getLogger(__name__)

# Why a conversation was handed over, by the intent that triggered it; any other (choices or
# a "no" right after choices or a request to rephrase: data/rules.yml) is a repeated failure.
COMPLAINT = "complaint"
REASONS = {
    REQUEST_HUMAN: "customer_asked_for_person",
    "complain": COMPLAINT,
    "ask_unanswerable": "no_matching_faq",
}
REPEATED_FAILURE = "repeated_failure"
# What the customer is told, by reason; utter_escalated for the others.
REPLIES = {COMPLAINT: "utter_complaint_received"}


def transcript(tracker: Tracker) -> list[dict[str, Any]]:
    """Return the conversation so far as customer/bot turns."""
    turns = []
    for event in tracker.events:
        if event.get("event") == "user":
            turns.append({"from": "customer", "text": event.get("text"),
                          "timestamp": event.get("timestamp")})
        elif event.get("event") == "bot" and event.get("text"):
            turns.append({"from": "bot", "text": event.get("text"),
                          "timestamp": event.get("timestamp")})
    return turns


def nearest_faqs(tracker: Tracker) -> list[dict[str, Any]]:
    """Return the nearest FAQs of the customer's latest message or, if it had none (a button
    such as "Something else: talk to a person", a "no", a request for a person), of the
    message before: the FAQs that were offered or answered, which staff should see."""
    customer = [e for e in tracker.events if e.get("event") == "user"][-2:]
    for event in reversed(customer):
        candidates = (event.get("parse_data") or {}).get("candidates")
        if candidates:
            return candidates
    return []


class ActionEscalate(Action):
    """Hand the conversation to a person: a ticket, whose reference the customer is told."""

    def __init__(self, tickets: TicketStore) -> None:
        self.tickets = tickets

    def name(self) -> str:
        return "action_escalate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        reason = REASONS.get(intent, REPEATED_FAILURE)
        try:
            # The store is the bot service's own, so no HTTP call to itself; off the event
            # loop because the database commit blocks.
            ticket = await asyncio.to_thread(
                self.tickets.create_ticket,
                conversation_id=tracker.sender_id,
                reason=reason,
                transcript=transcript(tracker),
                candidates=nearest_faqs(tracker),
            )
        except Exception:
            logger.exception("could not create a ticket for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_escalation_failed")
            return []
        dispatcher.utter_message(response=REPLIES.get(reason, "utter_escalated"),
                                 reference=ticket.reference)
        return [SlotSet("ticket_reference", ticket.reference)]
