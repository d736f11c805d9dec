"""Wiring: builds the collaborators from Settings, loading nothing at import time."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from bot.config import Settings
from bot.db import Database
from bot.decision import Decider
from bot.faq.store import FaqStore
from bot.nlu.router import Router
from bot.search.embedder import Embedder, bundled_model_path
from bot.search.live import LiveIndex
from bot.staff.inbox import InboxStore
from bot.tickets import TicketStore

logger = logging.getLogger(__name__)


def model_path(settings: Settings) -> Path:
    """Return the encoder: the configured one, else a tuned one if present, else the bundled one."""
    if settings.model_path is not None:
        return settings.model_path
    if (settings.tuned_model_dir / "config.json").exists():
        return settings.tuned_model_dir
    return bundled_model_path()


def embedder_for(settings: Settings, model: Path) -> Embedder:
    """Return the encoder at model, run as the service runs its own (backend, threads, caches)."""
    return Embedder(model, cache_dir=settings.embedding_cache_dir,
                    backend=settings.encoder_backend, export_root=settings.onnx_export_dir,
                    threads=settings.encoder_threads)


@dataclass
class Services:
    """Everything the HTTP service, the CLI and the evaluation share."""

    settings: Settings

    @cached_property
    def db(self) -> Database:
        """Return the database."""
        return Database(self.settings.db_url)

    @cached_property
    def faqs(self) -> FaqStore:
        """Return the FAQ store."""
        return FaqStore(self.db)

    @cached_property
    def tickets(self) -> TicketStore:
        """Return the ticket store."""
        return TicketStore(self.db)

    @cached_property
    def inbox(self) -> InboxStore:
        """Return the store of escalated and declined messages (the console's inbox)."""
        return InboxStore(self.db)

    @cached_property
    def embedder(self) -> Embedder:
        """Return the sentence encoder (weights load on first encode)."""
        return embedder_for(self.settings, model_path(self.settings))

    @cached_property
    def router(self) -> Router:
        """Return the trained router."""
        return Router.load(self.settings.router_path, fingerprint=self.embedder.fingerprint)

    @cached_property
    def index(self) -> LiveIndex:
        """Return the live FAQ index."""
        return LiveIndex(self.faqs, self.embedder)

    @cached_property
    def decider(self) -> Decider:
        """Return the decision maker."""
        return Decider(self.settings, self.embedder, self.router, self.index)

    def warm_up(self) -> None:
        """Load the model, the router and the index now rather than on the first message."""
        if warning := self.thresholds_warning():
            logger.warning(warning)
        self.decider.decide("warm up")

    def thresholds_warning(self) -> str | None:
        """Return a warning if the thresholds were fitted for an encoder with other weights."""
        served = self.embedder.weights_sha256
        if self.settings.thresholds_fitted_for(served) is not False:
            return None
        return (f"bot/thresholds.yml was fitted for an encoder with other weights (sha256 "
                f"{self.settings.fitted_for_encoder[:12]}…, served {served[:12]}…): answers "
                "may be wrong more often than measured; run `bankbot fit-thresholds`")
