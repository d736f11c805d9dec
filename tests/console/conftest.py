"""Console fixtures: a seeded database per module, signed-in test clients, staff users."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.service import create_app
from bot.services import Services
from bot.staff.accounts import AccountStore
from tests.conftest import seeded_settings

SECRET_KEY = "test-only-key-9f2c1b7e4d3a6f8e0b5c2d1a7e4f9c3b"
PASSWORD = "correct horse battery"
USERS = {"erin": "editor", "ed": "editor", "rita": "reviewer", "rob": "reviewer", "ada": "admin"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_settings(var_dir: Path, database_url: str = "", **overrides: object) -> Settings:
    """Return seeded settings with a test secret key and the staff users above."""
    settings = seeded_settings(var_dir, database_url, secret_key=SECRET_KEY,
                               environment="test", **overrides)
    services = Services(settings)
    accounts = AccountStore.for_settings(services.db, settings)
    for username, role in USERS.items():
        accounts.add_user(username=username, password=PASSWORD, role=role)
    services.db.dispose()
    return settings


def sharing_models(settings: Settings, loaded: Services) -> Services:
    """Return Services over these settings that reuse the already loaded encoder and router."""
    fresh = Services(settings)
    fresh.__dict__["embedder"] = loaded.embedder
    fresh.__dict__["router"] = loaded.router
    return fresh


@pytest.fixture(scope="module")
def console_services(tmp_path_factory: pytest.TempPathFactory,
                     services: Services) -> Iterator[Services]:
    """Return services over a fresh seeded database with staff users, for one test module."""
    settings = console_settings(tmp_path_factory.mktemp("console") / "var")
    fresh = sharing_models(settings, services)
    fresh.warm_up()
    yield fresh
    fresh.db.dispose()


@pytest.fixture(scope="module")
def app(console_services: Services):  # type: ignore[no-untyped-def]
    return create_app(console_services, watch_faqs=False)


class Staff:
    """A test client signed in as one member of staff, with the session's CSRF token."""

    def __init__(self, client: TestClient, username: str) -> None:
        self.client = client
        self.username = username
        self.csrf = ""

    def login(self, password: str = PASSWORD) -> Staff:
        form = self.client.get("/staff/login")
        token = CSRF.search(form.text).group(1)
        response = self.client.post("/staff/login", data={
            "username": self.username, "password": password, "csrf_token": token},
            follow_redirects=False)
        assert response.status_code == 303, response.text
        self.csrf = CSRF.search(self.client.get("/staff/").text).group(1)
        return self

    def get(self, path: str, **kwargs: object):  # type: ignore[no-untyped-def]
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
        kwargs.setdefault("follow_redirects", False)
        return self.client.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)


@pytest.fixture(scope="module")
def staff(app) -> Iterator[Callable[[str], Staff]]:  # type: ignore[no-untyped-def]
    """Return a factory of signed-in clients, one per username."""
    clients: list[TestClient] = []

    def sign_in(username: str) -> Staff:
        client = TestClient(app)
        clients.append(client)
        return Staff(client, username).login()

    yield sign_in
    for client in clients:
        client.close()
