"""Review pages: pending drafts with diffs and guardrail flags, publish, discard, Try it."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from bot.console.auth import Console, ConsoleDep, Editor, Forbidden, Reviewer, page
from bot.console.render import diff_versions, render_markdown
from bot.decision import Decider, Decision
from bot.faq.guardrails import NearnessFlag, flag_alternates
from bot.faq.review import PENDING, PUBLISHED, DraftView, FaqVersion
from bot.search.index import FaqIndex
from bot.search.live import FixedIndex

router = APIRouter(tags=["review"])


@dataclass(frozen=True)
class Trial:
    """One Try-it result: the decision and the top three FAQs with scores."""

    label: str
    decision: Decision
    answer: str | None


def _base(request: Request) -> str:
    return request.scope.get("root_path", "")


def _live_versions(c: Console) -> dict[str, FaqVersion]:
    return {r.version.key: r.version for r in c.reviews.list_records(include_retired=False)}


def draft_flags(c: Console, draft: DraftView) -> list[NearnessFlag]:
    """Return the guardrail flags of a draft against the content serving now."""
    return flag_alternates(list(draft.changes), _live_versions(c), c.services.embedder,
                           c.services.index.current)


def try_text(c: Console, text: str, draft: DraftView | None) -> list[Trial]:
    """Return the decision for the text on the live content and, if given, with the draft applied.

    Both go through Decider.decide, the one decision point; the draft gets its own index.
    """
    services = c.services
    live = services.decider.decide(text)
    trials = [Trial("Live", live, _answer(services.index.current, live))]
    if draft is not None:
        entries = _live_versions(c)
        for change in draft.changes:
            if change.active:
                entries[change.key] = change
            else:
                entries.pop(change.key, None)
        index = FaqIndex.build([v.as_entry() for v in entries.values()], services.embedder)
        decider = Decider(services.settings, services.embedder, services.router,
                          FixedIndex(index))
        decision = decider.decide(text)
        trials.append(Trial(f"With draft {draft.id}", decision, _answer(index, decision)))
    return trials


def _answer(index: FaqIndex, decision: Decision) -> str | None:
    entry = index.entries.get(decision.faq_key or "")
    return entry.answer if entry is not None and decision.decision == "answer" else None


@router.get("/drafts")
def list_drafts(request: Request, who: Editor, c: ConsoleDep, status: str = PENDING) -> Response:
    drafts = c.reviews.list_drafts(status=None if status == "all" else status)
    return page(request, c, who, "drafts.html", drafts=drafts, status=status)


@router.get("/drafts/{draft_id}")
async def view_draft(request: Request, who: Editor, c: ConsoleDep, draft_id: int,
                     text: str = "") -> Response:
    draft = c.reviews.get_draft(draft_id=draft_id)
    if draft.status == PUBLISHED:  # compare with what it replaced, not with itself
        befores = {r.faq_key: r.before for r in c.reviews.list_revisions(draft_id=draft.id)}
    else:
        befores = {r.version.key: r.version for r in c.reviews.list_records()}
    changes = [(change, befores.get(change.key), diff_versions(befores.get(change.key), change),
                render_markdown(change.answer)) for change in draft.changes]
    flags = await run_in_threadpool(draft_flags, c, draft) if draft.status == PENDING else []
    trials = await run_in_threadpool(try_text, c, text, draft) if text.strip() else []
    return page(request, c, who, "draft.html", draft=draft, changes=changes, flags=flags,
                text=text, trials=trials,
                can_publish=who.user.can("reviewer") and who.user.username != draft.author)


@router.post("/drafts/{draft_id}/publish")
async def publish_draft(request: Request, who: Reviewer, c: ConsoleDep,
                        draft_id: int) -> Response:
    await run_in_threadpool(c.reviews.publish_draft, draft_id=draft_id,
                            reviewer=who.user.username)
    # Rebuild here too, so this process serves the change at once; other processes poll.
    await run_in_threadpool(c.services.index.refresh)
    return RedirectResponse(f"{_base(request)}/drafts/{draft_id}", status_code=303)


@router.post("/drafts/{draft_id}/discard")
def discard_draft(request: Request, who: Editor, c: ConsoleDep, draft_id: int) -> Response:
    draft = c.reviews.get_draft(draft_id=draft_id)
    if draft.author != who.user.username and not who.user.can("reviewer"):
        raise Forbidden("Only the author or a reviewer can discard a draft.")
    c.reviews.discard_draft(draft_id=draft_id, by=who.user.username)
    return RedirectResponse(f"{_base(request)}/drafts", status_code=303)


@router.get("/try")
async def try_page(request: Request, who: Editor, c: ConsoleDep, text: str = "",
                   draft_id: int | None = None) -> Response:
    draft = c.reviews.get_draft(draft_id=draft_id) if draft_id else None
    trials = await run_in_threadpool(try_text, c, text, draft) if text.strip() else []
    return page(request, c, who, "try.html", text=text, trials=trials, draft=draft,
                drafts=c.reviews.list_drafts())
