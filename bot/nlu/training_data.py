"""Reading the router's training data: Rasa NLU YAML and one-text-a-line files."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.errors import InvalidFaqData

_BULLET = re.compile(r"^\s*-\s+(.*\S)\s*$")


def read_rasa_nlu(path: Path) -> dict[str, list[str]]:
    """Return intent → examples from a Rasa 3 NLU YAML file."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples: dict[str, list[str]] = {}
    for block in document.get("nlu", []):
        if "intent" not in block:
            continue
        lines = str(block.get("examples", "")).splitlines()
        texts = [m.group(1) for m in map(_BULLET.match, lines) if m]
        if not texts:
            raise InvalidFaqData(f"{path}: intent {block['intent']!r} has no examples")
        examples.setdefault(block["intent"], []).extend(texts)
    return examples


def read_lines(path: Path) -> list[str]:
    """Return the non-empty, non-comment lines of a text file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def non_banking_texts(data_dir: Path) -> list[str]:
    """Return the questions that are not about money at all (the router's out_of_scope, the
    tuning's negatives)."""
    return read_lines(data_dir / "router" / "out_of_scope.txt")


def router_examples(data_dir: Path, faq_texts: list[str], *,
                    clinc_banking: bool = True) -> dict[str, list[str]]:
    """Return group → texts for the router: conversational intents, banking, out_of_scope,
    and the groups only the short model learns: bare banking words, short chatter and short
    signs of not following (GROUP_LABELS in bot/nlu/router.py).

    clinc_banking: also learn banking from CLINC150's texts about money (banking_clinc.txt:
    its banking and credit_cards domains, and the money intents of other domains). The
    out-of-scope benchmark sets hold some of those intents out as banking questions the bank
    has no answer for, so their deployments leave them out.
    The bare words and chatter teach only the router's short model, not `bankbot tune`.
    """
    from bot.nlu.router import BANKING, GROUP_LABELS, OUT_OF_SCOPE

    examples = read_rasa_nlu(data_dir / "nlu.yml")
    lists = ("banking_clinc.txt", "banking.txt") if clinc_banking else ("banking.txt",)
    examples[BANKING] = [*faq_texts,
                         *(t for name in lists for t in read_lines(data_dir / "router" / name))]
    examples[OUT_OF_SCOPE] = non_banking_texts(data_dir)
    for group in GROUP_LABELS:
        examples[group] = read_lines(data_dir / "router" / f"{group}.txt")
    return examples
