"""The unanswered inbox (grouped escalated and declined messages) and escalation tickets."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from bot.console.auth import Console, ConsoleDep, Editor, page
from bot.faq.review import FaqVersion
from bot.staff.inbox import DISMISSED, HANDLED, MessageGroup, group_messages

router = APIRouter(tags=["inbox"])


def _base(request: Request) -> str:
    return request.scope.get("root_path", "")


def inbox_groups(c: Console) -> list[MessageGroup]:
    """Return the new unanswered messages grouped by similarity, newest group first."""
    messages = c.inbox.list_new()
    if not messages:
        return []
    vectors = c.services.embedder.encode([m.text for m in messages])
    return group_messages(messages, vectors,
                          similarity=c.services.settings.inbox_group_similarity)


@router.get("/inbox")
async def inbox(request: Request, who: Editor, c: ConsoleDep) -> Response:
    groups = await run_in_threadpool(inbox_groups, c)
    keys = [r.version.key for r in c.reviews.list_records(include_retired=False)]
    return page(request, c, who, "inbox.html", groups=groups, keys=keys,
                choices=c.inbox.choice_counts())


@router.post("/inbox/{message_id}/alternate")
def add_as_alternate(request: Request, who: Editor, c: ConsoleDep, message_id: int,
                     faq_key: Annotated[str, Form()]) -> Response:
    message = c.inbox.get_message(message_id=message_id)
    v = c.reviews.get_record(key=faq_key).version
    change = FaqVersion(v.key, v.category, v.question, v.answer, (*v.alternates, message.text),
                        v.active)
    draft = c.reviews.create_draft(changes=[change], author=who.user.username, kind="inbox",
                                   comment=f"Customer phrasing from the unanswered inbox "
                                           f"(message {message_id})")
    c.inbox.close_messages(message_ids=[message_id], status=HANDLED, by=who.user.username)
    return RedirectResponse(f"{_base(request)}/drafts/{draft.id}", status_code=303)


@router.post("/inbox/{message_id}/new-faq")
def start_new_faq(request: Request, who: Editor, c: ConsoleDep, message_id: int) -> Response:
    message = c.inbox.get_message(message_id=message_id)
    query = urlencode({"question": message.text, "message_id": message_id})
    return RedirectResponse(f"{_base(request)}/faqs/new?{query}", status_code=303)


@router.post("/inbox/{message_id}/dismiss")
def dismiss(request: Request, who: Editor, c: ConsoleDep, message_id: int) -> Response:
    c.inbox.get_message(message_id=message_id)
    c.inbox.close_messages(message_ids=[message_id], status=DISMISSED, by=who.user.username)
    return RedirectResponse(f"{_base(request)}/inbox", status_code=303)


@router.get("/tickets")
def list_tickets(request: Request, who: Editor, c: ConsoleDep, status: str = "open",
                 reason: str = "") -> Response:
    tickets = c.services.tickets.list_tickets(status=None if status == "all" else status,
                                              reason=reason or None)
    return page(request, c, who, "tickets.html", tickets=tickets, status=status, reason=reason)


@router.get("/tickets/{reference}")
def view_ticket(request: Request, who: Editor, c: ConsoleDep, reference: str) -> Response:
    return page(request, c, who, "ticket.html",
                ticket=c.services.tickets.get_ticket(reference=reference))


@router.post("/tickets/{reference}/close")
def close_ticket(request: Request, who: Editor, c: ConsoleDep, reference: str,
                 note: Annotated[str, Form()]) -> Response:
    c.services.tickets.close_ticket(reference=reference, note=note.strip(),
                                    closed_by=who.user.username)
    return RedirectResponse(f"{_base(request)}/tickets/{reference}", status_code=303)
