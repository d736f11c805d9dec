"""HTTP for the chat widget: its static files, the demo help page and customers' ratings."""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Template
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from bot.config import Settings
from bot.feedback import FeedbackStore
from bot.services import Services

WIDGET_DIR = Path(__file__).resolve().parent
STATIC_DIR = WIDGET_DIR / "static"
STATIC_PATH = "/widget"
# Ratings come from the widget on the bank's own pages, another origin than this service.
FEEDBACK_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}

Id = Annotated[str, Field(min_length=1, max_length=255)]


class FeedbackCreate(BaseModel):
    """A rating the widget sends for one of the assistant's messages."""

    conversation_id: Id
    message_id: Id
    message: Annotated[str, Field(min_length=1, max_length=10_000)]
    question: Annotated[str, Field(max_length=10_000)] = ""
    rating: Literal["up", "down"]


def socket_url(settings: Settings, request: Request) -> str:
    """Return the Rasa URL the widget's socket connects to, as this request's browser sees it."""
    if settings.public_rasa_url:
        return settings.public_rasa_url.rstrip("/")
    host = request.url.hostname or "127.0.0.1"
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    return f"{request.url.scheme}://{host}:{settings.rasa_port}"


def embed_snippet(*, script_url: str, server_url: str) -> str:
    """Return the one script tag that adds the widget to a page."""
    template = Template((WIDGET_DIR / "embed.html").read_text(encoding="utf-8"))
    return template.substitute(script_url=escape(script_url), server_url=escape(server_url))


def demo_page(*, snippet: str) -> str:
    """Return the demo help page of the fictional bank, with the widget embedded."""
    template = Template((WIDGET_DIR / "demo.html").read_text(encoding="utf-8"))
    return template.substitute(snippet=snippet, escaped_snippet=escape(snippet))


def widget_router(services: Services) -> APIRouter:
    """Return the routes of the demo page and the ratings endpoint."""
    router = APIRouter(tags=["widget"])
    feedback = FeedbackStore(services.db)

    @router.get("/", response_class=HTMLResponse)
    def demo(request: Request) -> str:
        script_url = str(request.url_for("widget", path="bramblewood-chat.js"))
        return demo_page(snippet=embed_snippet(
            script_url=script_url, server_url=socket_url(services.settings, request)))

    @router.options("/feedback")
    def feedback_preflight() -> Response:
        return Response(status_code=204, headers=FEEDBACK_CORS)

    @router.post("/feedback", status_code=201)
    async def rate_message(body: FeedbackCreate, response: Response) -> dict[str, str]:
        saved = await run_in_threadpool(
            lambda: feedback.rate_message(
                conversation_id=body.conversation_id,
                message_id=body.message_id,
                message=body.message,
                question=body.question,
                rating=body.rating,
            )
        )
        response.headers.update(FEEDBACK_CORS)
        return {"message_id": saved.message_id, "rating": saved.rating}

    return router


def mount_widget(app: FastAPI, services: Services) -> None:
    """Serve the widget's files under /widget, the demo page at / and POST /feedback."""
    app.include_router(widget_router(services))
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="widget")
