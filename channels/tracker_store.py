"""Rasa's SQL tracker store, minus the per-turn re-read of the conversation (issue 4).

Stock SQLTrackerStore rebuilds each conversation from SQL on every turn (a query, JSON
decoding, replaying every event) and counts the stored events again before saving: about
40 % of a turn under load. One Rasa process owns its conversations, so this store keeps
the trackers it saved in memory and, on the next turn, hands back the same object if
nothing touched it since (its event count is still the saved one); anything else is
re-read from SQL as before. A conversation SQL does not have is remembered as new, so its
first save writes every event without asking SQL which it already holds. Every event is
still written to SQL in the same turn, so a restart loses nothing. SQLite gets one
long-lived connection and a write-ahead log with `synchronous=NORMAL`: a commit no longer
waits for a disk flush, and a power cut can lose at most the last turns, never corrupt the
file.

Only for a single Rasa process: several processes sharing one database would each serve
their own stale copies.
"""

import itertools
import json
from collections import OrderedDict
from typing import Any, Iterable

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

# Conversations kept in memory, least recently used dropped first.
DEFAULT_CACHE_SIZE = 2000


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class CachedSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that serves a conversation it saved itself from memory."""

    def __init__(self, *args: Any, cache_size: int = DEFAULT_CACHE_SIZE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            # SQLAlchemy 1.4 opens and closes a file database's connection per session;
            # with a write-ahead log each close also checkpoints it. Keep one connection.
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, poolclass=sa.pool.SingletonThreadPool)
            sa.event.listen(self.engine, "connect", _tune_sqlite)
            self.sessionmaker.configure(bind=self.engine)
        self._cache_size = int(cache_size)
        self._insert = self.SQLEvent.__table__.insert()
        # sender id -> (tracker as last saved, its number of events then, its sessions);
        # (None, 0, 0) for a conversation SQL did not have when it was last asked.
        self._saved: "OrderedDict[str, tuple[DialogueStateTracker | None, int, int]]" = (
            OrderedDict())

    def _cached(self, sender_id: str) -> DialogueStateTracker | None:
        entry = self._saved.get(sender_id)
        if entry is None or entry[0] is None:
            return None
        tracker, count, _ = entry
        if len(tracker.events) != count:  # changed but never saved: trust SQL instead
            del self._saved[sender_id]
            return None
        self._saved.move_to_end(sender_id)
        return tracker

    def _remember(self, sender_id: str, entry: tuple[DialogueStateTracker | None, int, int]
                  ) -> None:
        self._saved[sender_id] = entry
        self._saved.move_to_end(sender_id)
        while len(self._saved) > self._cache_size:
            self._saved.popitem(last=False)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """Return the conversation's tracker, from memory when this process saved it last."""
        tracker = self._cached(sender_id) or await super().retrieve(sender_id)
        if tracker is None:
            self._remember(sender_id, (None, 0, 0))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Write the new events to SQL in one statement, then remember the tracker."""
        await self.stream_events(tracker)
        entry = self._saved.get(tracker.sender_id)
        # This tracker as saved last, or the first save of a conversation SQL did not have.
        known = entry is not None and (entry[0] is tracker or entry[0] is None)
        new = (list(itertools.islice(tracker.events, entry[1], None)) if known
               else self._unstored_events(tracker))
        rows = [_row(tracker.sender_id, event) for event in new]
        if rows:  # a Core insert: the ORM's unit of work cost a tenth of a turn
            with self.engine.begin() as connection:
                connection.execute(self._insert, rows)
        # Counted over the new events only when the earlier ones are known: a count over the
        # whole conversation made each turn cost more the longer it was.
        sessions = entry[2] + _sessions(new) if known else _sessions(tracker.events)
        if sessions > 1:
            # A new session inside this tracker: SQL now returns only that session, so
            # re-read it rather than keep the older sessions' events in memory.
            self._saved.pop(tracker.sender_id, None)
            return
        self._remember(tracker.sender_id, (tracker, len(tracker.events), sessions))

    def _unstored_events(self, tracker: DialogueStateTracker) -> list[Event]:
        """Return the events of a tracker this store did not save last, less those in SQL."""
        with self.session_scope() as session:
            return list(self._additional_events(session, tracker))


def _sessions(events: Iterable[Event]) -> int:
    return sum(isinstance(event, SessionStarted) for event in events)


def _row(sender_id: str, event: Event) -> dict[str, Any]:
    """Return an event as a row of Rasa's events table, as SQLTrackerStore.save writes it."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }
