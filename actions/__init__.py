"""Custom Rasa actions, served by the bot service at /webhook.

Only escalation is one: it files a ticket. Answers and choices are plain responses filled
from slots (domain.yml), and the rules say when a second miss escalates (data/rules.yml)."""

from __future__ import annotations

from rasa_sdk import Action

from actions.handoff import ActionEscalate
from bot.tickets import TicketStore


def all_actions(tickets: TicketStore) -> list[Action]:
    """Return every custom action domain.yml lists, each given the store it files tickets in."""
    return [ActionEscalate(tickets)]
