"""The decision on representative messages of all five outcomes, and on awkward input.

Messages here are written for these tests; none is taken from a benchmark test split.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.decision import (
    ANSWER,
    CLARIFY,
    DECISIONS,
    DECLINE,
    ESCALATE,
    INTENT,
    NEEDS_DETAIL,
    OTHER_LANGUAGE,
    SUGGEST,
    Decider,
)
from bot.faq.seed import load_shipped
from bot.faq.store import FaqEntry
from bot.search.index import FaqIndex
from bot.search.live import FixedIndex
from bot.services import Services
from tests.conftest import NEAR_MISS, NEAR_MISS_FAQ


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hello there!", "greet"),
        ("ok bye, have a good day", "goodbye"),
        ("thanks, that was helpful", "thanks"),
        ("am I chatting with a robot?", "bot_challenge"),
        ("I would like to speak to someone from the bank please", "request_human"),
        ("yes that's right", "affirm"),
        ("no, that's not what I asked", "deny"),
    ],
)
def test_conversational_messages_are_intents(services: Services, text: str, intent: str) -> None:
    decision = services.decider.decide(text)
    assert (decision.decision, decision.intent) == (INTENT, intent)


@pytest.mark.parametrize(
    ("text", "faq_key"),
    [
        ("It's been two weeks and my new card still hasn't arrived", "card_arrival"),
        ("the cash machine ate my card, what do I do now", "card_swallowed"),
        ("somebody stole my card, please help", "lost_or_stolen_card"),
        ("I've been charged twice for the same coffee", "transaction_charged_twice"),
        ("what do I do if I forgot my passcode for the app", "passcode_forgotten"),
    ],
)
def test_routine_questions_are_answered_with_their_faq(
    services: Services, text: str, faq_key: str
) -> None:
    decision = services.decider.decide(text)
    assert (decision.decision, decision.faq_key) == (ANSWER, faq_key)
    assert decision.confidence >= services.settings.answer_threshold


@pytest.mark.parametrize(
    ("text", "faq_key"),
    [("is there a number I can phone you on", "contact_us"),
     ("how can I send money to someone", "send_money")],
)
def test_faqs_the_router_and_encoder_never_learnt_are_still_offered(
    services: Services, text: str, faq_key: str
) -> None:
    # data/faq_added: before them, such questions were declined, or answered with how to
    # receive money.
    decision = services.decider.decide(text)
    assert decision.decision in (ANSWER, CLARIFY, SUGGEST)
    assert decision.candidates[0].key == faq_key


@pytest.mark.parametrize(
    "text",
    ["what's your phone number", "  What's your EMAIL   address ", "what are your opening hours"],
)
def test_a_message_written_as_an_faq_phrasing_is_answered_with_that_faq(
    services: Services, text: str
) -> None:
    # contact_us's own phrasings: the router takes them for chatter (declined) or a greeting.
    decision = services.decider.decide(text)
    assert (decision.decision, decision.faq_key) == (ANSWER, "contact_us")


def test_a_phrasing_staff_add_answers_that_message_next_time(services: Services) -> None:
    text = "what time do you shut on saturdays"
    assert services.decider.decide(text).decision == DECLINE  # taken for other businesses' hours
    entries = [replace(e, alternates=(*e.alternates, text)) if e.key == "contact_us" else e
               for e in load_shipped(services.settings.data_dir)]
    index = FixedIndex(FaqIndex.build(entries, services.embedder))
    decider = Decider(services.settings, services.embedder, services.router, index)
    for typed in (text, "What time do you SHUT on  Saturdays"):
        decision = decider.decide(typed)
        assert (decision.decision, decision.faq_key) == (ANSWER, "contact_us")
    assert decider.decide("what time does the post office close").decision == DECLINE


def test_an_faq_staff_add_with_three_phrasings_answers_its_customers(services: Services) -> None:
    # Its best two phrasings are drawn from three, a seed FAQ's from 36 or more: without the
    # boost of bot/search/index.py the first question was a close call with top_up_limits
    # (another topic), the second escalated.
    limit = FaqEntry("increase_card_limit", "cards", "Can I raise my card spending limit?",
                     "Open Card > Limits in the app.",
                     alternates=("increase my daily spending limit", "change my card limit"))
    entries = [*load_shipped(services.settings.data_dir), limit]
    decider = Decider(services.settings, services.embedder, services.router,
                      FixedIndex(FaqIndex.build(entries, services.embedder)))
    for text in ("how do I get a higher limit on my card", "my card limit is too low"):
        decision = decider.decide(text)
        assert (decision.decision, decision.faq_key) == (ANSWER, "increase_card_limit")
    # The dense FAQ next to it keeps its own questions.
    decision = decider.decide("what's the most money I can top up in one go")
    assert (decision.decision, decision.faq_key) == (ANSWER, "top_up_limits")


def test_a_close_call_between_faqs_asks_which_one(services: Services) -> None:
    decision = services.decider.decide("top up")
    assert decision.decision == CLARIFY
    first, second = decision.candidates[:2]
    assert first.key != second.key
    assert first.score - second.score < services.settings.clarify_margin


def test_a_near_miss_is_offered_the_closest_faqs_not_escalated(services: Services) -> None:
    settings = services.settings
    decision = services.decider.decide(NEAR_MISS)
    assert decision.decision == SUGGEST
    assert settings.suggest_threshold <= decision.confidence < settings.answer_threshold
    assert NEAR_MISS_FAQ in [c.key for c in decision.candidates[:2]]
    assert decision.rasa_intent == "ask_ambiguous"  # Rasa offers the choices and a person
    assert decision.unanswered == SUGGEST  # staff see what the FAQs only nearly cover


def test_suggestions_only_replace_escalations_and_declines(services: Services) -> None:
    def decider(**thresholds: float) -> Decider:
        return Decider(services.settings.model_copy(update=thresholds), services.embedder,
                       services.router, services.index)

    assert decider(suggest_threshold=1.0).decide(NEAR_MISS).decision == ESCALATE
    # Answering wins where the FAQ is sure enough; suggesting is no answer.
    score = services.decider.decide(NEAR_MISS).confidence
    assert decider(answer_threshold=score).decide(NEAR_MISS).decision == ANSWER
    # A routine question the router takes for chatter (here: everything is taken for it) is
    # offered its FAQ rather than told we only do banking; real chatter is still declined.
    chatty = decider(decline_threshold=0.0)
    routine = chatty.decide("my new card still hasn't arrived")
    assert (routine.decision, routine.faq_key) == (SUGGEST, "card_arrival")
    assert chatty.decide("tell me a joke").decision == DECLINE


@pytest.mark.parametrize(
    "text",
    [
        "what's the weather going to be like in Leeds tomorrow",
        "give me a good recipe for banana bread",
        "tell me a joke",
        "what is the meaning of life",
        "how many calories are in an apple",
        # Escalated to a person by the router of C = 10 (bot/nlu/router.py, MAIN_C).
        "what's a good film to watch tonight",
    ],
)
def test_non_banking_messages_are_declined(services: Services, text: str) -> None:
    assert services.decider.decide(text).decision == DECLINE


@pytest.mark.parametrize(
    "text",
    [
        "Meine Überweisung ist noch nicht angekommen",
        "Pourquoi ma carte est-elle bloquée ?",
        "No puedo entrar en la aplicación del banco",
        "Ik ben mijn pincode vergeten",
        "لماذا تم خصم رسوم من حسابي؟",
        "我忘记了我的密码",
        "Почему с меня списали комиссию?",
    ],
)
def test_questions_in_other_languages_are_not_declined_as_not_about_banking(
    services: Services, text: str
) -> None:
    # Told which language we answer in where they would have been declined (English
    # chatter still is: test_non_banking_messages_are_declined), or passed to a person.
    decision = services.decider.decide(text)
    assert decision.intent == OTHER_LANGUAGE or decision.decision == ESCALATE


@pytest.mark.parametrize(
    "text",
    [
        "can I get a mortgage to buy a flat",
        "what interest rate do you pay on a savings account",
        "I want to take out a personal loan for a car",
        "who deals with the estate of my late husband",
    ],
)
def test_banking_questions_no_faq_covers_are_escalated(services: Services, text: str) -> None:
    decision = services.decider.decide(text)
    assert decision.decision == ESCALATE
    assert decision.candidates, "a ticket needs the nearest FAQs as context"


@pytest.mark.parametrize(
    "text",
    [
        "when will my salary be paid in",
        "do I need to pay tax on my savings interest",
        "how many dollars is 100 euros",
    ],
)
def test_money_questions_clinc_files_outside_banking_reach_a_person(
    services: Services, text: str
) -> None:
    # CLINC150 files trips, wages, tax and exchange rates under travel and work. The router and
    # the tuning learnt them as chatter, and these were declined as not about banking.
    assert services.decider.decide(text).decision == ESCALATE


@pytest.mark.parametrize("text", ["loan", "cash", "overdraft", "..."])
def test_a_single_word_no_faq_covers_is_asked_for_more_not_escalated(
    services: Services, text: str
) -> None:
    decision = services.decider.decide(text)
    assert (decision.decision, decision.intent) == (INTENT, NEEDS_DETAIL)
    assert decision.unanswered == NEEDS_DETAIL  # staff still see it in the inbox


# Short messages: before the router's short model, "statement" was a yes, "stolen" a goodbye,
# "identity" asked whether we are a bot, "lol" and "?????" were a no (and a second one
# escalated), and "I could use some help" was thanked.
CONVERSATIONAL = {"greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge"}


@pytest.mark.parametrize("text", ["statement", "stolen", "identity", "pending", "top up"])
def test_a_bare_banking_word_is_not_taken_for_a_greeting_or_a_yes(
    services: Services, text: str
) -> None:
    decision = services.decider.decide(text)
    assert decision.intent not in CONVERSATIONAL
    assert decision.decision in (ANSWER, CLARIFY, SUGGEST) or decision.intent == NEEDS_DETAIL


@pytest.mark.parametrize("text", ["lol", "lolol", "rofl", "bruh", "ugh", "?????", "!!!", "👍"])
def test_laughter_and_punctuation_are_not_taken_for_a_yes_or_a_no(
    services: Services, text: str
) -> None:
    decision = services.decider.decide(text)
    assert decision.decision == DECLINE or decision.intent == NEEDS_DETAIL


@pytest.mark.parametrize("text", ["I could use some help", "could u help me out", "help"])
def test_a_request_for_help_that_says_no_more_is_asked_what_about(
    services: Services, text: str
) -> None:
    assert services.decider.decide(text).intent == NEEDS_DETAIL


# "huh" and "uh" lay nearest "uh huh": they were a yes, and the customer read "Great. Is
# there anything else I can help with?" (data/router/unclear_words.txt).
@pytest.mark.parametrize("text", ["huh", "uh", "huh?", "what?", "eh?"])
def test_a_sign_of_not_following_is_asked_for_more_not_taken_for_a_yes(
    services: Services, text: str
) -> None:
    assert services.decider.decide(text).intent == NEEDS_DETAIL


@pytest.mark.parametrize(
    ("text", "intent"),
    [("yes", "affirm"), ("ok", "affirm"), ("uh huh", "affirm"), ("mhm", "affirm"), ("no", "deny"),
     ("no thanks", "deny"),
     ("thanks", "thanks"), ("hi", "greet"), ("bye", "goodbye"), ("agent", "request_human")],
)
def test_one_or_two_word_replies_are_still_their_intent(
    services: Services, text: str, intent: str
) -> None:
    decision = services.decider.decide(text)
    assert (decision.decision, decision.intent) == (INTENT, intent)


def test_a_button_payload_chooses_its_faq(services: Services) -> None:
    decision = services.decider.decide('/choose_faq{"faq_key": "card_arrival"}')
    assert (decision.decision, decision.intent, decision.faq_key) == (
        ANSWER, "choose_faq", "card_arrival")


@pytest.mark.parametrize(
    ("text", "offer"),
    [('/choose_faq{"faq_key": "card_arrival", "offer": 7}', 7), ('/request_human{"offer": 7}', 7),
     ('/request_human{"offer": true}', None), ('/request_human{"offer": "7"}', None),
     ('/request_human{"offer": 99999999999999999999}', None),
     ('/greet{"offer": 7}', None), ("/request_human", None)],
)
def test_only_a_choice_button_answers_an_offer(services: Services, text: str,
                                               offer: int | None) -> None:
    assert services.decider.decide(text).clicked_offer == offer


def test_a_payload_for_an_unknown_faq_is_escalated_not_answered(services: Services) -> None:
    assert services.decider.decide('/choose_faq{"faq_key": "retired"}').decision == ESCALATE


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\x00\x07\x1b"])
def test_empty_messages_get_the_empty_message_intent(services: Services, text: str) -> None:
    decision = services.decider.decide(text)
    assert (decision.decision, decision.intent) == (INTENT, "empty_message")


@pytest.mark.parametrize(
    "text",
    [
        "where is my card " * 1200,  # about 20,000 characters
        "💳💳💳 ❓",
        "أين بطاقتي الجديدة؟",
        "כרטיס האשראי שלי לא הגיע",
        "<script>alert('x')</script>",
        "'; DROP TABLE faqs; --",
        "my card\x00 has\x1b not\u202e arrived",
    ],
)
def test_awkward_input_gets_a_decision_and_keeps_its_text(services: Services, text: str) -> None:
    decision = services.decider.decide(text)
    assert decision.decision in DECISIONS
    assert decision.text == text


def test_markup_and_sql_are_not_answered_as_faqs(services: Services) -> None:
    for text in ("<script>alert('x')</script>", "'; DROP TABLE faqs; --"):
        assert services.decider.decide(text).decision != ANSWER


# Conversational messages that are not questions: before they were in data/nlu.yml, "never
# mind" was escalated (a ticket, and "I've passed this to our team"), "you are useless" was
# thanked, "i want to complain" was declined as not about banking, "you there?" escalated;
# later "still with me?" got a goodbye and "can you hear me" filed a ticket.
@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("never mind", "never_mind"),
        ("you are useless", "deny"),
        ("bad bot", "deny"),
        ("i want to complain", "complain"),
        ("I want to make a complaint about my branch", "complain"),
        ("is anyone there", "greet"),
        ("still with me?", "greet"),
        ("can you hear me", "greet"),
    ],
)
def test_conversational_messages_that_are_not_questions_get_their_intent(
    services: Services, text: str, intent: str
) -> None:
    assert services.decider.decide(text).intent == intent


@pytest.mark.parametrize("text", ["I forgot my code", "I forgot my passcode"])
def test_forgetting_a_code_is_a_banking_question_not_never_mind(
    services: Services, text: str
) -> None:
    # "forget it" examples of never_mind once took "I forgot my code" for one.
    assert services.decider.decide(text).decision == ANSWER


@pytest.mark.parametrize("text", ["stop please", "go back", "you there?"])
def test_two_words_no_faq_covers_are_asked_for_more_not_escalated(
    services: Services, text: str
) -> None:
    assert services.decider.decide(text).decision != ESCALATE
