"""The console in real headless Chromium against the real stack (bot service + Rasa).

An editor edits an answer, a reviewer publishes it, and the assistant gives the new
text through Rasa's REST channel within 2 s, with no retraining or restart (issue 5).
"""

from __future__ import annotations

import re
import statistics
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
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
LIVE_WITHIN = 2.0  # seconds, from issue 5


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


@dataclass(frozen=True)
class Live:
    """When the new answer reached customers, in seconds after publishing."""

    asked: float  # the first question sent this long after publishing got the new answer
    answered: float  # and its reply arrived this long after publishing (one turn later)


def _timed_ask(stack: Stack) -> tuple[list[str], float]:
    start = time.monotonic()
    return assistant_says(stack, QUESTION), time.monotonic() - start


def seconds_until_live(stack: Stack, answer: str, start: float, timeout: float = 10) -> Live:
    """Ask the assistant every 0.2 s, each time as a new customer, until a reply has the answer.

    One customer turn through Rasa takes about a second on a busy 2-core machine, so questions
    overlap; what matters is when the first question that got the new answer was sent.
    """
    sent: list[tuple[float, Future[tuple[list[str], float]]]] = []
    with ThreadPoolExecutor(max_workers=12) as pool:
        while time.monotonic() - start < timeout:
            sent.append((time.monotonic() - start, pool.submit(_timed_ask, stack)))
            hits = [(at, f.result()[1]) for at, f in sent
                    if f.done() and answer in f.result()[0]]
            if hits:
                asked, turn = min(hits)
                wait([f for _, f in sent])
                return Live(asked, asked + turn)
            time.sleep(0.2)
    pytest.fail(f"the assistant did not give the new answer within {timeout} s")


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
    start = time.monotonic()
    reviewer.click("#publish")
    reviewer.wait_for_load_state()
    live = seconds_until_live(stack, new_answer, start)
    reviewer.screenshot(path=str(tmp_path / "published-draft.png"), full_page=True)
    reviewer.goto(f"{base}/faqs/card_arrival")
    assert "published by rita" in reviewer.content()
    reviewer.screenshot(path=str(tmp_path / "faq-history.png"), full_page=True)
    assert live.asked < LIVE_WITHIN
    assert (tmp_path / "published-draft.png").stat().st_size > 0


def _console_publish(stack: Stack, store: ReviewStore, answer: str) -> Live:
    """Publish an answer through the console's HTTP form; return seconds until Rasa says it."""
    version = store.get_record(key="card_arrival").version
    draft = store.create_draft(changes=[FaqVersion(**{**version.as_dict(), "answer": answer,
                                                      "alternates": version.alternates})],
                               author="erin", comment="latency")
    base = f"{stack.settings.service_url}/staff"
    with httpx.Client(base_url=base, timeout=30) as client:
        token = CSRF.search(client.get("/login").text).group(1)
        client.post("/login", data={"username": "rita", "password": PASSWORD,
                                    "csrf_token": token})
        csrf = CSRF.search(client.get("/").text).group(1)
        start = time.monotonic()
        response = client.post(f"/drafts/{draft.id}/publish", data={"csrf_token": csrf})
        assert response.status_code == 303
    return seconds_until_live(stack, answer, start)


def _other_process_publish(stack: Stack, store: ReviewStore, answer: str) -> Live:
    """Publish from outside the service (as `bankbot faq publish` does); the service polls."""
    version = store.get_record(key="card_arrival").version
    draft = store.create_draft(changes=[FaqVersion(**{**version.as_dict(), "answer": answer,
                                                      "alternates": version.alternates})],
                               author="erin", comment="latency")
    start = time.monotonic()
    store.publish_draft(draft_id=draft.id, reviewer="rita")
    return seconds_until_live(stack, answer, start)


def _summary(values: list[float]) -> str:
    return (f"min {min(values):.2f} s, median {statistics.median(values):.2f} s, "
            f"max {max(values):.2f} s (n={len(values)})")


def test_publish_to_live_through_rasa_is_under_two_seconds(stack: Stack) -> None:
    turns = [_timed_ask(stack)[1] for _ in range(5)]
    print(f"\none customer turn through Rasa, no publish: {_summary(turns)}")
    db = Database(stack.settings.db_url)
    store = ReviewStore(db)
    results: dict[str, list[Live]] = {"the console": [], "another process": []}
    try:
        for round_ in range(5):
            results["the console"].append(
                _console_publish(stack, store, f"Console answer {round_} {uuid.uuid4().hex[:6]}."))
            results["another process"].append(
                _other_process_publish(
                    stack, store, f"CLI answer {round_} {uuid.uuid4().hex[:6]}."))
    finally:
        db.dispose()
    for path, lives in results.items():
        asked, answered = [x.asked for x in lives], [x.answered for x in lives]
        print(f"publish via {path} -> a question asked then gets the new answer: "
              f"{_summary(asked)}; its reply arrives: {_summary(answered)}")
        assert max(asked) < LIVE_WITHIN, (path, lives)
