"""Escalation tickets: the table and the store that owns its queries."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, Database
from bot.errors import TicketNotFound
from bot.faq.models import utcnow

# No 0/O or 1/I, so a reference read out over the phone is unambiguous.
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class Ticket(Base):
    """A conversation handed to a person, with what they need to pick it up."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True, index=True)
    conversation_id: Mapped[str] = mapped_column(String(255), index=True)
    reason: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="open")
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    closed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True)
class TicketView:
    """A detached, read-only view of one ticket."""

    reference: str
    conversation_id: str
    reason: str
    status: str
    transcript: list[dict[str, Any]]
    candidates: list[dict[str, Any]]
    created_at: datetime
    note: str = ""
    closed_by: str | None = None
    closed_at: datetime | None = None


def _view(ticket: Ticket) -> TicketView:
    return TicketView(
        reference=ticket.reference,
        conversation_id=ticket.conversation_id,
        reason=ticket.reason,
        status=ticket.status,
        transcript=list(ticket.transcript),
        candidates=list(ticket.candidates),
        created_at=ticket.created_at,
        note=ticket.note,
        closed_by=ticket.closed_by,
        closed_at=ticket.closed_at,
    )


def new_reference() -> str:
    """Return a fresh, human-friendly ticket reference such as BW-7KQ2MX."""
    return "BW-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))


class TicketStore:
    """Creates and reads escalation tickets."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create_ticket(
        self,
        *,
        conversation_id: str,
        reason: str,
        transcript: list[dict[str, Any]],
        candidates: list[dict[str, Any]],
    ) -> TicketView:
        """Store a new open ticket and return it with its reference."""
        with self.db.session() as session:
            ticket = Ticket(
                reference=new_reference(),
                conversation_id=conversation_id,
                reason=reason,
                status="open",
                transcript=transcript,
                candidates=candidates,
                note="",
            )
            session.add(ticket)
            session.flush()
            return _view(ticket)

    def get_ticket(self, *, reference: str) -> TicketView:
        """Return the ticket with this reference."""
        with self.db.session() as session:
            ticket = session.scalar(select(Ticket).where(Ticket.reference == reference))
            if ticket is None:
                raise TicketNotFound(reference=reference)
            return _view(ticket)

    def list_tickets(
        self, *, conversation_id: str | None = None, status: str | None = None,
        reason: str | None = None,
    ) -> list[TicketView]:
        """Return tickets, newest first, optionally of one conversation, status or reason."""
        query = select(Ticket).order_by(Ticket.id.desc())
        if conversation_id is not None:
            query = query.where(Ticket.conversation_id == conversation_id)
        if status is not None:
            query = query.where(Ticket.status == status)
        if reason is not None:
            query = query.where(Ticket.reason == reason)
        with self.db.session() as session:
            return [_view(t) for t in session.scalars(query)]

    def close_ticket(self, *, reference: str, note: str, closed_by: str) -> TicketView:
        """Close an open ticket with a note saying how it was resolved."""
        with self.db.session() as session:
            ticket = session.scalar(select(Ticket).where(Ticket.reference == reference))
            if ticket is None:
                raise TicketNotFound(reference=reference)
            ticket.status, ticket.note = "closed", note
            ticket.closed_by, ticket.closed_at = closed_by, utcnow()
            return _view(ticket)
