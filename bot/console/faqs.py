"""FAQ pages: list, search and filter, view with history, new, edit, retire, roll back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from bot.console.auth import ConsoleDep, Editor, page
from bot.console.render import diff_versions, render_markdown
from bot.faq.guardrails import normalise
from bot.faq.review import FaqVersion, ReviewRefused
from bot.search.index import FULL_PHRASINGS
from bot.staff.inbox import HANDLED

router = APIRouter(prefix="/faqs", tags=["faqs"])


def split_lines(text: str) -> tuple[str, ...]:
    """Return the non-empty lines of a textarea."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _base(request: Request) -> str:
    return request.scope.get("root_path", "")


@router.get("")
def list_faqs(request: Request, who: Editor, c: ConsoleDep, q: str = "", category: str = "",
              show: str = "live") -> Response:
    records = c.reviews.list_records()
    categories = sorted({r.version.category for r in records})
    needle = normalise(q)
    shown = [
        r for r in records
        if (show == "all" or r.version.active == (show != "retired"))
        and (not category or r.version.category == category)
        and (not needle or any(needle in normalise(t) for t in
                               (r.version.key, r.version.question, r.version.answer,
                                *r.version.alternates)))
    ]
    pending = {k for d in c.reviews.list_drafts() for k in d.keys}
    return page(request, c, who, "faqs.html", records=shown, categories=categories, q=q,
                category=category, show=show, pending=pending)


def _form_version(key: str, category: str, question: str, answer: str,
                  alternates: str) -> FaqVersion:
    return FaqVersion(key=key.strip(), category=category.strip(), question=question.strip(),
                      answer=answer.strip(), alternates=split_lines(alternates))


@router.get("/new")
def new_faq_form(request: Request, who: Editor, c: ConsoleDep, question: str = "",
                 message_id: int | None = None) -> Response:
    categories = sorted({r.version.category for r in c.reviews.list_records()})
    return page(request, c, who, "faq_edit.html", version=None, categories=categories,
                form={"question": question, "key": "", "category": "", "answer": "",
                      "alternates": "", "comment": ""}, message_id=message_id)


@router.post("/new")
def create_faq(request: Request, who: Editor, c: ConsoleDep, key: Annotated[str, Form()],
               category: Annotated[str, Form()], question: Annotated[str, Form()],
               answer: Annotated[str, Form()], comment: Annotated[str, Form()],
               alternates: Annotated[str, Form()] = "",
               message_id: Annotated[int | None, Form()] = None) -> Response:
    version = _form_version(key, category, question, answer, alternates)
    try:
        draft = c.reviews.create_draft(changes=[version], author=who.user.username,
                                       comment=comment, kind="new")
    except ReviewRefused as exc:
        categories = sorted({r.version.category for r in c.reviews.list_records()})
        return page(request, c, who, "faq_edit.html", status_code=409, version=None,
                    categories=categories, error=exc.message, message_id=message_id,
                    form={"key": key, "category": category, "question": question,
                          "answer": answer, "alternates": alternates, "comment": comment})
    if message_id is not None:
        c.inbox.close_messages(message_ids=[message_id], status=HANDLED, by=who.user.username)
    return RedirectResponse(f"{_base(request)}/drafts/{draft.id}", status_code=303)


@router.get("/{key}")
def view_faq(request: Request, who: Editor, c: ConsoleDep, key: str) -> Response:
    record = c.reviews.get_record(key=key)
    revisions = c.reviews.list_revisions(key=key)
    return page(request, c, who, "faq.html", record=record,
                answer_html=render_markdown(record.version.answer),
                revisions=[(r, diff_versions(r.before, r.after)) for r in revisions],
                drafts=[d for d in c.reviews.list_drafts() if key in d.keys],
                # Counted as the search index counts them (FaqIndex's boost for few phrasings).
                phrasings=len(record.version.as_entry().texts), full_phrasings=FULL_PHRASINGS)


@router.get("/{key}/edit")
def edit_faq_form(request: Request, who: Editor, c: ConsoleDep, key: str) -> Response:
    record = c.reviews.get_record(key=key)
    v = record.version
    categories = sorted({r.version.category for r in c.reviews.list_records()})
    return page(request, c, who, "faq_edit.html", version=v, categories=categories,
                form={"key": v.key, "category": v.category, "question": v.question,
                      "answer": v.answer, "alternates": "\n".join(v.alternates),
                      "comment": ""})


@router.post("/{key}/edit")
def edit_faq(request: Request, who: Editor, c: ConsoleDep, key: str,
             category: Annotated[str, Form()], question: Annotated[str, Form()],
             answer: Annotated[str, Form()], comment: Annotated[str, Form()],
             alternates: Annotated[str, Form()] = "") -> Response:
    record = c.reviews.get_record(key=key)
    version = _form_version(key, category, question, answer, alternates)
    version = FaqVersion(**{**version.as_dict(), "alternates": version.alternates,
                            "active": record.version.active})
    try:
        draft = c.reviews.create_draft(changes=[version], author=who.user.username,
                                       comment=comment)
    except ReviewRefused as exc:
        categories = sorted({r.version.category for r in c.reviews.list_records()})
        return page(request, c, who, "faq_edit.html", status_code=409, version=record.version,
                    categories=categories, error=exc.message,
                    form={"key": key, "category": category, "question": question,
                          "answer": answer, "alternates": alternates, "comment": comment})
    return RedirectResponse(f"{_base(request)}/drafts/{draft.id}", status_code=303)


@router.post("/{key}/retire")
def retire_faq(request: Request, who: Editor, c: ConsoleDep, key: str,
               comment: Annotated[str, Form()]) -> Response:
    v = c.reviews.get_record(key=key).version
    retired = FaqVersion(v.key, v.category, v.question, v.answer, v.alternates, active=False)
    draft = c.reviews.create_draft(changes=[retired], author=who.user.username,
                                   comment=comment, kind="retire")
    return RedirectResponse(f"{_base(request)}/drafts/{draft.id}", status_code=303)


@router.post("/{key}/rollback")
def rollback_faq(request: Request, who: Editor, c: ConsoleDep, key: str,
                 revision_id: Annotated[int, Form()], comment: Annotated[str, Form()],
                 side: Annotated[str, Form()] = "after") -> Response:
    revision = c.reviews.get_revision(revision_id=revision_id)
    if revision.faq_key != key:
        raise ReviewRefused(f"Revision {revision_id} is not of {key}.")
    draft = c.reviews.draft_rollback(revision_id=revision_id, author=who.user.username,
                                     comment=comment, side=side)
    return RedirectResponse(f"{_base(request)}/drafts/{draft.id}", status_code=303)
