"""Fixtures for the chat widget: the whole assistant on free ports and headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from bot.config import Settings
from bot.stack import Stack
from tests.conftest import free_port, running_stack, seeded_settings


@pytest.fixture(scope="module")
def widget_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    var_dir: Path = tmp_path_factory.mktemp("widget") / "var"
    return seeded_settings(var_dir, port=free_port(), rasa_port=free_port())


@pytest.fixture(scope="module")
def stack(widget_settings: Settings) -> Iterator[Stack]:
    yield from running_stack(widget_settings)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """Return a page in a fresh browser profile (empty localStorage), as a new customer."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
