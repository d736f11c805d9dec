"""The one place that decides what to do with a customer's message.

Outcomes: intent (conversational, handled by Rasa rules), answer (a confident FAQ match),
clarify (two FAQs too close to call), suggest (no FAQ is sure enough to answer, but the closest
are near enough to offer as choices, with a person as the last one), decline (not banking) and
escalate (banking, but no FAQ comes near). Two intents stand in for a decline or an
escalation: other_language for a message in another language that would be declined (one that
would be escalated still is: a person reads it), and needs_detail for a message of one or two
words that would be escalated ("card", "loan", "you there?"): too little for a person to act
on, so the customer is asked for more (the router also learns it from data/nlu.yml: "i need
help" says no more). The `/model/parse` endpoint, `bankbot ask` and evaluation all call
`Decider.decide`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from bot.config import Settings
from bot.nlu.language import LanguageCheck
from bot.nlu.payload import parse_payload
from bot.nlu.router import BANKING, NEEDS_DETAIL, OUT_OF_SCOPE, Router
from bot.nlu.words import count_words
from bot.search.embedder import Embedder
from bot.search.index import Candidate
from bot.search.live import FixedIndex, LiveIndex

ANSWER, CLARIFY, SUGGEST = "answer", "clarify", "suggest"
DECLINE, ESCALATE, INTENT = "decline", "escalate", "intent"
DECISIONS = (ANSWER, CLARIFY, SUGGEST, DECLINE, ESCALATE, INTENT)

# The Rasa intent each non-conversational outcome becomes (domain.yml declares them).
RASA_INTENTS = {
    ANSWER: "ask_faq",
    CLARIFY: "ask_ambiguous",
    SUGGEST: "ask_ambiguous",  # the same choices; the customer's next step is the same
    DECLINE: OUT_OF_SCOPE,
    ESCALATE: "ask_unanswerable",
}
# How many of the closest FAQs a clarification or a suggestion offers: one button each in
# domain.yml's utter_clarify, filled by bot/service.py.
CHOICES = 2
EMPTY_MESSAGE = "empty_message"
OTHER_LANGUAGE = "other_language"
CHOOSE_FAQ = "choose_faq"
REQUEST_HUMAN = "request_human"
# A suggestion's inbox id: /model/parse returns it under this key, and the buttons of its
# choices send it back as an entity, so the customer's click is noted on that inbox message.
OFFER = "offer"
_CHOICE_INTENTS = (CHOOSE_FAQ, REQUEST_HUMAN)


@dataclass(frozen=True)
class Decision:
    """What to do with one message, and why."""

    text: str
    decision: str
    intent: str | None = None
    faq_key: str | None = None
    confidence: float = 0.0
    candidates: list[Candidate] = field(default_factory=list)
    entities: dict[str, Any] = field(default_factory=dict)

    @property
    def rasa_intent(self) -> str:
        """Return the intent name Rasa's rules act on."""
        return self.intent if self.intent else RASA_INTENTS[self.decision]

    @property
    def unanswered(self) -> str | None:
        """Return what the staff inbox files this message under (escalate, suggest, decline,
        other_language or needs_detail), or None: it was answered, or was a button payload
        (no candidates). A suggestion is filed too: staff see what the FAQs only nearly
        cover."""
        if not self.candidates:
            return None
        if self.intent in (OTHER_LANGUAGE, NEEDS_DETAIL):
            return self.intent
        return self.decision if self.decision in (ESCALATE, SUGGEST, DECLINE) else None

    @property
    def clicked_offer(self) -> int | None:
        """Return the inbox id of the choices this button click answers (an FAQ's or the
        person's button), or None."""
        offer = self.entities.get(OFFER)
        # A forged payload may send anything: only a row id the databases can hold counts.
        is_id = type(offer) is int and 0 < offer < 2**31
        return offer if is_id and self.intent in _CHOICE_INTENTS else None

    def as_row(self) -> dict[str, Any]:
        """Return the line `bankbot ask --json` prints."""
        return {
            "text": self.text,
            "decision": self.decision,
            "intent": self.intent if self.decision == INTENT else None,
            "faq_key": self.faq_key,
            "confidence": round(self.confidence, 4),
        }


def offered_keys(candidates: list[Candidate]) -> list[str]:
    """Return the FAQs a clarification or a suggestion offers as choices."""
    return [c.key for c in candidates[:CHOICES]]


def clean_text(text: str, *, limit: int) -> str:
    """Return the text as the encoder should see it: printable, trimmed, at most limit chars.

    Control characters become spaces; emoji and right-to-left scripts stay.
    """
    chars = (" " if unicodedata.category(c) in ("Cc", "Cf", "Cs") else c for c in text[: limit * 2])
    return " ".join("".join(chars).split())[:limit]


class Decider:
    """Turns a message into a Decision using the router, the live FAQ index and thresholds."""

    def __init__(
        self, settings: Settings, embedder: Embedder, router: Router, index: LiveIndex | FixedIndex
    ):
        self.settings = settings
        self.embedder = embedder
        self.router = router
        self.index = index
        self.language = LanguageCheck(max_english=settings.other_language_max_english,
                                      min_confidence=settings.other_language_min_confidence)

    def decide(self, text: str) -> Decision:
        """Return the decision for one message."""
        settled = self._decide_without_model(text)
        if isinstance(settled, Decision):
            return settled
        return self.decide_encoded(text, self.embedder.encode_one(settled))

    def decide_many(self, texts: list[str], *, batch_size: int = 64) -> list[Decision]:
        """Return the decision for each message, encoding them in batches (same outcomes)."""
        settled = [self._decide_without_model(text) for text in texts]
        pending = [i for i, s in enumerate(settled) if not isinstance(s, Decision)]
        decisions: list[Decision | str] = list(settled)
        for start in range(0, len(pending), batch_size):
            chunk = pending[start:start + batch_size]
            vectors = self.embedder.encode_uncached([str(settled[i]) for i in chunk])
            for i, vector in zip(chunk, vectors):
                decisions[i] = self.decide_encoded(texts[i], vector)
        return [d for d in decisions if isinstance(d, Decision)]

    def _decide_without_model(self, text: str) -> Decision | str:
        """Return the decision if no model is needed (payloads, empty text), else the clean text."""
        payload = parse_payload(text)
        if payload is not None and self._takes_payload(payload.intent):
            return self._decide_payload(text, payload.intent, payload.entities)
        cleaned = self._cleaned(text)
        if not cleaned:
            return Decision(text=text, decision=INTENT, intent=EMPTY_MESSAGE, confidence=1.0)
        return cleaned

    def _takes_payload(self, intent: str) -> bool:
        """Return whether a payload may name this intent: an FAQ button's, or a conversational
        one the router knows. The others stand for what the bot service found for a message
        (ask_faq, ask_ambiguous, ...): typed by hand there is nothing found to show (the reply
        would read "None"), so such a text is read as words, like any other."""
        return intent == CHOOSE_FAQ or (intent in self.router.labels and intent != BANKING)

    def _decide_payload(self, text: str, intent: str, entities: dict[str, Any]) -> Decision:
        key = entities.get("faq_key")
        if intent == CHOOSE_FAQ and isinstance(key, str) and key in self.index.current.entries:
            return Decision(text, ANSWER, CHOOSE_FAQ, key, 1.0, entities=entities)
        if intent == CHOOSE_FAQ:
            # A stale or forged button: treat it as a banking question we cannot place.
            return Decision(text, ESCALATE, confidence=0.0, entities=entities)
        return Decision(text, INTENT, intent, None, 1.0, entities=entities)

    def decide_encoded(self, text: str, vector) -> Decision:  # type: ignore[no-untyped-def]
        """Return the decision for a message already encoded, its text as sent (batch
        evaluation)."""
        s = self.settings
        cleaned = self._cleaned(text)
        words = count_words(cleaned)
        known = self.router.known_intent(cleaned)
        if known is not None:
            return Decision(text, INTENT, known, None, 1.0)
        index = self.index.current  # one index for the whole decision, though FAQs change
        phrased = index.phrased(cleaned)
        if phrased is not None:
            # Staff wrote this very message as the FAQ's phrasing (the inbox's "Add as
            # phrasing"): answer it, even where the router takes it for chatter or another FAQ
            # comes close. FAQs the router never learnt were declined so (data/faq_added).
            return Decision(text, ANSWER, None, phrased, 1.0, index.search(vector))
        routed = self.router.predict(vector).for_words(words)
        # "?????" has no word: it is no "no" (nor is an emoji alone: the encoder reads every
        # emoji as the same unknown token).
        conversational = routed.label not in (BANKING, OUT_OF_SCOPE) and words > 0
        if conversational and routed.probability >= s.intent_threshold:
            return Decision(text, INTENT, routed.label, None, routed.probability)
        candidates = index.search(vector, k=3)
        top = candidates[0] if candidates else None
        top_key = top.key if top else None
        top_score = top.score if top else 0.0
        if routed.out_of_scope >= s.decline_threshold:
            # An FAQ this near is worth offering: "I can only help with banking questions"
            # would fail a banking customer the router took for chatter.
            if top_score >= s.suggest_threshold:
                return Decision(text, SUGGEST, None, top_key, top_score, candidates)
            return self._decline(text, cleaned, top_key, routed.out_of_scope, candidates)
        second = candidates[1].score if len(candidates) > 1 else 0.0
        close_call = top_score - second < s.clarify_margin
        if close_call and second >= s.clarify_threshold:
            return Decision(text, CLARIFY, None, top_key, top_score, candidates)
        if top_score >= s.answer_threshold:
            return Decision(text, ANSWER, None, top_key, top_score, candidates)
        if top_score >= s.suggest_threshold:
            return Decision(text, SUGGEST, None, top_key, top_score, candidates)
        if words < s.min_words_to_escalate:
            return Decision(text, INTENT, NEEDS_DETAIL, top_key, top_score, candidates)
        return Decision(text, ESCALATE, None, top_key, top_score, candidates)

    def _decline(self, text: str, cleaned: str, top_key: str | None, confidence: float,
                 candidates: list[Candidate]) -> Decision:
        """Decline, unless the message is in another language: a German question about a
        card is not "not about banking". Then say which language we answer in instead."""
        if self.language.other_language(cleaned):
            return Decision(text, INTENT, OTHER_LANGUAGE, top_key, confidence, candidates)
        return Decision(text, DECLINE, None, top_key, confidence, candidates)

    def _cleaned(self, text: str) -> str:
        """Return the message as the encoder saw it (decide_encoded gets it as sent)."""
        return clean_text(text, limit=self.settings.max_message_chars)
