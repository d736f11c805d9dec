"""User administration (admins only): add users, change roles, disable, unlock, reset passwords."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from bot.console.auth import Admin, ConsoleDep, page
from bot.staff.accounts import ROLES, AccountError

router = APIRouter(prefix="/users", tags=["users"])


def _users_page(request: Request, who, c, *, error: str = "", status_code: int = 200):  # type: ignore[no-untyped-def]
    return page(request, c, who, "users.html", status_code=status_code,
                users=c.accounts.list_users(), roles=ROLES, error=error)


@router.get("")
def list_users(request: Request, who: Admin, c: ConsoleDep) -> Response:
    return _users_page(request, who, c)


@router.post("")
def add_user(request: Request, who: Admin, c: ConsoleDep, username: Annotated[str, Form()],
             password: Annotated[str, Form()], role: Annotated[str, Form()]) -> Response:
    try:
        c.accounts.add_user(username=username, password=password, role=role)
    except AccountError as exc:
        return _users_page(request, who, c, error=exc.message, status_code=400)
    return RedirectResponse(f"{request.scope.get('root_path', '')}/users", status_code=303)


@router.post("/{user_id}")
def update_user(request: Request, who: Admin, c: ConsoleDep, user_id: int,
                action: Annotated[str, Form()], role: Annotated[str, Form()] = "",
                password: Annotated[str, Form()] = "") -> Response:
    if user_id == who.user.id and action in ("disable", "role"):
        return _users_page(request, who, c, status_code=400,
                           error="You cannot disable yourself or change your own role.")
    changes = {
        "role": {"role": role},
        "disable": {"active": False},
        "enable": {"active": True},
        "unlock": {"unlock": True},
        "password": {"password": password},
    }.get(action)
    if changes is None:
        return _users_page(request, who, c, error=f"Unknown action {action!r}.", status_code=400)
    try:
        c.accounts.update_user(user_id=user_id, **changes)  # type: ignore[arg-type]
    except AccountError as exc:
        return _users_page(request, who, c, error=exc.message, status_code=400)
    return RedirectResponse(f"{request.scope.get('root_path', '')}/users", status_code=303)
