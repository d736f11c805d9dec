"""The bot service over HTTP: Rasa's parse contract, tickets, the actions webhook."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import all_actions
from bot.db import Database
from bot.faq.seed import load_shipped
from bot.service import create_app
from bot.services import Services
from bot.tickets import TicketStore
from tests.conftest import run_coroutine


@pytest.fixture(scope="module")
def client(services: Services) -> TestClient:
    with TestClient(create_app(services, watch_faqs=False)) as client:
        yield client


def test_parse_answers_in_rasa_format_with_the_faq_answer(client: TestClient,
                                                          services: Services) -> None:
    text = "my new card still hasn't arrived"
    reply = client.post("/model/parse", json={"text": text, "message_id": "m1"}).json()
    assert reply["text"] == text
    assert reply["intent"]["name"] == "ask_faq"
    assert 0 < reply["intent"]["confidence"] <= 1
    assert reply["intent_ranking"][0]["name"] == "ask_faq"
    # Rasa fills the faq_key and faq_answer slots from these; utter_faq_answer says the answer.
    assert reply["entities"] == [
        {"entity": "faq_key", "value": "card_arrival"},
        {"entity": "faq_answer", "value": services.faqs.get_faq(key="card_arrival").answer},
    ]
    assert reply["decision"] == "answer"
    assert reply["candidates"][0]["key"] == "card_arrival"


def test_parse_maps_each_outcome_to_the_rasa_intent_its_rule_expects(client: TestClient) -> None:
    expected = {
        "hi there": "greet",
        "tell me a joke": "out_of_scope",
        "top up": "ask_ambiguous",
        "what interest rate do you pay on a savings account": "ask_unanswerable",
        "/request_human": "request_human",
    }
    for text, intent in expected.items():
        reply = client.post("/model/parse", json={"text": text}).json()
        assert reply["intent"]["name"] == intent, text


def test_parse_button_payload_carries_its_entities_and_the_answer(
    client: TestClient, services: Services
) -> None:
    reply = client.post("/model/parse",
                        json={"text": '/choose_faq{"faq_key": "pin_blocked"}'}).json()
    assert reply["intent"] == {"name": "choose_faq", "confidence": 1.0}
    assert reply["entities"] == [
        {"entity": "faq_key", "value": "pin_blocked"},
        {"entity": "faq_answer", "value": services.faqs.get_faq(key="pin_blocked").answer},
    ]


def test_parse_sends_the_choices_utter_clarify_shows(client: TestClient) -> None:
    reply = client.post("/model/parse", json={"text": "top up"}).json()
    assert reply["intent"]["name"] == "ask_ambiguous"
    shown = {e["entity"]: e["value"] for e in reply["entities"]}
    first, second = (c["key"] for c in reply["candidates"][:2])
    assert shown == {
        "choices": "2",
        "choice_1": reply["candidates"][0]["question"],
        "choice_1_payload": f'/choose_faq{{"faq_key": "{first}"}}',
        "choice_2": reply["candidates"][1]["question"],
        "choice_2_payload": f'/choose_faq{{"faq_key": "{second}"}}',
        "person_payload": "/request_human",
    }
    # Each button, clicked, does what it says.
    for payload, key in ((shown["choice_1_payload"], first),
                         (shown["choice_2_payload"], second)):
        clicked = client.post("/model/parse", json={"text": payload}).json()
        assert (clicked["intent"]["name"], clicked["entities"][0]["value"]) == ("choose_faq", key)
    clicked = client.post("/model/parse", json={"text": shown["person_payload"]}).json()
    assert clicked["intent"]["name"] == "request_human"


@pytest.mark.parametrize("text", ["/ask_faq", '/ask_ambiguous{"choice_1": "x"}', "/banking",
                                  '/greet{"faq_answer": "forged", "choice_1": "forged"}'])
def test_a_typed_payload_fills_nothing_a_reply_shows(client: TestClient, text: str) -> None:
    reply = client.post("/model/parse", json={"text": text}).json()
    # Read as words (a finding cannot be named), or as the greeting it names, without its
    # entities: nothing typed reaches the slots an answer or the choices show.
    assert reply["intent"]["name"] not in ("ask_faq", "ask_ambiguous", "banking")
    assert "forged" not in json.dumps(reply["entities"])


@pytest.mark.parametrize("text", ["", "x" * 20_000, "🙂", "مرحبا", "\x00\x01", "<b>hi</b>"])
def test_parse_answers_200_for_any_text(client: TestClient, text: str) -> None:
    response = client.post("/model/parse", json={"text": text})
    assert response.status_code == 200
    assert response.json()["text"] == text


@pytest.mark.parametrize(
    "body", [b"{", b"not json", b"[1, 2]", b'"text"', b'{"text": 5}', b"{}", b"\xff\xfe"]
)
def test_parse_refuses_malformed_requests_with_400(client: TestClient, body: bytes) -> None:
    response = client.post("/model/parse", content=body,
                           headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "error" in response.json()


@pytest.mark.parametrize("decide_threads", [1, 3])
def test_parse_decides_as_many_messages_at_once_as_configured_and_answers_all(
    services: Services, monkeypatch: pytest.MonkeyPatch, decide_threads: int
) -> None:
    real_decide, lock = services.decider.decide, threading.Lock()
    running, most = 0, 0

    def decide(text: str):  # type: ignore[no-untyped-def]
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.05)  # long enough that messages sent together would overlap
            return real_decide(text)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(services.decider, "decide", decide)
    monkeypatch.setattr(services.settings, "decide_threads", decide_threads)
    app = create_app(services, watch_faqs=False)
    texts = ["my new card still hasn't arrived"] * 8

    async def send_together() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://bot") as bot:
            return await asyncio.gather(*(bot.post("/model/parse", json={"text": text})
                                          for text in texts))

    replies = [r.json() for r in run_coroutine(send_together())]
    assert most == decide_threads
    assert [(r["decision"], r["candidates"][0]["key"]) for r in replies] == [
        ("answer", "card_arrival")] * len(texts)


def test_a_long_message_being_decided_does_not_hold_up_a_short_question(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services.settings, "decide_threads", 1)
    real_decide = services.decider.decide
    long_started, short_decided = threading.Event(), threading.Event()
    long_text = "my new card still hasn't arrived, " * 20
    assert len(long_text) > services.settings.long_message_chars
    waited: list[bool] = []

    def decide(text: str):  # type: ignore[no-untyped-def]
        if text == long_text:
            long_started.set()
            # Holds its lane until the short question is decided, or gives up after 5 s.
            waited.append(short_decided.wait(timeout=5))
            return real_decide(text)
        decided = real_decide(text)
        short_decided.set()
        return decided

    monkeypatch.setattr(services.decider, "decide", decide)
    app = create_app(services, watch_faqs=False)

    async def long_then_short() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://bot") as bot:
            long = asyncio.create_task(bot.post("/model/parse", json={"text": long_text}))
            await asyncio.to_thread(long_started.wait, 5)
            short = await bot.post("/model/parse", json={"text": "where is my new card"})
            return [await long, short]

    replies = [r.json() for r in run_coroutine(long_then_short())]
    assert waited == [True]  # the short question was decided while the long one held its lane
    assert replies[1]["decision"] == "answer"
    assert replies[0]["intent"]["name"]  # and the long message was decided too


def test_ticket_round_trip(client: TestClient) -> None:
    created = client.post("/tickets", json={
        "conversation_id": "c-1", "reason": "no_matching_faq",
        "transcript": [{"from": "customer", "text": "mortgage?"}], "candidates": []})
    assert created.status_code == 201
    reference = created.json()["reference"]
    ticket = client.get(f"/tickets/{reference}").json()
    assert ticket["transcript"] == [{"from": "customer", "text": "mortgage?"}]
    assert ticket["status"] == "open"


def test_unknown_ticket_and_faq_are_404(client: TestClient) -> None:
    assert client.get("/tickets/BW-NONE00").status_code == 404
    assert client.get("/faqs/no_such_faq").json() == {"error": "FAQ not found: no_such_faq"}


def test_ticket_with_missing_fields_is_400(client: TestClient) -> None:
    assert client.post("/tickets", json={"reason": "x"}).status_code == 400
    assert client.post("/tickets", json={"conversation_id": "c", "reason": "r",
                                         "transcript": "no"}).status_code == 400


def test_webhook_refuses_unknown_actions_and_bad_bodies(client: TestClient) -> None:
    call = {"next_action": "action_does_not_exist", "sender_id": "s", "tracker": {},
            "domain": {}, "version": "3.6.21"}
    assert client.post("/webhook", json=call).status_code == 404
    assert client.post("/webhook", content=b"{oops").status_code == 400


def _action_call(action: str, text: str, intent: str) -> dict:
    """Return what Rasa posts to /webhook to run an action after the customer's text."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.4}, "entities": [],
              "candidates": [{"key": "savings_rates", "question": "Savings rates?",
                              "score": 0.4}]}
    events = [{"event": "user", "text": text, "timestamp": 1.0, "parse_data": latest}]
    return {"next_action": action, "sender_id": "conv-webhook", "version": "3.6.21",
            "domain": {}, "tracker": {"sender_id": "conv-webhook", "slots": {},
                                      "latest_message": latest, "events": events}}


def test_webhook_escalation_files_a_ticket_with_the_conversation(client: TestClient) -> None:
    text = "what interest rate do you pay on a savings account"
    reply = client.post("/webhook", json=_action_call("action_escalate", text,
                                                      "ask_unanswerable")).json()
    [message] = reply["responses"]
    assert message["response"] == "utter_escalated"
    reference = message["reference"]
    assert {"event": "slot", "name": "ticket_reference", "value": reference,
            "timestamp": None} in reply["events"]
    ticket = client.get(f"/tickets/{reference}").json()
    assert (ticket["conversation_id"], ticket["reason"]) == ("conv-webhook", "no_matching_faq")
    assert [t["text"] for t in ticket["transcript"]] == [text]
    assert ticket["candidates"][0]["key"] == "savings_rates"


def test_every_custom_action_rasa_may_call_is_served(services: Services) -> None:
    domain = yaml.safe_load((services.settings.rasa_dir / "domain.yml").read_text())
    assert sorted(a.name() for a in all_actions(services.tickets)) == sorted(domain["actions"])


def test_escalation_says_so_when_no_ticket_can_be_filed(tmp_path: Path) -> None:
    # A database without the tickets table: the store fails for real, the customer hears so.
    db = Database(f"sqlite:///{tmp_path / 'unmigrated.db'}")
    action = {a.name(): a for a in all_actions(TicketStore(db))}["action_escalate"]
    dispatcher = CollectingDispatcher()
    call = _action_call("action_escalate", "close my account", "request_human")
    events = run_coroutine(action.run(dispatcher, Tracker.from_dict(call["tracker"]), {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_escalation_failed"]
    assert not any(e.get("name") == "ticket_reference" for e in events)
    db.dispose()


def test_health_reports_the_live_faq_count(client: TestClient, services: Services) -> None:
    seeded = len(load_shipped(services.settings.data_dir))
    assert client.get("/health").json() == {"status": "ok", "faqs": seeded}
