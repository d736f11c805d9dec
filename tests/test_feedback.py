"""Customers' ratings of answers on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import pytest

from bot.db import Database
from bot.feedback import FeedbackStore

AWKWARD = "Где моя карта? 💳 مرحبا <b>bold</b> '; DROP TABLE feedback; --"


@pytest.fixture
def store(database_url: str) -> FeedbackStore:
    database = Database(database_url)
    yield FeedbackStore(database)
    database.dispose()


def test_rating_is_stored_with_the_message_and_question(store: FeedbackStore) -> None:
    saved = store.rate_message(conversation_id="c1", message_id="reply:m1:0", message=AWKWARD,
                               question="where is my card", rating="up")
    assert (saved.message, saved.question, saved.rating) == (AWKWARD, "where is my card", "up")
    [listed] = store.list_feedback(conversation_id="c1")
    assert listed == saved


def test_rating_a_message_again_replaces_the_rating(store: FeedbackStore) -> None:
    first = store.rate_message(conversation_id="c1", message_id="m", message="A", rating="up")
    second = store.rate_message(conversation_id="c1", message_id="m", message="A", rating="down")
    assert [f.rating for f in store.list_feedback()] == ["down"]
    assert second.created_at == first.created_at and second.updated_at >= first.updated_at


def test_feedback_is_listed_newest_first_and_filtered(store: FeedbackStore) -> None:
    store.rate_message(conversation_id="c1", message_id="m1", message="A", rating="up")
    store.rate_message(conversation_id="c2", message_id="m1", message="B", rating="down")
    store.rate_message(conversation_id="c1", message_id="m2", message="C", rating="down")
    assert [f.message for f in store.list_feedback()] == ["C", "B", "A"]
    assert [f.message for f in store.list_feedback(rating="down")] == ["C", "B"]
    assert [f.message for f in store.list_feedback(conversation_id="c1")] == ["C", "A"]
    assert [f.message for f in store.list_feedback(limit=1)] == ["C"]


def test_unknown_rating_is_refused(store: FeedbackStore) -> None:
    with pytest.raises(ValueError, match="rating"):
        store.rate_message(conversation_id="c1", message_id="m", message="A", rating="meh")
    assert store.list_feedback() == []
