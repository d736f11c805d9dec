"""Keeps the FAQ index in step with the database, swapping in rebuilt indexes atomically."""

from __future__ import annotations

import logging
import threading

from bot.faq.store import FaqStore
from bot.search.embedder import Embedder
from bot.search.index import FaqIndex

logger = logging.getLogger(__name__)


class LiveIndex:
    """The index currently serving, rebuilt off the request path when FAQs change."""

    def __init__(self, store: FaqStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder
        self._current: FaqIndex | None = None
        self._version: tuple[int, str] | None = None
        self._rebuild_lock = threading.Lock()
        self.last_error: str | None = None

    @property
    def current(self) -> FaqIndex:
        """Return the index serving now, building it on first use."""
        if self._current is None:
            self.refresh(progress=True)
        assert self._current is not None
        return self._current

    def refresh(self, *, progress: bool = False) -> bool:
        """Rebuild if the FAQ content changed; return whether a new index went live.

        On failure the previous index keeps serving and the reason is kept in last_error.
        """
        with self._rebuild_lock:
            version = self.store.last_change()
            if version == self._version and self._current is not None:
                return False
            try:
                index = FaqIndex.build(self.store.list_faqs(), self.embedder, progress=progress)
            except Exception as exc:
                if self._current is None:
                    raise
                self.last_error = f"{type(exc).__name__}: {exc}"
                logger.exception("index rebuild failed; the previous index keeps serving")
                return False
            self._current, self._version, self.last_error = index, version, None
            logger.info("FAQ index live: %d FAQs", len(index))
            return True


class FixedIndex:
    """An index that never changes, with LiveIndex's interface: for evaluating a fixed FAQ set."""

    def __init__(self, index: FaqIndex) -> None:
        self.current = index
        self.last_error: str | None = None

    def refresh(self, *, progress: bool = False) -> bool:
        """Return False: there is nothing to rebuild."""
        return False
