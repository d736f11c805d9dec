"""Checks on proposed FAQ content before it goes live (issue 5).

Exact duplicates across FAQs are refused; a new alternate phrasing that the current
model places nearer another FAQ than its own is flagged for the reviewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from bot.faq.review import FaqVersion


class _Encoder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray: ...


class _Candidate(Protocol):
    key: str
    score: float


class _Index(Protocol):
    def search(self, vector: np.ndarray, *, k: int = 3) -> list[_Candidate]: ...


def normalise(text: str) -> str:
    """Return the text as duplicates are compared: case and spacing ignored."""
    return " ".join(text.casefold().split())


def find_duplicates(changes: list[FaqVersion], live: list[FaqVersion]) -> list[str]:
    """Return a description of every text that two different active FAQs would share."""
    changed = {c.key for c in changes}
    versions = [v for v in live if v.active and v.key not in changed]
    versions += [c for c in changes if c.active]
    owners: dict[str, str] = {}
    problems: list[str] = []
    for version in versions:
        for text in (version.question, *version.alternates):
            norm = normalise(text)
            owner = owners.setdefault(norm, version.key)
            if owner != version.key and version.key in changed:
                problems.append(f"{text!r} in {version.key} is already in {owner}")
    return problems


@dataclass(frozen=True)
class NearnessFlag:
    """A new alternate phrasing that lands nearer another FAQ than its own."""

    faq_key: str
    text: str
    own_score: float
    other_key: str
    other_score: float


def flag_alternates(changes: list[FaqVersion], live: dict[str, FaqVersion],
                    encoder: _Encoder, index: _Index) -> list[NearnessFlag]:
    """Flag each new alternate nearer another live FAQ than the rest of its own FAQ's texts."""
    flags: list[NearnessFlag] = []
    for change in changes:
        if not change.active:
            continue
        known = {normalise(t) for t in live[change.key].alternates} if change.key in live else set()
        new = [a for a in change.alternates if normalise(a) not in known]
        if not new:
            continue
        own_texts = [change.question, *change.alternates]
        own_vectors = encoder.encode(own_texts)
        for text in new:
            vector = own_vectors[own_texts.index(text)]
            rest = [v for t, v in zip(own_texts, own_vectors) if normalise(t) != normalise(text)]
            own = max((float(np.dot(vector, v)) for v in rest), default=0.0)
            others = [c for c in index.search(vector, k=4) if c.key != change.key]
            if others and others[0].score > own:
                flags.append(NearnessFlag(change.key, text, own, others[0].key, others[0].score))
    return flags
