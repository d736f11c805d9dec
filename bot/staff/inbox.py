"""The unanswered inbox: escalated and declined customer messages, those offered choices of FAQs
instead of an answer (with the customer's click on them), those in another language and single
words, grouped by similarity."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import Boolean, DateTime, Float, Integer, String, Text, false, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, Database
from bot.decision import SUGGEST
from bot.errors import BotError
from bot.faq.models import utcnow

logger = logging.getLogger(__name__)

NEW, HANDLED, DISMISSED = "new", "handled", "dismissed"
# Longer messages are cut: the inbox shows what was asked, not an essay.
MAX_STORED_CHARS = 1000
# Longer conversation ids (from callers of /model/parse other than Rasa) are cut to the
# column, the same way when a message is filed and when a click is noted, so both still match.
MAX_CONVERSATION_ID_CHARS = 255


class UnansweredMessage(Base):
    """A customer message the assistant escalated, only offered choices for, declined, could
    not read or asked more of."""

    __tablename__ = "unanswered_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(20))
    faq_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(20), default=NEW, index=True)
    handled_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Rasa's sender id, when the message came through Rasa.
    conversation_id: Mapped[str | None] = mapped_column(String(MAX_CONVERSATION_ID_CHARS),
                                                        nullable=True, index=True)
    # What the customer clicked after a suggestion: one of the FAQs offered, or the person.
    picked_faq_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    asked_for_person: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class MessageNotFound(BotError):
    """No unanswered message has the given id."""

    status_code = 404

    def __init__(self, *, message_id: int) -> None:
        super().__init__(f"Message not found: {message_id}")


@dataclass(frozen=True)
class MessageView:
    """A detached view of one unanswered message."""

    id: int
    text: str
    decision: str
    faq_key: str | None
    score: float
    created_at: datetime
    conversation_id: str | None = None
    picked_faq_key: str | None = None
    asked_for_person: bool = False


@dataclass(frozen=True)
class ChoiceCounts:
    """How customers answered the choices they were offered instead of an answer."""

    offered: int
    picked_faq: int
    asked_for_person: int

    @property
    def neither(self) -> int:
        """Return how many were offered choices and clicked none of them."""
        return self.offered - self.picked_faq - self.asked_for_person


@dataclass
class MessageGroup:
    """Messages that say much the same thing; the newest leads."""

    messages: list[MessageView] = field(default_factory=list)

    @property
    def lead(self) -> MessageView:
        """Return the newest message of the group."""
        return self.messages[0]


def _cut(conversation_id: str | None) -> str | None:
    return conversation_id[:MAX_CONVERSATION_ID_CHARS] if conversation_id else None


def _view(row: UnansweredMessage) -> MessageView:
    return MessageView(row.id, row.text, row.decision, row.faq_key, row.score, row.created_at,
                       row.conversation_id, row.picked_faq_key, bool(row.asked_for_person))


class InboxStore:
    """Owns every unanswered-message query."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, *, text: str, decision: str, faq_key: str | None, score: float,
               conversation_id: str | None = None) -> int | None:
        """Store one message and return its id; log, carry on and return None if the database
        refuses.

        The customer's reply must never depend on this bookkeeping (issue 5).
        """
        try:
            with self.db.session() as session:
                row = UnansweredMessage(text=text[:MAX_STORED_CHARS], decision=decision,
                                        faq_key=faq_key, score=float(score), status=NEW,
                                        conversation_id=_cut(conversation_id))
                session.add(row)
                session.flush()
                return row.id
        except Exception:
            logger.exception("could not record an unanswered message")
            return None

    def record_choice(self, *, message_id: int, conversation_id: str,
                      faq_key: str | None) -> bool:
        """Note what the customer clicked after being offered choices for message_id: an FAQ
        (its key) or, with None, the person. Only the first click of the conversation that
        was offered them counts. Return whether it was noted; never raise (as record)."""
        values = {"picked_faq_key": faq_key} if faq_key else {"asked_for_person": True}
        try:
            with self.db.session() as session:
                result = session.execute(
                    update(UnansweredMessage)
                    .where(UnansweredMessage.id == message_id,
                           UnansweredMessage.conversation_id == _cut(conversation_id),
                           UnansweredMessage.decision == SUGGEST,
                           UnansweredMessage.picked_faq_key.is_(None),
                           UnansweredMessage.asked_for_person.is_(False))
                    .values(**values))
                return bool(result.rowcount)
        except Exception:
            logger.exception("could not note a customer's choice")
            return False

    def choice_counts(self) -> ChoiceCounts:
        """Return how many messages were offered choices, and how the customers answered."""
        suggested = UnansweredMessage.decision == SUGGEST
        with self.db.session() as session:
            offered, picked, person = session.execute(select(
                func.count(),
                func.count(UnansweredMessage.picked_faq_key),
                func.count().filter(UnansweredMessage.asked_for_person.is_(True)),
            ).where(suggested)).one()
        return ChoiceCounts(int(offered), int(picked), int(person))

    def list_new(self, *, limit: int = 500) -> list[MessageView]:
        """Return the newest messages nobody has handled yet."""
        with self.db.session() as session:
            rows = session.scalars(select(UnansweredMessage)
                                   .where(UnansweredMessage.status == NEW)
                                   .order_by(UnansweredMessage.id.desc()).limit(limit))
            return [_view(r) for r in rows]

    def get_message(self, *, message_id: int) -> MessageView:
        """Return one message."""
        with self.db.session() as session:
            row = session.get(UnansweredMessage, message_id)
            if row is None:
                raise MessageNotFound(message_id=message_id)
            return _view(row)

    def close_messages(self, *, message_ids: list[int], status: str, by: str) -> int:
        """Mark messages handled or dismissed; return how many changed."""
        with self.db.session() as session:
            result = session.execute(
                update(UnansweredMessage)
                .where(UnansweredMessage.id.in_(message_ids), UnansweredMessage.status == NEW)
                .values(status=status, handled_by=by)
            )
            return int(result.rowcount or 0)


def group_messages(messages: list[MessageView], vectors: np.ndarray, *,
                   similarity: float) -> list[MessageGroup]:
    """Group messages (newest first) whose vectors are at least this similar to a group's lead."""
    groups: list[MessageGroup] = []
    leads: list[np.ndarray] = []
    for message, vector in zip(messages, vectors):
        scores = [float(np.dot(lead, vector)) for lead in leads]
        best = int(np.argmax(scores)) if scores else -1
        if best >= 0 and scores[best] >= similarity:
            groups[best].messages.append(message)
        else:
            groups.append(MessageGroup([message]))
            leads.append(vector)
    return groups
