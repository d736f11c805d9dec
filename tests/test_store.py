"""The FAQ store and tickets on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.exc import IntegrityError

from bot.db import Database
from bot.errors import FaqNotFound, TicketNotFound
from bot.faq.store import FaqEntry, FaqStore
from bot.migrate import SchemaNotCurrent, alembic_config, require_current_schema
from bot.tickets import TicketStore

# Text customers really send: emoji, right-to-left script, markup, SQL, control characters.
AWKWARD = "Где моя карта? 💳 مرحبا <b>bold</b> '; DROP TABLE faqs; -- \t tab"


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    yield database
    database.dispose()


def entry(key: str, **fields: object) -> FaqEntry:
    values = {"category": "cards", "question": f"Question {key}?", "answer": f"Answer {key}.",
              "alternates": (f"{key} one", f"{key} two")}
    values.update(fields)
    return FaqEntry(key=key, **values)  # type: ignore[arg-type]


def test_upserted_faqs_are_listed_with_their_phrasings(db: Database) -> None:
    store = FaqStore(db)
    store.upsert_faqs([entry("card_arrival"), entry("age_limit", category="account")])
    faqs = store.list_faqs()
    assert [f.key for f in faqs] == ["age_limit", "card_arrival"]
    assert faqs[1].texts == ("Question card_arrival?", "card_arrival one", "card_arrival two")
    assert store.count_faqs() == 2


def test_upsert_replaces_an_existing_faq_by_key(db: Database) -> None:
    store = FaqStore(db)
    store.upsert_faqs([entry("card_arrival")])
    store.upsert_faqs([entry("card_arrival", answer="New answer.", alternates=("only one",))])
    faq = store.get_faq(key="card_arrival")
    assert faq.answer == "New answer."
    assert faq.alternates == ("only one",)
    assert store.count_faqs() == 1


def test_update_changes_the_answer_and_the_change_fingerprint(db: Database) -> None:
    store = FaqStore(db)
    store.upsert_faqs([entry("card_arrival")])
    before = store.last_change()
    store.update_faq(key="card_arrival", answer=AWKWARD)
    assert store.get_faq(key="card_arrival").answer == AWKWARD
    assert store.last_change() != before


def test_unknown_faq_raises_not_found_naming_the_key(db: Database) -> None:
    store = FaqStore(db)
    with pytest.raises(FaqNotFound, match="no_such_faq"):
        store.get_faq(key="no_such_faq")
    with pytest.raises(FaqNotFound):
        store.update_faq(key="no_such_faq", answer="x")


def test_ticket_keeps_transcript_and_candidates_exactly(db: Database) -> None:
    tickets = TicketStore(db)
    transcript = [{"from": "customer", "text": AWKWARD}, {"from": "bot", "text": "Sorry"}]
    candidates = [{"key": "card_arrival", "question": "Where is my card?", "score": 0.61}]
    created = tickets.create_ticket(conversation_id="conv-1", reason="no_matching_faq",
                                    transcript=transcript, candidates=candidates)
    assert re.fullmatch(r"BW-[A-HJ-NP-Z2-9]{6}", created.reference)
    loaded = tickets.get_ticket(reference=created.reference)
    assert loaded.transcript == transcript
    assert loaded.candidates == candidates
    assert (loaded.status, loaded.reason, loaded.conversation_id) == ("open", "no_matching_faq",
                                                                      "conv-1")
    assert [t.reference for t in tickets.list_tickets(conversation_id="conv-1")] == [
        created.reference]


def test_unknown_ticket_raises_not_found(db: Database) -> None:
    with pytest.raises(TicketNotFound, match="BW-NOPE"):
        TicketStore(db).get_ticket(reference="BW-NOPE")


def test_failed_write_leaves_nothing_behind(db: Database) -> None:
    store = FaqStore(db)
    store.upsert_faqs([entry("card_arrival")])
    bad = entry("age_limit", question=None)  # NOT NULL: the whole batch must roll back
    with pytest.raises(IntegrityError):
        store.upsert_faqs([entry("new_faq"), bad])
    assert [f.key for f in store.list_faqs()] == ["card_arrival"]


def test_the_migrations_build_the_tables_the_code_uses(database_url: str) -> None:
    # Every model must be imported for its table to be compared.
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import bot.feedback
    import bot.staff.accounts
    import bot.staff.inbox  # noqa: F401
    from bot.db import Base

    db = Database(database_url)
    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    db.dispose()


def test_a_database_behind_the_migrations_is_refused_with_the_command_that_fixes_it(
    database_url: str,
) -> None:
    from alembic import command

    require_current_schema(database_url)  # at head: accepted
    command.downgrade(alembic_config(database_url), "0003")
    with pytest.raises(SchemaNotCurrent, match=r"revision 0003; this version needs 0004\. "
                                               r"Run `bankbot db upgrade`"):
        require_current_schema(database_url)
    command.downgrade(alembic_config(database_url), "base")
    with pytest.raises(SchemaNotCurrent, match="none"):
        require_current_schema(database_url)


def test_an_unreachable_database_is_reported_without_its_password() -> None:
    from bot.workspace import free_port

    url = f"postgresql+psycopg2://bank:s3cret@127.0.0.1:{free_port()}/bank"
    with pytest.raises(SchemaNotCurrent, match="cannot read the database") as caught:
        require_current_schema(url)
    assert "s3cret" not in caught.value.message


def test_migrations_downgrade_and_upgrade_again(database_url: str) -> None:
    from alembic import command

    config = alembic_config(database_url)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    db = Database(database_url)
    assert FaqStore(db).count_faqs() == 0
    db.dispose()
