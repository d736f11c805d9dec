"""Staff accounts, drafts and revisions, the inbox and ticket closing on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from bot.db import Database
from bot.faq.review import FaqVersion, ReviewRefused, ReviewStore
from bot.faq.store import FaqEntry, FaqStore
from bot.faq.transfer import ImportErrors, export_faqs, parse_import
from bot.staff.accounts import AccountError, AccountStore, LoginFailed
from bot.staff.inbox import HANDLED, ChoiceCounts, InboxStore, MessageView, group_messages
from bot.tickets import TicketStore

PASSWORD = "a long enough password"


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    FaqStore(database).upsert_faqs([
        FaqEntry("card_arrival", "cards", "When will my card arrive?", "In 5 days.",
                 ("card not here", "where is my card")),
        FaqEntry("age_limit", "account", "How old must I be?", "18.", ("minimum age",)),
    ])
    yield database
    database.dispose()


def accounts(db: Database, **overrides: object) -> AccountStore:
    values = {"max_failed_logins": 3, "lockout": timedelta(minutes=15),
              "session_length": timedelta(hours=8), **overrides}
    return AccountStore(db, **values)  # type: ignore[arg-type]


def version(key: str = "card_arrival", **fields: object) -> FaqVersion:
    values = {"category": "cards", "question": "When will my card arrive?",
              "answer": "In 3 days.", "alternates": ("card not here", "where is my card")}
    values.update(fields)
    return FaqVersion(key=key, **values)  # type: ignore[arg-type]


def test_passwords_are_hashed_with_argon2_and_checked(db: Database) -> None:
    store = accounts(db)
    user = store.add_user(username="erin", password=PASSWORD, role="editor")
    assert store.authenticate(username="erin", password=PASSWORD).id == user.id
    with db.session() as session:
        from bot.staff.accounts import StaffUser

        stored = session.get(StaffUser, user.id).password_hash
    assert stored.startswith("$argon2") and PASSWORD not in stored
    with pytest.raises(AccountError):
        store.add_user(username="erin", password=PASSWORD, role="editor")
    with pytest.raises(AccountError):
        store.add_user(username="short", password="short", role="editor")
    with pytest.raises(AccountError):
        store.add_user(username="boss", password=PASSWORD, role="owner")


def test_repeated_failures_lock_the_account_until_unlocked(db: Database) -> None:
    store = accounts(db)
    user = store.add_user(username="erin", password=PASSWORD, role="editor")
    for _ in range(3):
        with pytest.raises(LoginFailed):
            store.authenticate(username="erin", password="wrong")
    with pytest.raises(LoginFailed):
        store.authenticate(username="erin", password=PASSWORD)
    assert store.get_user(username="erin").locked
    store.update_user(user_id=user.id, unlock=True)
    assert store.authenticate(username="erin", password=PASSWORD).username == "erin"


def test_sessions_end_at_logout_expiry_and_when_the_user_is_disabled(db: Database) -> None:
    store = accounts(db)
    user = store.add_user(username="erin", password=PASSWORD, role="editor")
    token, csrf = store.open_session(user_id=user.id)
    signed_in = store.session_user(token=token)
    assert signed_in is not None and signed_in.csrf_token == csrf
    store.close_session(token=token)
    assert store.session_user(token=token) is None
    token, _ = store.open_session(user_id=user.id)
    store.update_user(user_id=user.id, active=False)
    assert store.session_user(token=token) is None
    store.update_user(user_id=user.id, active=True)
    expired = accounts(db, session_length=timedelta(seconds=-1))
    token, _ = expired.open_session(user_id=user.id)
    assert store.session_user(token=token) is None


def test_publish_writes_the_faq_a_revision_and_bumps_the_change_fingerprint(db: Database) -> None:
    reviews, faqs = ReviewStore(db), FaqStore(db)
    before = faqs.last_change()
    draft = reviews.create_draft(changes=[version()], author="erin", comment="faster post")
    assert faqs.get_faq(key="card_arrival").answer == "In 5 days."  # a draft is not live
    with pytest.raises(ReviewRefused, match="other than its author"):
        reviews.publish_draft(draft_id=draft.id, reviewer="erin")
    reviews.publish_draft(draft_id=draft.id, reviewer="rita")
    assert faqs.get_faq(key="card_arrival").answer == "In 3 days."
    assert faqs.last_change() != before
    [revision] = reviews.list_revisions(key="card_arrival")
    assert (revision.author, revision.reviewer, revision.comment) == ("erin", "rita", "faster post")
    assert revision.before.answer == "In 5 days." and revision.after.answer == "In 3 days."
    with pytest.raises(ReviewRefused, match="already published"):
        reviews.publish_draft(draft_id=draft.id, reviewer="rita")


def test_rollback_is_a_reviewed_recorded_change(db: Database) -> None:
    reviews, faqs = ReviewStore(db), FaqStore(db)
    first = reviews.create_draft(changes=[version()], author="erin", comment="one")
    reviews.publish_draft(draft_id=first.id, reviewer="rita")
    [revision] = reviews.list_revisions(key="card_arrival")
    rollback = reviews.draft_rollback(revision_id=revision.id, author="erin", side="before",
                                      comment="customers complained")
    reviews.publish_draft(draft_id=rollback.id, reviewer="rita")
    assert faqs.get_faq(key="card_arrival").answer == "In 5 days."
    latest = reviews.list_revisions(key="card_arrival")[0]
    assert "customers complained" in latest.comment and latest.before.answer == "In 3 days."


def test_a_draft_over_a_newer_published_edit_is_refused(db: Database) -> None:
    reviews = ReviewStore(db)
    old = reviews.create_draft(changes=[version(answer="A")], author="erin", comment="a")
    new = reviews.create_draft(changes=[version(answer="B")], author="ed", comment="b")
    reviews.publish_draft(draft_id=new.id, reviewer="rita")
    with pytest.raises(ReviewRefused, match="changed after this draft"):
        reviews.publish_draft(draft_id=old.id, reviewer="rita")


def test_exact_duplicates_across_faqs_are_refused(db: Database) -> None:
    reviews = ReviewStore(db)
    stolen = version("age_limit", category="account", question="How old must I be?",
                     answer="18.", alternates=("minimum age", "  Where is my  CARD "))
    with pytest.raises(ReviewRefused, match="already in card_arrival"):
        reviews.create_draft(changes=[stolen], author="erin", comment="dup")


def test_retire_and_new_faq(db: Database) -> None:
    reviews, faqs = ReviewStore(db), FaqStore(db)
    retire = version("age_limit", category="account", question="How old must I be?",
                     answer="18.", alternates=("minimum age",), active=False)
    new = version("mortgages", category="loans", question="Do you do mortgages?",
                  answer="No.", alternates=())
    draft = reviews.create_draft(changes=[retire, new], author="erin", comment="tidy")
    with pytest.raises(ReviewRefused, match="exists already"):
        reviews.create_draft(changes=[version()], author="erin", comment="x", kind="new")
    reviews.publish_draft(draft_id=draft.id, reviewer="rita")
    assert [f.key for f in faqs.list_faqs()] == ["card_arrival", "mortgages"]
    assert not reviews.get_record(key="age_limit").version.active


def test_import_of_a_broken_csv_changes_nothing(db: Database) -> None:
    reviews = ReviewStore(db)
    live = [r.version for r in reviews.list_records()]
    broken = ("key,category,question,answer,alternates\n"
              "card_arrival,cards,When will my card arrive?,In 2 days.,card not here\n"
              "age_limit,,How old?,,\n"
              "bad key!,cards,Q?,A.,\n"
              "new_one,cards,Q2?,A2.,where is my card\n")
    with pytest.raises(ImportErrors) as raised:
        parse_import(broken, "csv", live=live)
    errors = raised.value.errors
    assert any(e.startswith("row 3:") for e in errors) and any("row 4" in e for e in errors)
    assert reviews.list_drafts() == []
    assert [r.version for r in reviews.list_records()] == live


def test_export_then_import_roundtrips_in_both_formats(db: Database) -> None:
    reviews = ReviewStore(db)
    live = [r.version for r in reviews.list_records()]
    for fmt in ("csv", "yaml"):
        assert parse_import(export_faqs(live, fmt), fmt, live=live) == []
        edited = export_faqs(live, fmt).replace("In 5 days.", "In 4 days.")
        [change] = parse_import(edited, fmt, live=live)
        assert change.key == "card_arrival" and change.answer == "In 4 days."


def test_inbox_records_groups_and_closes(db: Database) -> None:
    inbox = InboxStore(db)
    for text in ("mortgage please", "car insurance", "a mortgage?"):
        inbox.record(text=text, decision="escalate", faq_key="card_arrival", score=0.3)
    messages = inbox.list_new()
    assert [m.text for m in messages] == ["a mortgage?", "car insurance", "mortgage please"]
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.96, 0.28]], dtype=np.float32)
    groups = group_messages(messages, vectors, similarity=0.75)
    assert [[m.text for m in g.messages] for g in groups] == [
        ["a mortgage?", "mortgage please"], ["car insurance"]]
    assert inbox.close_messages(message_ids=[messages[0].id], status=HANDLED, by="erin") == 1
    assert len(inbox.list_new()) == 2


def test_the_inbox_notes_the_first_click_on_a_suggestions_choices(db: Database) -> None:
    inbox = InboxStore(db)
    offered = inbox.record(text="fees abroad?", decision="suggest", faq_key="card_fee",
                           score=0.71, conversation_id="c1")
    declined = inbox.record(text="a joke", decision="decline", faq_key=None, score=0.9,
                            conversation_id="c1")
    assert offered is not None and declined is not None
    # Another conversation cannot mark it, nor can a click on a message not offered choices.
    assert not inbox.record_choice(message_id=offered, conversation_id="c2", faq_key="x")
    assert not inbox.record_choice(message_id=declined, conversation_id="c1", faq_key=None)
    assert inbox.record_choice(message_id=offered, conversation_id="c1", faq_key="atm_fee")
    assert not inbox.record_choice(message_id=offered, conversation_id="c1", faq_key=None)
    person = inbox.record(text="fees?", decision="suggest", faq_key="card_fee", score=0.7,
                          conversation_id="c3")
    assert person is not None
    assert inbox.record_choice(message_id=person, conversation_id="c3", faq_key=None)
    inbox.record(text="charges?", decision="suggest", faq_key="card_fee", score=0.7)
    # A conversation id longer than the column (a caller other than Rasa) still matches.
    long_id = "x" * 300
    clicked = inbox.record(text="fee?", decision="suggest", faq_key="card_fee", score=0.7,
                           conversation_id=long_id)
    assert clicked is not None
    assert inbox.record_choice(message_id=clicked, conversation_id=long_id, faq_key="atm_fee")
    views = {m.text: m for m in inbox.list_new()}
    assert (views["fees abroad?"].picked_faq_key, views["fees abroad?"].asked_for_person) == (
        "atm_fee", False)
    assert (views["fees?"].picked_faq_key, views["fees?"].asked_for_person) == (None, True)
    assert inbox.choice_counts() == ChoiceCounts(offered=4, picked_faq=2, asked_for_person=1)
    assert inbox.choice_counts().neither == 1


def test_inbox_record_never_raises(tmp_path) -> None:  # type: ignore[no-untyped-def]
    unmigrated = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    assert InboxStore(unmigrated).record(text="hi", decision="decline", faq_key=None,
                                         score=0.0) is None
    assert not InboxStore(unmigrated).record_choice(message_id=1, conversation_id="c1",
                                                    faq_key=None)
    unmigrated.dispose()


def test_tickets_close_with_a_note(db: Database) -> None:
    tickets = TicketStore(db)
    ticket = tickets.create_ticket(conversation_id="c1", reason="no_matching_faq",
                                   transcript=[{"from": "customer", "text": "hi"}], candidates=[])
    closed = tickets.close_ticket(reference=ticket.reference, note="called back", closed_by="rita")
    assert (closed.status, closed.note, closed.closed_by) == ("closed", "called back", "rita")
    assert tickets.list_tickets(status="open") == []
    assert [t.reference for t in tickets.list_tickets(status="closed")] == [ticket.reference]


def test_message_view_is_detached(db: Database) -> None:
    InboxStore(db).record(text="x" * 5000, decision="decline", faq_key=None, score=0.1)
    [message] = InboxStore(db).list_new()
    assert isinstance(message, MessageView) and len(message.text) == 1000
