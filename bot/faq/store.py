"""FaqStore owns every FAQ query."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bot.db import Database
from bot.errors import FaqNotFound
from bot.faq.models import Faq, FaqPhrasing, utcnow


@dataclass(frozen=True)
class FaqEntry:
    """A detached, read-only view of one FAQ."""

    key: str
    category: str
    question: str
    answer: str
    alternates: tuple[str, ...] = field(default=())

    @property
    def texts(self) -> tuple[str, ...]:
        """Return every phrasing the search index should know: the question first."""
        return (self.question, *self.alternates)


def _entry(faq: Faq) -> FaqEntry:
    return FaqEntry(
        key=faq.key,
        category=faq.category,
        question=faq.question,
        answer=faq.answer,
        alternates=tuple(p.text for p in faq.phrasings),
    )


class FaqStore:
    """Reads and writes FAQs in the database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def list_faqs(self) -> list[FaqEntry]:
        """Return every active FAQ, ordered by key."""
        with self.db.session() as session:
            faqs = session.scalars(
                select(Faq)
                .where(Faq.active.is_(True))
                .options(selectinload(Faq.phrasings))
                .order_by(Faq.key)
            )
            return [_entry(faq) for faq in faqs]

    def get_faq(self, *, key: str) -> FaqEntry:
        """Return the active FAQ with this key."""
        with self.db.session() as session:
            faq = session.scalar(
                select(Faq)
                .where(Faq.key == key, Faq.active.is_(True))
                .options(selectinload(Faq.phrasings))
            )
            if faq is None:
                raise FaqNotFound(faq_key=key)
            return _entry(faq)

    def count_faqs(self) -> int:
        """Return how many FAQs are active."""
        with self.db.session() as session:
            return session.scalar(select(func.count()).where(Faq.active.is_(True))) or 0

    def upsert_faqs(self, entries: list[FaqEntry]) -> int:
        """Create or replace FAQs by key in one transaction; return how many were written."""
        with self.db.session() as session:
            existing = {f.key: f for f in session.scalars(select(Faq).where(
                Faq.key.in_([e.key for e in entries])))}
            for entry in entries:
                faq = existing.get(entry.key) or Faq(key=entry.key)
                faq.category = entry.category
                faq.question = entry.question
                faq.answer = entry.answer
                faq.active = True
                faq.updated_at = utcnow()
                faq.phrasings = [FaqPhrasing(text=text) for text in entry.alternates]
                session.add(faq)
        return len(entries)

    def update_faq(self, *, key: str, answer: str) -> FaqEntry:
        """Replace one FAQ's answer."""
        with self.db.session() as session:
            faq = session.scalar(select(Faq).where(Faq.key == key, Faq.active.is_(True)))
            if faq is None:
                raise FaqNotFound(faq_key=key)
            faq.answer = answer
            faq.updated_at = utcnow()
        return self.get_faq(key=key)

    def last_change(self) -> tuple[int, str]:
        """Return a cheap fingerprint of the FAQ content: (count, latest update time)."""
        with self.db.session() as session:
            count, latest = session.execute(
                select(func.count(Faq.id), func.max(Faq.updated_at))
            ).one()
            return int(count or 0), str(latest)
