"""The staff console at /staff: FAQ editing with review, history, inbox and tickets (issue 5)."""

from bot.console.app import create_console

__all__ = ["create_console"]
