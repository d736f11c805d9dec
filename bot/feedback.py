"""Customers' 👍/👎 on the assistant's answers: the table and the store that owns its queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, Database
from bot.faq.models import utcnow

Rating = Literal["up", "down"]
RATINGS: tuple[str, ...] = get_args(Rating)


class Feedback(Base):
    """A customer's rating of one message from the assistant, stored with that message."""

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("conversation_id", "message_id", name="uq_feedback_message"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(255), index=True)
    message_id: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    question: Mapped[str] = mapped_column(Text, default="")
    rating: Mapped[str] = mapped_column(String(10), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class FeedbackView:
    """A detached, read-only view of one rating."""

    conversation_id: str
    message_id: str
    message: str
    question: str
    rating: str
    created_at: datetime
    updated_at: datetime


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every time we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _view(row: Feedback) -> FeedbackView:
    return FeedbackView(
        conversation_id=row.conversation_id,
        message_id=row.message_id,
        message=row.message,
        question=row.question,
        rating=row.rating,
        created_at=_aware(row.created_at),
        updated_at=_aware(row.updated_at),
    )


class FeedbackStore:
    """Records and lists ratings; a customer who changes their mind replaces their rating."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def rate_message(
        self,
        *,
        conversation_id: str,
        message_id: str,
        message: str,
        rating: str,
        question: str = "",
    ) -> FeedbackView:
        """Store the rating of one assistant message, replacing an earlier one for it.

        Raises:
            ValueError: the rating is neither "up" nor "down".
        """
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {RATINGS}, not {rating!r}")
        try:
            return self._upsert(conversation_id, message_id, message, rating, question)
        except IntegrityError:
            # Two ratings of the same message raced (a double click); the second one wins.
            return self._upsert(conversation_id, message_id, message, rating, question)

    def _upsert(self, conversation_id: str, message_id: str, message: str, rating: str,
                question: str) -> FeedbackView:
        with self.db.session() as session:
            row = session.scalar(select(Feedback).where(
                Feedback.conversation_id == conversation_id, Feedback.message_id == message_id))
            if row is None:
                row = Feedback(conversation_id=conversation_id, message_id=message_id,
                               message=message, question=question, rating=rating)
                session.add(row)
            else:
                row.rating = rating
                row.updated_at = utcnow()
            session.flush()
            return _view(row)

    def list_feedback(
        self, *, conversation_id: str | None = None, rating: str | None = None, limit: int = 200
    ) -> list[FeedbackView]:
        """Return ratings, newest first, optionally of one conversation or one rating."""
        query = select(Feedback).order_by(Feedback.updated_at.desc(), Feedback.id.desc())
        if conversation_id is not None:
            query = query.where(Feedback.conversation_id == conversation_id)
        if rating is not None:
            query = query.where(Feedback.rating == rating)
        with self.db.session() as session:
            return [_view(row) for row in session.scalars(query.limit(limit))]
