"""FAQ tables."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base


def utcnow() -> datetime:
    """Return the current time, timezone-aware."""
    return datetime.now(UTC)


class Faq(Base):
    """A question customers ask, the bank's answer, and how customers phrase it."""

    __tablename__ = "faqs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True, index=True)
    category: Mapped[str] = mapped_column(String(100), index=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    phrasings: Mapped[list[FaqPhrasing]] = relationship(
        back_populates="faq", cascade="all, delete-orphan", order_by="FaqPhrasing.id"
    )


class FaqPhrasing(Base):
    """An alternate way a customer asks an FAQ's question."""

    __tablename__ = "faq_phrasings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    faq_id: Mapped[int] = mapped_column(ForeignKey("faqs.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    faq: Mapped[Faq] = relationship(back_populates="phrasings")
