"""Throw-away workspaces for tests and benchmarks: a seeded database beside trained artifacts."""

from __future__ import annotations

import socket
from pathlib import Path

from bot.config import Settings
from bot.faq.seed import load_shipped
from bot.migrate import upgrade
from bot.services import Services
from bot.stack import link_trained_artifacts


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seeded_workspace(source_var: Path, var_dir: Path, database_url: str = "",
                     **overrides: object) -> Settings:
    """Return settings for a migrated, seeded database under var_dir.

    var_dir shares source_var's trained router, embedding cache and encoder exports.
    """
    settings = Settings(var_dir=link_trained_artifacts(source_var, var_dir),
                        database_url=database_url, **overrides)
    upgrade(settings.db_url)
    services = Services(settings)
    services.faqs.upsert_faqs(load_shipped(settings.data_dir))
    services.db.dispose()
    return settings
