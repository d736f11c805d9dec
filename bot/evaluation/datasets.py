"""Loaders for the public data sets in ../shared/datasets (see its README for their origin).

Every loader names the split it returns. Test files are read only to report figures;
models and thresholds are chosen on train/valid (issue 3).
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bot.faq.store import FaqEntry

OOS = "oos"
# CLINC150's intents about money: its banking and credit_cards domains, and the money intents
# of its other domains (travel, work). All are in the bank's domain ("anything else about money",
# ../shared/datasets/README.md): never out-of-domain negatives. data/router/banking_clinc.txt
# holds their train texts; out_of_scope.txt, the router's and tuning's negatives, none.
FINANCE_DOMAINS = ("banking", "credit_cards")
FINANCE_INTENTS = ("exchange_rate", "travel_notification", "direct_deposit", "income", "payday",
                   "taxes", "w2", "rollover_401k", "insurance", "insurance_change")


@dataclass(frozen=True)
class Example:
    """One labelled query; label is "oos" for out-of-scope rows."""

    text: str
    label: str


@dataclass(frozen=True)
class OosSet:
    """An out-of-scope benchmark: train for the FAQ, then in-scope, ID-OOS and OOD-OOS rows."""

    name: str
    split: str
    train: list[Example]
    in_scope: list[Example]
    id_oos: list[Example]
    ood_oos: list[Example]


def normalise(text: str) -> str:
    """Return the text lower-cased with whitespace collapsed, for overlap checks."""
    return " ".join(text.lower().split())


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _examples(path: Path, column: str = "label") -> list[Example]:
    """Return the file's non-blank rows; a row with an empty column value is dropped."""
    return [
        Example(row["text"].strip(), row[column])
        for row in _rows(path)
        if row["text"].strip() and row.get(column)
    ]


def banking77(datasets_dir: Path, split: str) -> list[Example]:
    """Return BANKING77 train or test (text, category)."""
    return [Example(r["text"].strip(), r["category"])
            for r in _rows(datasets_dir / "banking77" / f"{split}.csv")]


def clinc150(datasets_dir: Path, split: str) -> list[Example]:
    """Return CLINC150 data_full rows of a split: train, val, test, oos_train, oos_val, oos_test."""
    data = json.loads((datasets_dir / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    return [Example(text, label) for text, label in data[split]]


def clinc150_finance(datasets_dir: Path) -> set[str]:
    """Return CLINC150's intents about money: FINANCE_DOMAINS' and FINANCE_INTENTS."""
    domains = json.loads((datasets_dir / "clinc150" / "domains.json").read_text(encoding="utf-8"))
    return {intent for domain in FINANCE_DOMAINS for intent in domains[domain]} | set(
        FINANCE_INTENTS)


def clinc_single_domain(datasets_dir: Path, split: str) -> OosSet:
    """Return Zhang et al.'s CLINC banking single-domain set; split is "valid" or "test"."""
    folder = datasets_dir / "clinc_single_domain_oos_banking"
    return OosSet(
        name="CLINC single-domain banking",
        split=split,
        train=_examples(folder / "train.csv"),
        in_scope=_examples(folder / f"{split}.csv"),
        id_oos=_examples(folder / f"id-oos_{split}.csv"),
        ood_oos=_examples(folder / f"ood-oos_{split}.csv"),
    )


def banking77_oos(datasets_dir: Path, split: str, *, labels: str = "label") -> OosSet:
    """Return BANKING77-OOS; labels is "label" (published) or "label_by_text_lookup".

    The published files misalign texts and labels (see its SOURCE.md). With the lookup,
    in-scope rows whose text belongs to a held-out intent count as ID-OOS, and ID-OOS rows
    whose text belongs to an in-scope intent count as in-scope.
    """
    folder = datasets_dir / "banking77_oos"
    train = _examples(folder / "train.csv", labels)
    in_scope = _examples(folder / f"{split}.csv", labels)
    id_oos = [Example(e.text, OOS) for e in _examples(folder / f"id-oos_{split}.csv")]
    if labels != "label":
        known = {e.label for e in _examples(folder / "train.csv", "label")}
        train = [e for e in train if e.label in known]
        moved = [Example(e.text, OOS) for e in in_scope if e.label not in known]
        looked_up = _examples(folder / f"id-oos_{split}.csv", labels)
        back = [e for e in looked_up if e.label in known]
        back_texts = {e.text for e in back}
        in_scope = [e for e in in_scope if e.label in known] + back
        id_oos = [e for e in id_oos if e.text not in back_texts] + moved
    return OosSet(
        name=f"BANKING77-OOS ({labels})",
        split=split,
        train=train,
        in_scope=in_scope,
        id_oos=id_oos,
        ood_oos=_examples(folder / f"ood-oos_{split}.csv"),
    )


def faqs_from_examples(examples: list[Example]) -> list[FaqEntry]:
    """Return one FAQ per label whose phrasings are that label's texts (for per-set indexes)."""
    texts: dict[str, list[str]] = defaultdict(list)
    for example in examples:
        texts[example.label].append(example.text)
    return [
        FaqEntry(key=label, category="eval", question=rows[0], answer=label,
                 alternates=tuple(rows[1:]))
        for label, rows in sorted(texts.items())
    ]
