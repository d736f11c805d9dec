"""Domain errors; each carries the HTTP status it becomes at the edge."""

from __future__ import annotations


class BotError(Exception):
    """Base of every error the bot reports to a caller."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FaqNotFound(BotError):
    """No FAQ has the given key."""

    status_code = 404

    def __init__(self, *, faq_key: str) -> None:
        super().__init__(f"FAQ not found: {faq_key}")
        self.faq_key = faq_key


class TicketNotFound(BotError):
    """No ticket has the given reference."""

    status_code = 404

    def __init__(self, *, reference: str) -> None:
        super().__init__(f"Ticket not found: {reference}")
        self.reference = reference


class InvalidFaqData(BotError):
    """Seed or imported FAQ content is not valid; names the file and entry."""

    status_code = 400


class IndexNotBuilt(BotError):
    """The search index or router has not been built yet (run `make setup`)."""

    status_code = 503
