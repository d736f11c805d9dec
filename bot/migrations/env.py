"""Alembic environment: migrates the database named in the config, online only."""

from alembic import context
from sqlalchemy import engine_from_config, pool

import bot.faq.models
import bot.faq.review
import bot.feedback
import bot.staff.accounts
import bot.staff.inbox
import bot.tickets  # noqa: F401
from bot.db import Base

config = context.config
connectable = engine_from_config(
    config.get_section(config.config_ini_section, {}),
    prefix="sqlalchemy.",
    poolclass=pool.NullPool,
)
with connectable.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
