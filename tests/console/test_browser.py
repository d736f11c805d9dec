"""The console in real headless Chromium against the real stack (bot service + Rasa).

An editor edits an answer, a reviewer publishes it, and the assistant gives the new
text through Rasa's REST channel, with no retraining or restart (issue 5). How fast that
happens is a benchmark (`make bench`, "FAQ edit → live"), not a test.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from bot.db import Database
from bot.faq.review import FaqVersion, ReviewStore
from bot.stack import Stack
from bot.workspace import free_port
from tests.conftest import running_stack
from tests.console.conftest import CSRF, PASSWORD, SECRET_KEY, console_settings

pytestmark = pytest.mark.e2e

# The FAQ's own question: this test is about publishing, not about how well questions match.
QUESTION = "My new card hasn't arrived yet. Where is it?"
# Far above the seconds it takes: only a change that never goes live fails.
LIVE_WITHIN = 60.0


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    var_dir: Path = tmp_path_factory.mktemp("console-e2e") / "var"
    return console_settings(var_dir, port=free_port(), rasa_port=free_port())


@pytest.fixture(scope="module")
def stack(settings: Settings) -> Iterator[Stack]:
    # The child bot service reads its secret from the environment, as in production.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BOT_SECRET_KEY", SECRET_KEY)
        patch.setenv("BOT_ENVIRONMENT", "test")
        yield from running_stack(settings)


def assistant_says(stack: Stack, text: str) -> list[str]:
    """Ask the assistant through Rasa's REST channel as a new customer; return its replies."""
    response = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                          json={"sender": f"c-{uuid.uuid4().hex[:8]}", "message": text},
                          timeout=30)
    response.raise_for_status()
    return [reply.get("text", "") for reply in response.json()]


def until_live(stack: Stack, answer: str) -> None:
    """Ask the assistant, each time as a new customer, until a reply has the answer."""
    deadline = time.monotonic() + LIVE_WITHIN
    while time.monotonic() < deadline:
        if any(answer in reply for reply in assistant_says(stack, QUESTION)):
            return
        time.sleep(0.2)
    pytest.fail(f"the assistant did not give the new answer within {LIVE_WITHIN:.0f} s")


def signed_in_page(browser, base: str, username: str):  # type: ignore[no-untyped-def]
    """Return a page in its own browser profile, signed in to the console."""
    page = browser.new_context().new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{base}/")
    return page


def test_editor_edits_reviewer_publishes_customer_gets_it_through_rasa(
    stack: Stack, browser, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    new_answer = f"Cards now arrive within 3 working days ({uuid.uuid4().hex[:6]})."
    base = f"{stack.settings.service_url}/staff"
    assert new_answer not in assistant_says(stack, QUESTION)
    editor = signed_in_page(browser, base, "erin")
    editor.goto(f"{base}/faqs/card_arrival/edit")
    editor.fill("textarea[name=answer]", new_answer)
    editor.fill("input[name=comment]", "Faster delivery from the new card supplier")
    editor.click("button:has-text('Save draft')")
    editor.wait_for_url(re.compile(r".*/staff/drafts/\d+$"))
    draft_url = editor.url
    assert editor.locator("#publish").count() == 0  # authors cannot publish

    reviewer = signed_in_page(browser, base, "rita")
    reviewer.goto(draft_url)
    assert any(new_answer in t for t in reviewer.locator(".diff .add").all_inner_texts())
    reviewer.click("#publish")
    reviewer.wait_for_load_state()
    until_live(stack, new_answer)
    reviewer.screenshot(path=str(tmp_path / "published-draft.png"), full_page=True)
    reviewer.goto(f"{base}/faqs/card_arrival")
    assert "published by rita" in reviewer.content()
    reviewer.screenshot(path=str(tmp_path / "faq-history.png"), full_page=True)
    assert (tmp_path / "published-draft.png").stat().st_size > 0


def _draft(store: ReviewStore, answer: str) -> int:
    version = store.get_record(key="card_arrival").version
    draft = store.create_draft(changes=[FaqVersion(**{**version.as_dict(), "answer": answer,
                                                      "alternates": version.alternates})],
                               author="erin", comment="new wording")
    return draft.id


def test_publish_from_the_console_form_and_from_another_process_both_go_live(
    stack: Stack,
) -> None:
    db = Database(stack.settings.db_url)
    store = ReviewStore(db)
    try:
        # The console's HTTP form, as a reviewer's browser posts it.
        console_answer = f"Console answer {uuid.uuid4().hex[:6]}."
        draft_id = _draft(store, console_answer)
        with httpx.Client(base_url=f"{stack.settings.service_url}/staff", timeout=30) as client:
            token = CSRF.search(client.get("/login").text).group(1)
            client.post("/login", data={"username": "rita", "password": PASSWORD,
                                        "csrf_token": token})
            csrf = CSRF.search(client.get("/").text).group(1)
            response = client.post(f"/drafts/{draft_id}/publish", data={"csrf_token": csrf})
            assert response.status_code == 303
        until_live(stack, console_answer)
        # Another process (`bankbot faq publish`): the service notices by polling.
        cli_answer = f"CLI answer {uuid.uuid4().hex[:6]}."
        store.publish_draft(draft_id=_draft(store, cli_answer), reviewer="rita")
        until_live(stack, cli_answer)
        assert not any(console_answer in r for r in assistant_says(stack, QUESTION))
    finally:
        db.dispose()
