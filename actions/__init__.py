"""Custom Rasa actions, served by the bot service at /webhook."""

from __future__ import annotations

from rasa_sdk import Action

from actions.faq import ActionClarifyFaq, ActionHandleDeny
from actions.handoff import ActionEscalate
from bot.tickets import TicketStore


def all_actions(tickets: TicketStore) -> list[Action]:
    """Return every custom action domain.yml lists, each given the store it files tickets in."""
    return [ActionEscalate(tickets), ActionClarifyFaq(tickets), ActionHandleDeny(tickets)]
