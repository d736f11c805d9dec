"""Drafts, review and history: every FAQ change staff make goes through here.

A draft holds the new content of one or more FAQs. A reviewer other than its author
publishes it; publishing writes the FAQs, one revision per FAQ (who, when, before,
after, why) and the draft's status in one transaction, and bumps `updated_at`, which
is what every service process's LiveIndex polls (issue 5).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, selectinload

from bot.db import Base, Database
from bot.errors import BotError, FaqNotFound
from bot.faq.guardrails import find_duplicates
from bot.faq.models import Faq, FaqPhrasing, utcnow
from bot.faq.store import FaqEntry

PENDING, PUBLISHED, DISCARDED = "pending", "published", "discarded"
# Seed keys follow BANKING77 labels, one of which ends in "?".
_KEY = re.compile(r"[\w?.-]{1,100}")


class FaqDraft(Base):
    """Proposed content for one or more FAQs, waiting for a reviewer."""

    __tablename__ = "faq_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # updated_at of each FAQ when the draft was made: publishing over a newer edit is refused.
    base: Mapped[dict[str, str | None]] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    reviewer: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class FaqRevision(Base):
    """One published change of one FAQ."""

    __tablename__ = "faq_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    faq_key: Mapped[str] = mapped_column(String(100), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)
    author: Mapped[str] = mapped_column(String(100))
    reviewer: Mapped[str] = mapped_column(String(100))
    comment: Mapped[str] = mapped_column(Text)
    draft_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DraftNotFound(BotError):
    """No draft has the given id."""

    status_code = 404

    def __init__(self, *, draft_id: int) -> None:
        super().__init__(f"Draft not found: {draft_id}")


class RevisionNotFound(BotError):
    """No revision has the given id."""

    status_code = 404

    def __init__(self, *, revision_id: int) -> None:
        super().__init__(f"Revision not found: {revision_id}")


class ReviewRefused(BotError):
    """A draft cannot be made or published as it is; the message says why."""

    status_code = 409


@dataclass(frozen=True)
class FaqVersion:
    """The full content of one FAQ at one moment (what drafts and revisions store)."""

    key: str
    category: str
    question: str
    answer: str
    alternates: tuple[str, ...] = ()
    active: bool = True

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaqVersion:
        """Return the version stored as JSON."""
        return cls(key=data["key"], category=data["category"], question=data["question"],
                   answer=data["answer"], alternates=tuple(data.get("alternates", ())),
                   active=bool(data.get("active", True)))

    @classmethod
    def from_entry(cls, entry: FaqEntry) -> FaqVersion:
        """Return the live version of an FAQ entry."""
        return cls(entry.key, entry.category, entry.question, entry.answer, entry.alternates)

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        data = asdict(self)
        data["alternates"] = list(self.alternates)
        return data

    def as_entry(self) -> FaqEntry:
        """Return the FaqEntry the search index takes."""
        return FaqEntry(self.key, self.category, self.question, self.answer, self.alternates)


@dataclass(frozen=True)
class FaqRecord:
    """An FAQ as staff see it: live or retired, with when it last changed."""

    version: FaqVersion
    updated_at: datetime


@dataclass(frozen=True)
class DraftView:
    """A detached view of one draft."""

    id: int
    kind: str
    changes: tuple[FaqVersion, ...]
    base: dict[str, str | None]
    comment: str
    author: str
    status: str
    reviewer: str | None
    created_at: datetime
    decided_at: datetime | None

    @property
    def keys(self) -> list[str]:
        """Return the keys of the FAQs the draft changes."""
        return [c.key for c in self.changes]


@dataclass(frozen=True)
class RevisionView:
    """A detached view of one revision."""

    id: int
    faq_key: str
    before: FaqVersion | None
    after: FaqVersion
    author: str
    reviewer: str
    comment: str
    draft_id: int | None
    created_at: datetime


@dataclass
class PublishResult:
    """What a publish changed."""

    draft: DraftView
    revisions: list[int] = field(default_factory=list)


def _version(faq: Faq) -> FaqVersion:
    return FaqVersion(faq.key, faq.category, faq.question, faq.answer,
                      tuple(p.text for p in faq.phrasings), faq.active)


def _draft_view(draft: FaqDraft) -> DraftView:
    return DraftView(draft.id, draft.kind, tuple(FaqVersion.from_dict(c) for c in draft.changes),
                     dict(draft.base), draft.comment, draft.author, draft.status, draft.reviewer,
                     draft.created_at, draft.decided_at)


def _revision_view(rev: FaqRevision) -> RevisionView:
    return RevisionView(rev.id, rev.faq_key,
                        FaqVersion.from_dict(rev.before) if rev.before else None,
                        FaqVersion.from_dict(rev.after), rev.author, rev.reviewer, rev.comment,
                        rev.draft_id, rev.created_at)


def _stamp(moment: datetime | None) -> str | None:
    # SQLite returns naive UTC datetimes, PostgreSQL aware ones in the session's zone.
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat()


def validate_version(version: FaqVersion) -> FaqVersion:
    """Return the version trimmed; raise ReviewRefused naming the first empty or bad field."""
    fields = {"key": version.key.strip(), "category": version.category.strip(),
              "question": version.question.strip(), "answer": version.answer.strip()}
    for name, value in fields.items():
        if not value:
            raise ReviewRefused(f"{version.key or 'new FAQ'}: {name} must not be empty")
    if not _KEY.fullmatch(fields["key"]):
        raise ReviewRefused(f"{fields['key']}: keys are letters, digits, _ - . ? (at most 100)")
    alternates: list[str] = []
    for text in version.alternates:
        text = " ".join(text.split())
        if text and text.casefold() not in {a.casefold() for a in alternates}:
            alternates.append(text)
    return FaqVersion(**fields, alternates=tuple(alternates), active=version.active)


class ReviewStore:
    """Owns drafts, revisions and publishing, and the staff-facing FAQ listing."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # --- reading FAQs as staff see them ---------------------------------------------------

    def list_records(self, *, include_retired: bool = True) -> list[FaqRecord]:
        """Return every FAQ, live and retired, by key."""
        query = select(Faq).options(selectinload(Faq.phrasings)).order_by(Faq.key)
        if not include_retired:
            query = query.where(Faq.active.is_(True))
        with self.db.session() as session:
            return [FaqRecord(_version(f), f.updated_at) for f in session.scalars(query)]

    def get_record(self, *, key: str) -> FaqRecord:
        """Return one FAQ, live or retired."""
        with self.db.session() as session:
            faq = session.scalar(select(Faq).where(Faq.key == key)
                                 .options(selectinload(Faq.phrasings)))
            if faq is None:
                raise FaqNotFound(faq_key=key)
            return FaqRecord(_version(faq), faq.updated_at)

    # --- drafts ---------------------------------------------------------------------------

    def create_draft(self, *, changes: list[FaqVersion], author: str, comment: str,
                     kind: str = "edit") -> DraftView:
        """Save proposed content as one pending draft; refuse duplicates across FAQs."""
        if not changes:
            raise ReviewRefused("The draft changes nothing.")
        if not comment.strip():
            raise ReviewRefused("Say why: the comment is recorded in the history.")
        changes = [validate_version(c) for c in changes]
        keys = [c.key for c in changes]
        if len(set(keys)) != len(keys):
            raise ReviewRefused("A draft can change each FAQ only once.")
        with self.db.session() as session:
            current = self._current(session, keys)
            taken = [k for k in keys if k in current]
            if kind == "new" and taken:
                raise ReviewRefused(f"An FAQ with the key {taken[0]} exists already.")
            self._refuse_duplicates(session, changes)
            draft = FaqDraft(kind=kind, changes=[c.as_dict() for c in changes],
                             base={k: _stamp(current[k].updated_at) if k in current else None
                                   for k in keys},
                             comment=comment.strip(), author=author, status=PENDING)
            session.add(draft)
            session.flush()
            return _draft_view(draft)

    def get_draft(self, *, draft_id: int) -> DraftView:
        """Return one draft."""
        with self.db.session() as session:
            draft = session.get(FaqDraft, draft_id)
            if draft is None:
                raise DraftNotFound(draft_id=draft_id)
            return _draft_view(draft)

    def list_drafts(self, *, status: str | None = PENDING, limit: int = 200) -> list[DraftView]:
        """Return drafts, newest first, of one status or all."""
        query = select(FaqDraft).order_by(FaqDraft.id.desc()).limit(limit)
        if status is not None:
            query = query.where(FaqDraft.status == status)
        with self.db.session() as session:
            return [_draft_view(d) for d in session.scalars(query)]

    def discard_draft(self, *, draft_id: int, by: str) -> DraftView:
        """Close a pending draft without publishing it."""
        with self.db.session() as session:
            draft = self._pending(session, draft_id)
            draft.status, draft.reviewer, draft.decided_at = DISCARDED, by, utcnow()
            return _draft_view(draft)

    def publish_draft(self, *, draft_id: int, reviewer: str) -> PublishResult:
        """Make a draft live and record a revision per FAQ, all in one transaction.

        Raises:
            ReviewRefused: the reviewer wrote the draft, an FAQ changed since the draft was
                made, or the content duplicates another FAQ.
        """
        with self.db.session() as session:
            draft = self._pending(session, draft_id)
            if draft.author == reviewer:
                raise ReviewRefused("A draft must be published by someone other than its author.")
            changes = [FaqVersion.from_dict(c) for c in draft.changes]
            current = self._current(session, [c.key for c in changes], lock=True)
            for change in changes:
                faq = current.get(change.key)
                if _stamp(faq.updated_at if faq else None) != draft.base.get(change.key):
                    raise ReviewRefused(f"{change.key} changed after this draft was made; "
                                        "discard it and edit the current version.")
            self._refuse_duplicates(session, changes)
            now = utcnow()
            result_ids: list[FaqRevision] = []
            for change in changes:
                faq = current.get(change.key)
                before = _version(faq).as_dict() if faq is not None else None
                if faq is None:
                    faq = Faq(key=change.key)
                    session.add(faq)
                faq.category, faq.question, faq.answer = (change.category, change.question,
                                                          change.answer)
                faq.active = change.active
                faq.phrasings = [FaqPhrasing(text=t) for t in change.alternates]
                faq.updated_at = now
                revision = FaqRevision(faq_key=change.key, before=before, after=change.as_dict(),
                                       author=draft.author, reviewer=reviewer,
                                       comment=draft.comment, draft_id=draft.id, created_at=now)
                session.add(revision)
                result_ids.append(revision)
            draft.status, draft.reviewer, draft.decided_at = PUBLISHED, reviewer, now
            session.flush()
            return PublishResult(_draft_view(draft), [r.id for r in result_ids])

    # --- history --------------------------------------------------------------------------

    def list_revisions(self, *, key: str | None = None, draft_id: int | None = None,
                       limit: int = 200) -> list[RevisionView]:
        """Return revisions, newest first, of one FAQ, one draft, or all."""
        query = select(FaqRevision).order_by(FaqRevision.id.desc()).limit(limit)
        if key is not None:
            query = query.where(FaqRevision.faq_key == key)
        if draft_id is not None:
            query = query.where(FaqRevision.draft_id == draft_id)
        with self.db.session() as session:
            return [_revision_view(r) for r in session.scalars(query)]

    def get_revision(self, *, revision_id: int) -> RevisionView:
        """Return one revision."""
        with self.db.session() as session:
            revision = session.get(FaqRevision, revision_id)
            if revision is None:
                raise RevisionNotFound(revision_id=revision_id)
            return _revision_view(revision)

    def draft_rollback(self, *, revision_id: int, author: str, comment: str,
                       side: str = "after") -> DraftView:
        """Propose the content an FAQ had after (or before) a past revision, as a draft.

        Publishing it is reviewed and recorded like any other change.
        """
        revision = self.get_revision(revision_id=revision_id)
        content = revision.before if side == "before" else revision.after
        if content is None:
            raise ReviewRefused(f"{revision.faq_key} did not exist before revision {revision.id}.")
        if not comment.strip():
            raise ReviewRefused("Say why: the comment is recorded in the history.")
        return self.create_draft(changes=[content], author=author, kind="rollback",
                                 comment=f"Roll back {revision.faq_key} to the content {side} "
                                         f"revision {revision.id}: {comment.strip()}")

    # --- helpers --------------------------------------------------------------------------

    @staticmethod
    def _pending(session: Session, draft_id: int) -> FaqDraft:
        draft = session.scalar(select(FaqDraft).where(FaqDraft.id == draft_id).with_for_update())
        if draft is None:
            raise DraftNotFound(draft_id=draft_id)
        if draft.status != PENDING:
            raise ReviewRefused(f"Draft {draft_id} is already {draft.status}.")
        return draft

    @staticmethod
    def _current(session: Session, keys: list[str], *, lock: bool = False) -> dict[str, Faq]:
        query = select(Faq).where(Faq.key.in_(keys)).options(selectinload(Faq.phrasings))
        if lock:
            query = query.with_for_update()
        return {f.key: f for f in session.scalars(query)}

    @staticmethod
    def _refuse_duplicates(session: Session, changes: list[FaqVersion]) -> None:
        live = session.scalars(select(Faq).where(Faq.active.is_(True))
                               .options(selectinload(Faq.phrasings)))
        others = [_version(f) for f in live]
        problems = find_duplicates(changes, others)
        if problems:
            raise ReviewRefused("Exact duplicates across FAQs: " + "; ".join(problems))
