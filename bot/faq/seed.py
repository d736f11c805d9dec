"""Seed FAQs: data/faq/<category>.yml, validated as a whole before anything is written."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import yaml

from bot.errors import InvalidFaqData
from bot.faq.store import FaqEntry


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidFaqData(f"{where}: must be a non-empty string")
    return value.strip()


def load_seed(faq_dir: Path) -> list[FaqEntry]:
    """Return every FAQ in the folder; raise InvalidFaqData naming the first bad entry."""
    entries: list[FaqEntry] = []
    seen: dict[str, str] = {}
    files = sorted(faq_dir.glob("*.yml"))
    if not files:
        raise InvalidFaqData(f"{faq_dir}: no FAQ files (*.yml)")
    for path in files:
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InvalidFaqData(f"{path}: not valid YAML ({exc})") from exc
        if not isinstance(document, dict) or not isinstance(document.get("faqs"), list):
            raise InvalidFaqData(f"{path}: expected 'category' and a 'faqs' list")
        category = _text(document.get("category"), f"{path}: category")
        for number, item in enumerate(document["faqs"], start=1):
            where = f"{path}: faq {number}"
            if not isinstance(item, dict):
                raise InvalidFaqData(f"{where}: expected a mapping")
            key = _text(item.get("key"), f"{where}: key")
            if key in seen:
                raise InvalidFaqData(f"{where}: key {key!r} already used in {seen[key]}")
            seen[key] = str(path)
            alternates = item.get("alternates") or []
            if not isinstance(alternates, list):
                raise InvalidFaqData(f"{where}: alternates must be a list")
            entries.append(
                FaqEntry(
                    key=key,
                    category=category,
                    question=_text(item.get("question"), f"{where}: question"),
                    answer=_text(item.get("answer"), f"{where}: answer"),
                    alternates=tuple(_text(a, f"{where}: alternate") for a in alternates),
                )
            )
    return entries


def load_learnt(data_dir: Path) -> list[FaqEntry]:
    """Return the seed FAQs the encoder (`bankbot tune`) and the router (`bankbot train`) learn:
    data/faq."""
    return load_seed(data_dir / "faq")


def load_shipped(data_dir: Path) -> list[FaqEntry]:
    """Return the FAQs the assistant ships with: the learnt ones and data/faq_added, served as
    FAQs that staff add after training are: searched, not learnt (a retrain moves every fitted
    threshold). Raise InvalidFaqData if a key is in both."""
    entries = load_learnt(data_dir)
    added_dir = data_dir / "faq_added"
    added = load_seed(added_dir) if any(added_dir.glob("*.yml")) else []
    taken = {e.key for e in entries}
    for entry in added:
        if entry.key in taken:
            raise InvalidFaqData(f"{added_dir}: key {entry.key!r} is already in {data_dir / 'faq'}")
    return entries + added


def split_alternates(
    entries: list[FaqEntry], *, holdout: float, seed: int = 0
) -> tuple[list[FaqEntry], dict[str, list[str]]]:
    """Hold out a fixed share of each FAQ's alternates, for tuning and threshold fitting.

    The same seed always holds out the same phrasings, so `bankbot tune` never trains on
    the phrasings `bankbot fit-thresholds` later measures on.

    Returns:
        The FAQs without their held-out alternates, and FAQ key → held-out alternates.
    """
    kept: list[FaqEntry] = []
    held: dict[str, list[str]] = {}
    for entry in entries:
        ranked = sorted(entry.alternates,
                        key=lambda t: hashlib.sha1(f"{seed}:{t}".encode()).digest())
        count = int(round(len(ranked) * holdout))
        out = set(ranked[:count])
        held[entry.key] = [a for a in entry.alternates if a in out]
        kept.append(replace(entry, alternates=tuple(a for a in entry.alternates if a not in out)))
    return kept, held
