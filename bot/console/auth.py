"""Console sessions: signed cookies over server-side sessions, roles and CSRF tokens."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import Environment, FileSystemLoader

from bot.errors import BotError
from bot.faq.review import ReviewStore
from bot.services import Services
from bot.staff.accounts import ADMIN, EDITOR, REVIEWER, AccountStore, SignedIn
from bot.staff.inbox import InboxStore

logger = logging.getLogger(__name__)

SESSION_COOKIE = "bankbot_staff"
LOGIN_CSRF_COOKIE = "bankbot_staff_login"


class NotSignedIn(BotError):
    """The request carries no valid console session."""

    status_code = 401

    def __init__(self) -> None:
        super().__init__("Sign in to use the staff console.")


class Forbidden(BotError):
    """The signed-in user's role does not allow this, or the CSRF token is wrong."""

    status_code = 403


@dataclass
class Console:
    """What every console route needs: the services, the staff stores, templates, the signer."""

    services: Services

    @cached_property
    def accounts(self) -> AccountStore:
        """Return the staff account store."""
        return AccountStore.for_settings(self.services.db, self.services.settings)

    @cached_property
    def reviews(self) -> ReviewStore:
        """Return the drafts, revisions and publishing store."""
        return ReviewStore(self.services.db)

    @cached_property
    def inbox(self) -> InboxStore:
        """Return the unanswered-message store."""
        return self.services.inbox

    @cached_property
    def templates(self) -> Jinja2Templates:
        """Return the page templates, autoescaping everything."""
        env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                          autoescape=True)
        return Jinja2Templates(env=env)

    @cached_property
    def signer(self) -> URLSafeTimedSerializer:
        """Return the cookie signer keyed by BOT_SECRET_KEY."""
        secret = self.services.settings.secret_key
        if secret is None:
            # Settings refuse this outside development and test; sessions then last one process.
            logger.warning("BOT_SECRET_KEY is not set: console sessions end when this process does")
            key = secrets.token_urlsafe(32)
        else:
            key = secret.get_secret_value()
        return URLSafeTimedSerializer(key, salt="bankbot-staff-session")

    @property
    def secure_cookies(self) -> bool:
        """Return whether cookies are sent over HTTPS only."""
        return self.services.settings.environment == "production"

    @property
    def session_seconds(self) -> int:
        """Return how long a login lasts."""
        return int(self.services.settings.staff_session_hours * 3600)


def console(request: Request) -> Console:
    """Return the console context of the app serving the request."""
    return request.app.state.console


ConsoleDep = Annotated[Console, Depends(console)]


def signed_in(request: Request, ctx: ConsoleDep) -> SignedIn:
    """Return who is signed in; raise NotSignedIn if nobody is."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise NotSignedIn()
    try:
        token = ctx.signer.loads(cookie, max_age=ctx.session_seconds)
    except BadSignature as exc:
        raise NotSignedIn() from exc
    found = ctx.accounts.session_user(token=str(token))
    if found is None:
        raise NotSignedIn()
    return found


async def check_csrf(request: Request, expected: str) -> None:
    """Refuse a form post whose csrf_token field is missing or wrong."""
    form = await request.form()
    given = form.get("csrf_token")
    if not isinstance(given, str) or not hmac.compare_digest(given, expected):
        raise Forbidden("The form has expired or did not come from this console; reload it.")


def require(role: str) -> Callable:
    """Return a dependency: signed in, with this role or higher, and a valid CSRF token on posts."""

    async def dependency(
        request: Request, who: Annotated[SignedIn, Depends(signed_in)]
    ) -> SignedIn:
        if not who.user.can(role):
            raise Forbidden(f"This needs the {role} role.")
        if request.method not in ("GET", "HEAD"):
            await check_csrf(request, who.csrf_token)
        return who

    return dependency


Editor = Annotated[SignedIn, Depends(require(EDITOR))]
Reviewer = Annotated[SignedIn, Depends(require(REVIEWER))]
Admin = Annotated[SignedIn, Depends(require(ADMIN))]


def page(request: Request, ctx: Console, who: SignedIn | None, name: str, *,
         status_code: int = 200, **context: object):  # type: ignore[no-untyped-def]
    """Return a rendered console page with the base URL, the user and their CSRF token."""
    return ctx.templates.TemplateResponse(
        request, name,
        {"base": request.scope.get("root_path", ""), "who": who,
         "csrf": who.csrf_token if who else "", "index_error": ctx.services.index.last_error,
         **context},
        status_code=status_code,
    )
