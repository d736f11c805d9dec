"""The FAQs the assistant ships with: data/faq (learnt by the encoder and the router) and
data/faq_added (served without being learnt, as FAQs staff add after training are)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import InvalidFaqData
from bot.faq.seed import load_learnt, load_shipped

FAQ = """category: {category}
faqs:
- key: {key}
  question: {question}
  answer: An answer.
  alternates:
  - another way to ask
"""


def _write(folder: Path, name: str, key: str, question: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(FAQ.format(category=name, key=key, question=question),
                               encoding="utf-8")


def test_the_added_faqs_are_shipped_after_the_learnt_ones(tmp_path: Path) -> None:
    _write(tmp_path / "faq", "cards.yml", "card_arrival", "Where is my card?")
    _write(tmp_path / "faq_added", "contact.yml", "contact_us", "How can I contact you?")
    assert [e.key for e in load_shipped(tmp_path)] == ["card_arrival", "contact_us"]
    assert [e.key for e in load_learnt(tmp_path)] == ["card_arrival"]


def test_without_added_faqs_the_seed_is_shipped_alone(tmp_path: Path) -> None:
    _write(tmp_path / "faq", "cards.yml", "card_arrival", "Where is my card?")
    assert [e.key for e in load_shipped(tmp_path)] == ["card_arrival"]


def test_an_added_faq_may_not_reuse_a_learnt_key(tmp_path: Path) -> None:
    _write(tmp_path / "faq", "cards.yml", "card_arrival", "Where is my card?")
    _write(tmp_path / "faq_added", "more.yml", "card_arrival", "Has my card been sent?")
    with pytest.raises(InvalidFaqData, match="card_arrival"):
        load_shipped(tmp_path)


def test_the_shipped_added_faqs_are_valid_and_new() -> None:
    data = Path(__file__).resolve().parents[1] / "data"
    learnt = {e.key for e in load_learnt(data)}
    added = [e for e in load_shipped(data) if e.key not in learnt]
    assert added and all(len(e.alternates) >= 10 for e in added)
