"""Schema migrations with Alembic, configured in code so they run from any directory."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from bot.db import make_engine
from bot.errors import BotError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """Return an Alembic config for the database at url."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Alembic's config is ConfigParser-based: a literal % must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database schema up to the revision."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


class SchemaNotCurrent(BotError):
    """The database is unreachable or its schema is not the one this code was written for."""

    status_code = 503


def require_current_schema(url: str) -> None:
    """Raise SchemaNotCurrent unless the database's schema is at the newest migration.

    The service checks before it starts: on an older schema it would answer customers but
    lose every write to a new column, and staff pages would fail.
    """
    engine = make_engine(url)
    shown = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as exc:
        raise SchemaNotCurrent(f"cannot read the database at {shown}: {exc}") from exc
    finally:
        engine.dispose()
    head = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    if current != head:
        found = ", ".join(sorted(current)) or "none (an empty database)"
        raise SchemaNotCurrent(
            f"the database at {shown} has schema revision {found}; this version needs "
            f"{', '.join(sorted(head))}. Run `bankbot db upgrade` (or `make db-upgrade`) first.")
