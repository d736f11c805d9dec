"""Counting a message's words, for the router's short model and the decision's rule for
messages too short to escalate; and comparing messages word for word with known texts."""

from __future__ import annotations

import re
from collections.abc import Iterable

# A word: letters or digits, joined by hyphens or apostrophes ("top-up", "don't"), or one
# Chinese or Japanese character (those scripts write no spaces).
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
_WORD = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+(?:[-'’][^\W_{_CJK}]+)*")


def normalised(text: str) -> str:
    """Return text as compared word for word: lower case, single spaces."""
    return " ".join(text.lower().split())


def word_for_word(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return normalised text → label for the (text, label) pairs, keeping only the texts
    that have one label: a text given two is no evidence for either."""
    labels: dict[str, set[str]] = {}
    for text, label in pairs:
        labels.setdefault(normalised(text), set()).add(label)
    return {text: next(iter(found)) for text, found in labels.items() if len(found) == 1}


def count_words(text: str) -> int:
    """Return the number of words in text."""
    return len(_WORD.findall(text))
