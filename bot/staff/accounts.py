"""Staff accounts: users with roles, argon2 password hashes, lock-out and server-side sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from bot.config import Settings
from bot.db import Base, Database
from bot.errors import BotError
from bot.faq.models import utcnow

EDITOR, REVIEWER, ADMIN = "editor", "reviewer", "admin"
# Each role can do everything the roles before it can.
ROLES = (EDITOR, REVIEWER, ADMIN)
MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe())


class StaffUser(Base):
    """A member of staff who can sign in to the console."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StaffSession(Base):
    """A signed-in browser; the cookie holds the token, the table only its hash."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"),
                                         index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccountError(BotError):
    """A staff account request that cannot be done."""

    status_code = 400


class LoginFailed(BotError):
    """Wrong username or password, or the account is locked or disabled; says no more than that."""

    status_code = 401

    def __init__(self) -> None:
        super().__init__("Wrong username or password, or the account is locked.")


class UserNotFound(BotError):
    """No staff user has the given id or name."""

    status_code = 404

    def __init__(self, *, user: int | str) -> None:
        super().__init__(f"Staff user not found: {user}")


@dataclass(frozen=True)
class UserView:
    """A detached view of one staff user, without the hash."""

    id: int
    username: str
    role: str
    active: bool
    failed_logins: int
    locked_until: datetime | None

    def can(self, role: str) -> bool:
        """Return whether this user has the role or a higher one."""
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def locked(self) -> bool:
        """Return whether failed logins have locked the account right now."""
        return self.locked_until is not None and self.locked_until > utcnow()


@dataclass(frozen=True)
class SignedIn:
    """The user behind a session and the session's CSRF token."""

    user: UserView
    csrf_token: str


def aware(moment: datetime | None) -> datetime | None:
    """Return the time as UTC-aware: SQLite hands timezone columns back naive."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _view(user: StaffUser) -> UserView:
    return UserView(user.id, user.username, user.role, user.active, user.failed_logins,
                    aware(user.locked_until))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str) -> str:
    """Return the password if it is long enough to be set; raise AccountError otherwise."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    return password


def check_role(role: str) -> str:
    """Return the role if it exists; raise AccountError otherwise."""
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    return role


class AccountStore:
    """Owns every staff user and session query."""

    def __init__(self, db: Database, *, max_failed_logins: int, lockout: timedelta,
                 session_length: timedelta) -> None:
        self.db = db
        self.max_failed_logins = max_failed_logins
        self.lockout = lockout
        self.session_length = session_length

    @classmethod
    def for_settings(cls, db: Database, settings: Settings) -> AccountStore:
        """Return the store with the lock-out and session lengths from Settings."""
        return cls(db, max_failed_logins=settings.staff_max_failed_logins,
                   lockout=timedelta(minutes=settings.staff_lockout_minutes),
                   session_length=timedelta(hours=settings.staff_session_hours))

    def add_user(self, *, username: str, password: str, role: str) -> UserView:
        """Create a staff user; raise AccountError if the name is taken or the input is weak."""
        username = username.strip()
        if not username or len(username) > 100:
            raise AccountError("Usernames need 1 to 100 characters.")
        check_role(role)
        password_hash = _hasher.hash(check_password(password))
        with self.db.session() as session:
            if session.scalar(select(StaffUser).where(StaffUser.username == username)):
                raise AccountError(f"The username {username!r} is taken.")
            user = StaffUser(username=username, password_hash=password_hash, role=role,
                             active=True, failed_logins=0)
            session.add(user)
            session.flush()
            return _view(user)

    def get_user(self, *, username: str) -> UserView:
        """Return the staff user with this name."""
        with self.db.session() as session:
            user = session.scalar(select(StaffUser).where(StaffUser.username == username))
            if user is None:
                raise UserNotFound(user=username)
            return _view(user)

    def list_users(self) -> list[UserView]:
        """Return every staff user by name."""
        with self.db.session() as session:
            users = session.scalars(select(StaffUser).order_by(StaffUser.username))
            return [_view(u) for u in users]

    def count_users(self) -> int:
        """Return how many staff users exist."""
        return len(self.list_users())

    def authenticate(self, *, username: str, password: str) -> UserView:
        """Return the user if the password is right and the account usable; count failures.

        Raises:
            LoginFailed: for a wrong name or password, a disabled or a locked account alike.
        """
        with self.db.session() as session:
            user = session.scalar(
                select(StaffUser).where(StaffUser.username == username).with_for_update()
            )
            if user is None:
                _verify(_DUMMY_HASH, password)
                raise LoginFailed()
            now = utcnow()
            locked_until = aware(user.locked_until)
            if locked_until is not None and locked_until > now:
                raise LoginFailed()
            if not _verify(user.password_hash, password) or not user.active:
                user.failed_logins += 1
                if user.failed_logins >= self.max_failed_logins:
                    user.locked_until = now + self.lockout
                    user.failed_logins = 0
                failed = True
            else:
                failed = False
                user.failed_logins = 0
                user.locked_until = None
                if _hasher.check_needs_rehash(user.password_hash):
                    user.password_hash = _hasher.hash(password)
            view = _view(user)
        if failed:  # committed above: the count must survive the refusal
            raise LoginFailed()
        return view

    def update_user(self, *, user_id: int, role: str | None = None, active: bool | None = None,
                    password: str | None = None, unlock: bool = False) -> UserView:
        """Change a user's role, status or password, or lift a lock-out."""
        with self.db.session() as session:
            user = session.get(StaffUser, user_id)
            if user is None:
                raise UserNotFound(user=user_id)
            if role is not None:
                user.role = check_role(role)
            if password is not None:
                user.password_hash = _hasher.hash(check_password(password))
            if active is not None:
                user.active = active
            if unlock:
                user.locked_until, user.failed_logins = None, 0
            if active is False or password is not None:
                session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
            return _view(user)

    def open_session(self, *, user_id: int) -> tuple[str, str]:
        """Start a session; return its token (for the cookie) and its CSRF token."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.db.session() as session:
            session.execute(delete(StaffSession).where(StaffSession.expires_at < utcnow()))
            session.add(StaffSession(token_hash=_token_hash(token), user_id=user_id,
                                     csrf_token=csrf,
                                     expires_at=utcnow() + self.session_length))
        return token, csrf

    def session_user(self, *, token: str) -> SignedIn | None:
        """Return who holds this session token, or None if it is unknown, expired or disabled."""
        with self.db.session() as session:
            row = session.execute(
                select(StaffSession, StaffUser)
                .join(StaffUser, StaffUser.id == StaffSession.user_id)
                .where(StaffSession.token_hash == _token_hash(token))
            ).first()
            if row is None:
                return None
            staff_session, user = row
            expires_at = aware(staff_session.expires_at)
            if not user.active or expires_at is None or expires_at <= utcnow():
                return None
            return SignedIn(_view(user), staff_session.csrf_token)

    def close_session(self, *, token: str) -> None:
        """End a session (logout)."""
        with self.db.session() as session:
            session.execute(
                delete(StaffSession).where(StaffSession.token_hash == _token_hash(token)))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
