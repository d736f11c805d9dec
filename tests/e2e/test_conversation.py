"""Whole conversations through the real Rasa server's REST channel and the real bot service.

Both run as processes on free ports (bot/stack.py, the same code as `make run`); the
tests talk HTTP only, as a channel integration would.
"""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from bot.db import Database
from bot.stack import Stack
from bot.staff.inbox import InboxStore, MessageView
from tests.conftest import NEAR_MISS, NEAR_MISS_FAQ

pytestmark = pytest.mark.e2e

REFERENCE = re.compile(r"BW-[A-Z0-9]{6}")


class Chat:
    """A customer talking to the assistant over Rasa's REST channel."""

    def __init__(self, stack: Stack, sender: str | None = None) -> None:
        self.stack = stack
        self.sender = sender or f"customer-{uuid.uuid4().hex[:8]}"

    def post(self, body: object) -> httpx.Response:
        return httpx.post(f"{self.stack.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)

    def say(self, message: str) -> list[dict]:
        """Send a message; return the bot's replies."""
        response = self.post({"sender": self.sender, "message": message})
        assert response.status_code == 200, response.text
        return response.json()

    def texts(self, message: str) -> list[str]:
        return [reply.get("text", "") for reply in self.say(message)]

    def tracker(self) -> dict:
        response = httpx.get(f"{self.stack.rasa_url}/conversations/{self.sender}/tracker",
                             params=self.stack.rasa_api_params, timeout=30)
        response.raise_for_status()
        return response.json()

    def user_texts(self) -> list[str]:
        return [e["text"] for e in self.tracker()["events"] if e["event"] == "user"]


def ticket(stack: Stack, reference: str) -> dict:
    response = httpx.get(f"{stack.settings.service_url}/tickets/{reference}", timeout=30)
    response.raise_for_status()
    return response.json()


def faq(stack: Stack, key: str) -> dict:
    return httpx.get(f"{stack.settings.service_url}/faqs/{key}", timeout=30).json()


def faq_answer(stack: Stack, key: str) -> str:
    return faq(stack, key)["answer"]


def inbox_messages(stack: Stack, conversation_id: str) -> list[MessageView]:
    """Return what the staff inbox holds for one conversation (read from its database)."""
    db = Database(stack.settings.db_url)
    try:
        return [m for m in InboxStore(db).list_new() if m.conversation_id == conversation_id]
    finally:
        db.dispose()


def reference_in(texts: list[str]) -> str:
    found = [m.group(0) for t in texts for m in [REFERENCE.search(t)] if m]
    assert found, f"no ticket reference in {texts}"
    return found[0]


def test_greeting_gets_the_greeting(stack: Stack) -> None:
    assert "Bramblewood" in Chat(stack).texts("hello!")[0]


def test_routine_question_gets_the_faq_answer(stack: Stack) -> None:
    texts = Chat(stack).texts("It's been two weeks and my new card still hasn't arrived")
    assert texts == [faq_answer(stack, "card_arrival")]


def test_clarify_offers_buttons_and_the_picked_faq_is_answered(stack: Stack) -> None:
    chat = Chat(stack)
    replies = chat.say("top up")
    assert "Which of these" in replies[0]["text"]
    payloads = [b["payload"] for b in replies[0]["buttons"]]
    faq_payloads = [p for p in payloads if p.startswith("/choose_faq")]
    assert len(faq_payloads) == 2 and "/request_human" in payloads
    key = re.search(r'"faq_key": "(\w+)"', faq_payloads[1]).group(1)
    assert chat.texts(faq_payloads[1]) == [faq_answer(stack, key)]


def test_choices_missed_twice_in_a_row_reach_a_person(stack: Stack) -> None:
    for second in ("top up", "no, none of those"):
        chat = Chat(stack)
        offered = [b["payload"] for b in chat.say("top up")[0]["buttons"]]
        texts = chat.texts(second)
        assert len(texts) == 1 and "passed this to a member of our support team" in texts[0]
        saved = ticket(stack, reference_in(texts))
        assert saved["reason"] == "repeated_failure"
        # Staff see the FAQs the customer was offered.
        keys = [c["key"] for c in saved["candidates"]]
        assert all(f'"{key}"' in payload for key, payload in zip(keys, offered[:2]))


def test_one_near_faq_is_offered_alone_and_old_choices_do_not_linger(stack: Stack) -> None:
    chat = Chat(stack)
    pick = chat.say("top up")[0]["buttons"][0]["payload"]
    chat.say(pick)  # answered: the next miss is a first one again
    [reply] = chat.say("I lost my phone!")
    assert "Which of these" in reply["text"]
    [offered, person] = reply["buttons"]
    key = re.search(r'"faq_key": "(\w+)"', offered["payload"]).group(1)
    assert offered["title"] == faq(stack, key)["question"]
    assert person["title"] == "Something else: talk to a person"
    assert person["payload"].startswith("/request_human")


def test_a_near_miss_is_offered_choices_and_a_person_gets_them_as_context(
    stack: Stack
) -> None:
    chat = Chat(stack)
    replies = chat.say(NEAR_MISS)
    assert "Which of these" in replies[0]["text"] and not REFERENCE.search(replies[0]["text"])
    payloads = [b["payload"] for b in replies[0]["buttons"]]
    assert any(f'"{NEAR_MISS_FAQ}"' in p for p in payloads)
    reference = reference_in(chat.texts(payloads[-1]))  # "Something else: talk to a person"
    saved = ticket(stack, reference)
    assert saved["reason"] == "customer_asked_for_person"
    assert [t["text"] for t in saved["transcript"] if t["from"] == "customer"][0] == NEAR_MISS
    # The FAQs the customer turned down, though the button itself matched none.
    assert NEAR_MISS_FAQ in [c["key"] for c in saved["candidates"]]
    # Staff see in the inbox that the choices did not help.
    [offered] = inbox_messages(stack, chat.sender)
    assert (offered.decision, offered.asked_for_person, offered.picked_faq_key) == (
        "suggest", True, None)


def test_a_pick_from_the_choices_is_answered_and_noted_for_staff(stack: Stack) -> None:
    chat = Chat(stack)
    replies = chat.say(NEAR_MISS)
    pick = next(b["payload"] for b in replies[0]["buttons"]
                if f'"{NEAR_MISS_FAQ}"' in b["payload"])
    assert chat.texts(pick) == [faq_answer(stack, NEAR_MISS_FAQ)]
    [offered] = inbox_messages(stack, chat.sender)
    assert (offered.picked_faq_key, offered.asked_for_person) == (NEAR_MISS_FAQ, False)
    # A second click on the same choices is not counted again.
    other = next(b["payload"] for b in replies[0]["buttons"]
                 if b["payload"].startswith("/choose_faq") and b["payload"] != pick)
    chat.say(other)
    assert inbox_messages(stack, chat.sender)[0].picked_faq_key == NEAR_MISS_FAQ


def test_non_banking_chatter_is_declined_without_a_ticket(stack: Stack) -> None:
    chat = Chat(stack)
    replies = chat.say("what's the weather going to be like tomorrow")
    assert "only help with banking" in replies[0]["text"]
    assert replies[0]["buttons"] == [{"title": "Talk to a person", "payload": "/request_human"}]
    chat.say("what is the meaning of life")
    tickets = httpx.get(f"{stack.settings.service_url}/tickets/BW-000000", timeout=30)
    assert tickets.status_code == 404
    assert not any(e.get("name") == "action_escalate" for e in chat.tracker()["events"])


def test_a_question_in_another_language_is_answered_in_english_with_a_person_offered(
    stack: Stack,
) -> None:
    chat = Chat(stack)
    replies = chat.say("Pourquoi ma carte est-elle bloquée ?")
    assert "only understand English" in replies[0]["text"]
    assert replies[0]["buttons"] == [{"title": "Talk to a person", "payload": "/request_human"}]
    assert not any(e.get("name") == "action_escalate" for e in chat.tracker()["events"])
    saved = ticket(stack, reference_in(chat.texts("/request_human")))
    assert saved["reason"] == "customer_asked_for_person"
    customer = [t["text"] for t in saved["transcript"] if t["from"] == "customer"]
    assert customer[0] == "Pourquoi ma carte est-elle bloquée ?"


def test_a_single_word_is_asked_for_more_and_files_no_ticket(stack: Stack) -> None:
    chat = Chat(stack)
    replies = chat.say("overdraft")
    assert "tell me a little more" in replies[0]["text"]
    assert replies[0]["buttons"] == [{"title": "Talk to a person", "payload": "/request_human"}]
    texts = chat.texts("It's been two weeks and my new card still hasn't arrived")
    assert texts == [faq_answer(stack, "card_arrival")]
    assert not any(e.get("name") == "action_escalate" for e in chat.tracker()["events"])


def test_a_plea_for_help_and_laughter_are_neither_thanked_nor_escalated(stack: Stack) -> None:
    # "I could use some help" was thanked ("You're welcome!"); "lol" was a "no", so a second
    # one escalated as a repeated failure.
    chat = Chat(stack)
    assert "For example" in chat.texts("I could use some help")[0]
    for _ in range(2):
        assert not chat.texts("lol")[0].startswith("Sorry about that")
    actions = {e.get("name") for e in chat.tracker()["events"] if e["event"] == "action"}
    assert not actions & {"action_escalate", "utter_rephrase", "utter_you_are_welcome"}


def test_dropping_a_question_ends_the_failed_attempts_and_a_complaint_reaches_a_person(
    stack: Stack,
) -> None:
    chat = Chat(stack)
    assert "Which of these" in chat.texts("top up")[0]
    assert chat.texts("never mind")[0].startswith("No problem")
    # Without "never mind", this would be the second failed attempt in a row: an escalation.
    assert chat.texts("you are useless")[0].startswith("Sorry about that")
    replies = chat.texts("I want to make a complaint about my branch")
    assert "as a complaint" in replies[0]
    # Staff see it is a complaint, which a bank must record and answer as one.
    assert ticket(stack, reference_in(replies))["reason"] == "complaint"


def test_uncovered_banking_question_creates_a_ticket_with_context(stack: Stack) -> None:
    chat = Chat(stack)
    chat.say("hi")
    texts = chat.texts("can I get a mortgage to buy a flat")
    reference = reference_in(texts)
    saved = ticket(stack, reference)
    assert saved["conversation_id"] == chat.sender
    assert saved["reason"] == "no_matching_faq"
    assert [t["text"] for t in saved["transcript"] if t["from"] == "customer"] == [
        "hi", "can I get a mortgage to buy a flat"]
    assert saved["candidates"] and {"key", "question", "score"} <= set(saved["candidates"][0])


def test_a_long_conversations_ticket_holds_its_last_50_customer_messages(stack: Stack) -> None:
    chat = Chat(stack)
    sent = [f"hello, this is message {number}" for number in range(55)]
    for message in sent:
        chat.say(message)
    reference = reference_in(chat.texts("I want to talk to a real person"))
    customer = [t["text"] for t in ticket(stack, reference)["transcript"]
                if t["from"] == "customer"]
    assert customer == sent[-49:] + ["I want to talk to a real person"]
    # The conversation itself keeps every message.
    assert chat.user_texts() == sent + ["I want to talk to a real person"]


def test_asking_for_a_person_creates_a_ticket(stack: Stack) -> None:
    chat = Chat(stack)
    reference = reference_in(chat.texts("I want to talk to a real person"))
    assert ticket(stack, reference)["reason"] == "customer_asked_for_person"


def test_second_failed_attempt_in_a_row_escalates(stack: Stack) -> None:
    chat = Chat(stack)
    chat.say("somebody stole my card")
    assert "tell me a little more" in chat.texts("no, that's not what I asked")[0]
    reference = reference_in(chat.texts("no, that's wrong"))
    assert ticket(stack, reference)["reason"] == "repeated_failure"


def test_card_details_are_hidden_before_anything_stores_them(stack: Stack) -> None:
    chat = Chat(stack)
    # A Luhn-valid (test) card number, spaced as printed on a card, and a PIN.
    texts = chat.texts("my card 4539 1488 0343 6467 was declined and my pin is 4821")
    assert "hidden the card details" in texts[0]
    assert len(texts) > 1 and texts[1]  # the question is still answered
    assert chat.user_texts() == [
        "my card [card number ending 6467] was declined and my pin is [hidden]"]
    reference = reference_in(chat.texts("I want to talk to a real person"))
    transcript = " ".join(t["text"] for t in ticket(stack, reference)["transcript"])
    # Neither the ticket nor Rasa's tracker store on disk (its write-ahead log included).
    # Whole phrases: four digits alone turn up by chance in timestamps and ids.
    tracker_db = stack.settings.tracker_db
    on_disk = b"".join(path.read_bytes()
                       for path in tracker_db.parent.glob(f"{tracker_db.name}*"))
    for stored in (transcript.encode(), on_disk):
        assert b"[card number ending 6467]" in stored  # what was kept, where it was looked for
        assert b"4539 1488 0343 6467" not in stored and b"pin is 4821" not in stored


AWKWARD_MESSAGES = [
    "",
    "   ",
    "where is my card " * 1200,  # about 20,000 characters
    "💳🙂 ❓",
    "أين بطاقتي الجديدة؟",
    "my card\x00 has\x1b not arrived\u202e",
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "'; DROP TABLE faqs; --",
    '/choose_faq{"faq_key": ',
    '/choose_faq{"faq_key": "no_such_faq"}',
    "/ask_faq",  # what the bot service found, typed by hand: nothing to show
    '/ask_ambiguous{"choice_1": "x"}',
    "/no_such_intent",
]


def test_awkward_messages_get_a_reply_and_are_stored_as_sent(stack: Stack) -> None:
    chat = Chat(stack)
    for message in AWKWARD_MESSAGES:
        replies = chat.say(message)
        assert replies and all(r.get("text") for r in replies), repr(message[:40])
        shown = [r["text"] for r in replies] + [b["title"] for r in replies
                                                 for b in r.get("buttons", [])]
        assert "None" not in shown and "Sorry, something went wrong" not in shown[0]
    # Rasa's UserMessage trims surrounding whitespace; everything else is kept as sent.
    assert chat.user_texts() == [m.strip() for m in AWKWARD_MESSAGES]
    assert "Bramblewood" in chat.texts("hello")[0]  # the conversation goes on


def test_rasas_http_api_needs_the_token_and_the_channels_do_not(stack: Stack) -> None:
    chat = Chat(stack)
    chat.say("hello")  # the REST channel needs no token
    for path in (f"/conversations/{chat.sender}/tracker", "/status"):
        assert httpx.get(f"{stack.rasa_url}{path}", timeout=30).status_code == 401
        wrong = httpx.get(f"{stack.rasa_url}{path}", params={"token": "guess"}, timeout=30)
        assert wrong.status_code == 401
    assert chat.user_texts() == ["hello"]  # with the token


@pytest.mark.parametrize(
    "body",
    [b"{", b"[1, 2]", b'"hello"', b'{"sender": "x", "message": 12}',
     b'{"sender": ["x"], "message": "hi"}', b'{"message": "hi"}'],
)
def test_malformed_requests_are_refused_with_400(stack: Stack, body: bytes) -> None:
    response = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", content=body,
                          headers={"content-type": "application/json"}, timeout=30)
    assert response.status_code == 400


def test_conversation_and_ticket_survive_a_restart_of_both_processes(stack: Stack) -> None:
    chat = Chat(stack)
    chat.say("hello")
    reference = reference_in(chat.texts("I want to talk to a real person"))
    before = chat.user_texts()

    stack.stop()
    stack.start()

    assert chat.user_texts() == before
    assert ticket(stack, reference)["conversation_id"] == chat.sender
    assert chat.texts("somebody stole my card") == [faq_answer(stack, "lost_or_stolen_card")]
