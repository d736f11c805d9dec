"""Wiring of the staff console: a sub-application the bot service mounts at /staff."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from bot.console import faqs, inbox, review, transfer, users
from bot.console.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Console,
    ConsoleDep,
    Editor,
    Forbidden,
    NotSignedIn,
    page,
)
from bot.errors import BotError
from bot.faq.review import PENDING
from bot.services import Services
from bot.staff.accounts import LoginFailed

# The page modules; each has a `router`.
PAGES = (faqs, review, inbox, transfer, users)

SECURITY_HEADERS = {
    # The console runs no script at all; forms and links only.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def create_console(services: Services) -> FastAPI:
    """Return the console app over these services; mount it at /staff."""
    app = FastAPI(title="Bramblewood Bank staff console", docs_url=None, redoc_url=None,
                  openapi_url=None)
    ctx = Console(services)
    app.state.console = ctx
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if request.method in ("GET", "HEAD"):
            base = request.scope.get("root_path", "")
            return RedirectResponse(f"{base}/login", status_code=303)
        return page(request, ctx, None, "error.html", status_code=401, message=exc.message)

    @app.exception_handler(BotError)
    async def bot_error(request: Request, exc: BotError) -> Response:
        return page(request, ctx, None, "error.html", status_code=exc.status_code,
                    message=exc.message)

    @app.get("/login")
    def login_form(request: Request) -> Response:
        token = secrets.token_urlsafe(32)
        response = page(request, ctx, None, "login.html", login_csrf=token)
        _set_cookie(response, request, ctx, LOGIN_CSRF_COOKIE, token, max_age=3600)
        return response

    @app.post("/login")
    def login(request: Request, c: ConsoleDep, username: Annotated[str, Form()],
              password: Annotated[str, Form()],
              csrf_token: Annotated[str, Form()] = "") -> Response:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not secrets.compare_digest(expected, csrf_token):
            raise Forbidden("The login form has expired; reload it.")
        try:
            user = c.accounts.authenticate(username=username, password=password)
        except LoginFailed as exc:
            token = secrets.token_urlsafe(32)
            response = page(request, c, None, "login.html", status_code=401,
                            login_csrf=token, message=exc.message, username=username)
            _set_cookie(response, request, c, LOGIN_CSRF_COOKIE, token, max_age=3600)
            return response
        token, _csrf = c.accounts.open_session(user_id=user.id)
        response = RedirectResponse(f"{request.scope.get('root_path', '')}/", status_code=303)
        _set_cookie(response, request, c, SESSION_COOKIE, c.signer.dumps(token),
                    max_age=c.session_seconds)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path=_cookie_path(request))
        return response

    @app.post("/logout")
    def logout(request: Request, who: Editor, c: ConsoleDep) -> Response:
        c.accounts.close_session(token=c.signer.loads(request.cookies[SESSION_COOKIE]))
        response = RedirectResponse(f"{request.scope.get('root_path', '')}/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=_cookie_path(request))
        return response

    @app.get("/")
    def dashboard(request: Request, who: Editor, c: ConsoleDep) -> Response:
        index = c.services.index
        return page(request, c, who, "dashboard.html",
                    live_faqs=len(index.current),
                    drafts=len(c.reviews.list_drafts(status=PENDING)),
                    tickets=len(c.services.tickets.list_tickets(status="open")),
                    unanswered=len(c.inbox.list_new()),
                    recent=c.reviews.list_revisions(limit=10))

    for module in PAGES:
        app.include_router(module.router)
    return app


def _cookie_path(request: Request) -> str:
    return request.scope.get("root_path", "") or "/"


def _set_cookie(response: Response, request: Request, ctx: Console, name: str, value: str, *,
                max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=_cookie_path(request), httponly=True,
                        samesite="strict", secure=ctx.secure_cookies)
