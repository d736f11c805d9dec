"""Shared fixtures: real SQLite and PostgreSQL databases, the real model and router."""

from __future__ import annotations

import asyncio
import glob
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from bot.config import PROJECT_DIR, Settings
from bot.migrate import upgrade
from bot.services import Services
from bot.stack import Stack
from bot.workspace import free_port, seeded_workspace

SETUP_VAR = PROJECT_DIR / "var"
# A question scoring just under the answer threshold with the served encoder: offered choices,
# the FAQ it means among them. One place, as a retuned encoder may move it (2026-12-07).
NEAR_MISS = "what do you charge for using my card abroad"
NEAR_MISS_FAQ = "card_payment_fee_charged"
# Debian's chromium (`make system-deps`); Playwright's own browser download is not reachable
# from these machines, so its Python package drives the system browser.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


T = TypeVar("T")


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a fresh event loop in its own thread: the browser
    tests leave an event loop running in the main thread, where asyncio.run refuses to start."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def parsed_answer(reply: dict) -> str | None:
    """Return the FAQ answer a /model/parse reply carries (its faq_answer entity), if any."""
    return next((e["value"] for e in reply["entities"] if e["entity"] == "faq_answer"), None)


def seeded_settings(var_dir: Path, database_url: str = "", **overrides: object) -> Settings:
    """Return settings for a migrated, seeded database under var_dir, sharing `make setup`'s
    router and embedding cache."""
    if not (SETUP_VAR / "router.joblib").exists():
        pytest.fail("the router is not trained: run `make setup` first")
    return seeded_workspace(SETUP_VAR, var_dir, database_url, **overrides)


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """Return the real collaborators over a seeded SQLite database, loaded once per run."""
    services = Services(seeded_settings(tmp_path_factory.mktemp("shared") / "var"))
    services.warm_up()
    yield services
    services.db.dispose()


# --- PostgreSQL: a real server from Debian's package, on a free loopback port ---------------


def _pg_bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    if not found:
        pytest.fail("PostgreSQL is not installed: run `make system-deps`")
    return found[-1]


def _as_postgres(args: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; CI and these machines run the tests as root.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Start a throw-away PostgreSQL server; yield its admin URL."""
    root = Path(tempfile.mkdtemp(prefix="bankbot-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    subprocess.run(_as_postgres([_pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U",
                                 "postgres", "-E", "UTF8"]), check=True, capture_output=True)
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_postgres([_pg_bin("pg_ctl"), "-D", str(data), "-o", options, "-w",
                                 "-l", str(root / "server.log"), "start"]),
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_postgres([_pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
                       check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


_database_count = 0


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return the URL of a new, migrated database: SQLite file, then PostgreSQL."""
    global _database_count
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'bot.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        _database_count += 1
        name = f"bankbot_test_{_database_count}"
        admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        url = f"{server}/{name}"
    upgrade(url)
    return url


# --- The whole assistant and a browser, for end-to-end tests ---------------------------------


def running_stack(settings: Settings) -> Iterator[Stack]:
    """Yield the bot service and Rasa started with these settings; stop both afterwards."""
    stack = Stack(settings, log_dir=settings.var_dir / "logs").start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Return the whole assistant over a fresh seeded database on free ports, per module."""
    var_dir = tmp_path_factory.mktemp("stack") / "var"
    # A configured token, and one argparse could take for an option (random ones can be).
    token = SecretStr("-" + secrets.token_urlsafe(16))
    yield from running_stack(seeded_settings(var_dir, port=free_port(), rasa_port=free_port(),
                                             rasa_api_token=token))


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """Return headless Debian Chromium driven by Playwright, shared by the whole run."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
