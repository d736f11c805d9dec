"""`bankbot fit-thresholds`: choose the decision thresholds on train/valid data only.

Validation queries (never a test file):
- in scope: the alternates `bankbot tune` held out (same split; data/faq_added's, which it
  never learns, split alike), against an index of the rest and a router trained the served
  way on the rest (the served router has seen them all);
- uncovered banking: CLINC150 *val* about money, its banking and credit_cards domains and the
  money intents of other domains (datasets.FINANCE_INTENTS; should not be declined);
- out of domain: the rest of CLINC150 *val* plus oos_train/oos_val (should be declined or
  handled as chit-chat).

Each query is encoded, routed and searched once; then every candidate setting replays the
stored router output and FAQ candidates through `Decider.decide_encoded`, so the fit uses
exactly the serving decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np

from bot.config import Settings
from bot.decision import ANSWER, CLARIFY, DECLINE, INTENT, SUGGEST, Decider, offered_keys
from bot.evaluation.datasets import Example, clinc150, clinc150_finance
from bot.faq.seed import load_learnt, load_shipped, split_alternates
from bot.nlu.router import Router, RouterPrediction
from bot.search.embedder import Embedder
from bot.search.index import Candidate, FaqIndex

HOLDOUT = 0.1  # must match `bankbot tune --holdout` so tuning never saw these phrasings
# Wrong answers on the validation queries: the target is ≤ 2 % on test. 11 wrong in 1,000 is
# the most whose 95 % interval (Wilson, as the report gives) stays under 2 %. The 1.5 % used
# until 2026-12-07 gave 1.9 % on test for one encoder and 2.3 % for the next.
MAX_WRONG = 0.011
MAX_DECLINED_BANKING = 0.02
MAX_DECLINED_IN_SCOPE = 0.005
# Choices offered for a question no FAQ covers cost its customer a click before the person:
# at most one in twenty such questions.
MAX_SUGGESTED_BANKING = 0.05
ANSWER_GRID = [round(0.30 + 0.01 * i, 2) for i in range(66)]
MARGIN_GRID = [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06]
CLARIFY_GRID = [0.4, 0.5, 0.6, 0.7]
DECLINE_GRID = [round(0.30 + 0.05 * i, 2) for i in range(14)]
SUGGEST_GRID = [round(0.50 + 0.01 * i, 2) for i in range(51)]


class _ReplayRouter:
    """Returns the stored prediction of query number `vector`, and the router's word-for-word
    intents."""

    def __init__(self, predictions: list[RouterPrediction],
                 known_intent: Callable[[str], str | None]) -> None:
        self.predictions = predictions
        self.known_intent = known_intent

    def predict(self, vector: int) -> RouterPrediction:
        return self.predictions[vector]


class _ReplayIndex:
    """Returns the stored FAQ candidates of query number `vector`, and the index's FAQs for
    texts it holds word for word."""

    def __init__(self, candidates: list[list[Candidate]],
                 phrased: Callable[[str], str | None]) -> None:
        self.candidates = candidates
        self.phrased = phrased
        self.entries: dict[str, Any] = {}

    @property
    def current(self) -> _ReplayIndex:
        return self

    def search(self, vector: int, *, k: int = 3) -> list[Candidate]:
        return self.candidates[vector][:k]


@dataclass
class Group:
    """Validation queries of one kind, with their stored router output and candidates."""

    name: str
    truth: list[str | None]
    predictions: list[RouterPrediction]
    candidates: list[list[Candidate]]
    # The texts too: the decision looks at a message's language and its number of words.
    texts: list[str]
    # The router's intents for texts it learnt word for word (Router.known_intent).
    known_intent: Callable[[str], str | None] = lambda text: None
    # The FAQs for texts the index holds word for word (FaqIndex.phrased).
    phrased: Callable[[str], str | None] = lambda text: None

    def outcomes(self, settings: Settings, embedder: Embedder) -> list[tuple[str, str | None]]:
        """Return (decision, faq_key) of each query under these settings."""
        decider = Decider(settings, embedder, _ReplayRouter(self.predictions, self.known_intent),
                          _ReplayIndex(self.candidates, self.phrased))  # type: ignore[arg-type]
        return [(d.decision, d.faq_key)
                for d in (decider.decide_encoded(t, i) for i, t in enumerate(self.texts))]


def encode_group(name: str, examples: list[Example], truth: list[str | None], index: FaqIndex,
                 router: Router, embedder: Embedder) -> Group:
    """Encode, route and search a group of validation queries once (truth None: no FAQ)."""
    click.echo(f"encoding {name}: {len(examples)} texts", err=True)
    vectors: np.ndarray = embedder.encode([e.text for e in examples], progress=True)
    return Group(name, truth, router.predict_many(vectors),
                 [index.search(v, k=3) for v in vectors], [e.text for e in examples],
                 router.known_intent, index.phrased)


def validation_groups(settings: Settings, embedder: Embedder) -> list[Group]:
    """Return the in-scope, uncovered-banking and out-of-domain validation groups."""
    kept, held = split_alternates(load_shipped(settings.data_dir), holdout=HOLDOUT)
    index = FaqIndex.build(kept, embedder, progress=True)
    click.echo("training a router without the held-out phrasings", err=True)
    learnt = {e.key for e in load_learnt(settings.data_dir)}  # as `bankbot train`
    router = Router.train_for_faqs(settings.data_dir, [e for e in kept if e.key in learnt],
                                   embedder, progress=True)
    in_scope = [Example(t, key) for key, texts in held.items() for t in texts]
    finance = clinc150_finance(settings.datasets_dir)
    val = clinc150(settings.datasets_dir, "val")
    banking = [e for e in val if e.label in finance]
    ood = [e for e in val if e.label not in finance]
    ood += clinc150(settings.datasets_dir, "oos_train") + clinc150(settings.datasets_dir, "oos_val")
    return [
        encode_group("held-out FAQ phrasings (BANKING77 train)", in_scope,
                     [e.label for e in in_scope], index, router, embedder),
        encode_group("CLINC150 val, finance", banking, [None] * len(banking), index,
                     router, embedder),
        encode_group("CLINC150 val not about money + oos_train/oos_val", ood, [None] * len(ood),
                     index, router, embedder),
    ]


def _share(outcomes: list[tuple[str, str | None]], wanted: set[str]) -> float:
    return sum(d in wanted for d, _ in outcomes) / len(outcomes)


def _in_scope_figures(group: Group, outcomes: list[tuple[str, str | None]]) -> dict[str, float]:
    right = sum(d == ANSWER and k == t for (d, k), t in zip(outcomes, group.truth))
    wrong = sum(d == ANSWER and k != t for (d, k), t in zip(outcomes, group.truth))
    helped = sum(d == SUGGEST and t in offered_keys(cands)
                 for (d, _), t, cands in zip(outcomes, group.truth, group.candidates))
    n = len(outcomes)
    return {"right": right / n, "wrong": wrong / n, "clarified": _share(outcomes, {CLARIFY}),
            "suggested": _share(outcomes, {SUGGEST}), "suggested_right_among": helped / n,
            "declined": _share(outcomes, {DECLINE})}


def fit(settings: Settings, embedder: Embedder) -> tuple[dict[str, float], dict]:
    """Return the served thresholds and the validation figures at them."""
    return fit_groups(settings, embedder, *validation_groups(settings, embedder))


def fit_groups(settings: Settings, embedder: Embedder, in_scope: Group, banking: Group,
               ood: Group, *, banking_uncovered: bool = False) -> tuple[dict[str, float], dict]:
    """Return the thresholds fitted on these groups and the validation figures at them.

    in_scope: queries with an FAQ; banking: banking queries that must not be declined; ood:
    out-of-domain queries (only reported). banking_uncovered: no banking query has an FAQ, so
    answering one is a wrong answer too, held under MAX_WRONG like the in-scope ones. (The
    served fit's banking group, other banks' questions, partly overlaps the seed FAQs.)
    """
    # 1. decline: the lowest threshold that declines almost no banking question. Measured
    # without suggestions, which offer the FAQs to some of those the router takes for
    # chatter: the threshold bounds how often it does, whatever the customer then gets.
    decline = DECLINE_GRID[-1]
    for candidate in DECLINE_GRID:
        trial = settings.model_copy(update={"decline_threshold": candidate,
                                            "suggest_threshold": 1.0})
        if (_share(in_scope.outcomes(trial, embedder), {DECLINE}) <= MAX_DECLINED_IN_SCOPE
                and _share(banking.outcomes(trial, embedder), {DECLINE}) <= MAX_DECLINED_BANKING):
            decline = candidate
            break

    # 2. answer/clarify: the most right answers with wrong answers under MAX_WRONG; if no
    # setting gets there (mislabelled data), the one with the fewest wrong answers.
    best: tuple[tuple[bool, float, float, float], dict[str, float]] | None = None
    click.echo("searching answer/clarify thresholds", err=True)
    for answer in ANSWER_GRID:
        for clarify in CLARIFY_GRID:
            if clarify > answer:
                continue
            for margin in MARGIN_GRID:
                values = {"decline_threshold": decline, "answer_threshold": answer,
                          "clarify_threshold": clarify, "clarify_margin": margin}
                trial = settings.model_copy(update=values)
                figures = _in_scope_figures(in_scope, in_scope.outcomes(trial, embedder))
                wrong = figures["wrong"]
                if banking_uncovered:
                    wrong = max(wrong, _share(banking.outcomes(trial, embedder), {ANSWER}))
                met = wrong <= MAX_WRONG
                score = (met, 0.0 if met else -wrong, figures["right"], -figures["clarified"])
                if best is None or score > best[0]:
                    best = (score, values)
    assert best is not None
    values = best[1]

    # 3. suggest: the lowest threshold that offers choices for few banking questions without
    # an FAQ. It only changes what would have been escalated: right and wrong answers stay.
    suggest = SUGGEST_GRID[-1]
    for candidate in SUGGEST_GRID:
        trial = settings.model_copy(update={**values, "suggest_threshold": candidate})
        if _share(banking.outcomes(trial, embedder), {SUGGEST}) <= MAX_SUGGESTED_BANKING:
            suggest = candidate
            break
    values["suggest_threshold"] = suggest
    chosen = settings.model_copy(update=values)
    banking_out, ood_out = banking.outcomes(chosen, embedder), ood.outcomes(chosen, embedder)
    report = {
        "in_scope": _in_scope_figures(in_scope, in_scope.outcomes(chosen, embedder)),
        "banking_declined": _share(banking_out, {DECLINE}),
        "banking_answered": _share(banking_out, {ANSWER}),
        "banking_suggested": _share(banking_out, {SUGGEST}),
        "ood_declined_or_chat": _share(ood_out, {DECLINE, INTENT}),
        "ood_answered": _share(ood_out, {ANSWER}),
        "ood_suggested": _share(ood_out, {SUGGEST}),
        "sizes": {g.name: len(g.truth) for g in (in_scope, banking, ood)},
        "wrong_answers_under_cap": best[0][0],
    }
    return {"intent_threshold": settings.intent_threshold, **values}, report


def write_thresholds(path: Path, values: dict[str, float], report: dict, encoder: str,
                     weights_sha256: str) -> None:
    """Write bot/thresholds.yml with a comment saying how the values were chosen."""
    s = report["in_scope"]
    lines = [
        "# Decision thresholds, fitted by `bankbot fit-thresholds` on train/valid data only, never",
        "# on test files. In scope: the 10 % of each FAQ's BANKING77-train alternates that",
        "# `bankbot tune` holds out, searched against an index of the rest and routed by a",
        "# router trained without them. Uncovered banking: CLINC150 val about money (banking",
        "# + credit_cards domains, money intents of others). Out of domain: the rest of CLINC150",
        "# val, + oos_train/oos_val. decline_threshold: the lowest that declines <= 0.5 % of",
        "# in-scope and <= 2 % of banking queries (counted as if none were offered choices",
        "# instead); then answer/clarify maximise right answers with",
        f"# wrong answers <= {MAX_WRONG:.1%} of in-scope queries; then suggest_threshold is the",
        f"# lowest that offers choices for <= {MAX_SUGGESTED_BANKING:.0%} of banking queries."
        " intent_threshold is not fitted.",
        f"# Encoder: {encoder}. At these values on validation: in scope right {s['right']:.1%},",
        f"# wrong {s['wrong']:.1%}, clarified {s['clarified']:.1%}, suggested {s['suggested']:.1%}"
        f" (right FAQ among the choices {s['suggested_right_among']:.1%}), declined"
        f" {s['declined']:.1%};",
        f"# banking declined {report['banking_declined']:.1%}, suggested"
        f" {report['banking_suggested']:.1%}; out of domain declined or chit-chat"
        f" {report['ood_declined_or_chat']:.1%}.",
        "# Environment variables BOT_<NAME> override each value.",
    ]
    lines += [f"{name}: {values[name]}" for name in ("intent_threshold", "decline_threshold",
                                                     "answer_threshold", "clarify_margin",
                                                     "clarify_threshold", "suggest_threshold")]
    lines += ["# The encoder's weights (sha256); the service warns when it serves others.",
              f"fitted_for_encoder: {weights_sha256}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
