"""Safe rendering for the console: limited Markdown and before/after diffs."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markupsafe import Markup

from bot.faq.review import FaqVersion

# Paragraphs, emphasis, lists, links and code spans; raw HTML is shown as text, and
# markdown-it refuses javascript:, vbscript:, file: and data: links.
_markdown = MarkdownIt("zero", {"html": False, "linkify": False}).enable(
    ["emphasis", "list", "link", "backticks", "newline", "escape", "entity"]
)


def render_markdown(text: str) -> Markup:
    """Return the answer as HTML safe to put in a page."""
    return Markup(_markdown.render(text))


@dataclass(frozen=True)
class FieldDiff:
    """Changed lines of one field: (marker, line) with marker ' ', '-' or '+'."""

    name: str
    lines: list[tuple[str, str]]


def _lines(version: FaqVersion | None, name: str) -> list[str]:
    if version is None:
        return []
    if name == "alternates":
        return list(version.alternates)
    if name == "status":
        return ["live" if version.active else "retired"]
    return str(getattr(version, name)).splitlines() or [""]


def diff_versions(before: FaqVersion | None, after: FaqVersion) -> list[FieldDiff]:
    """Return the fields that differ, each as a line diff."""
    diffs = []
    for name in ("status", "category", "question", "answer", "alternates"):
        old, new = _lines(before, name), _lines(after, name)
        if old == new:
            continue
        lines = []
        for line in difflib.ndiff(old, new):
            marker = line[:1]
            if marker in (" ", "-", "+"):
                lines.append((marker, line[2:]))
        diffs.append(FieldDiff(name, lines))
    return diffs
