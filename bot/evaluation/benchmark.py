"""`bankbot eval`: run every benchmark of issue 3 through the real Decider and FaqIndex.

Test files are read only here, and only to report. Each figure carries the split that
produced it. The decision is never re-implemented: each query goes through
`Decider.decide_encoded`, the same code `/model/parse` runs after encoding.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import click
import numpy as np

from bot.config import Settings
from bot.decision import (
    ANSWER,
    CLARIFY,
    DECLINE,
    ESCALATE,
    INTENT,
    NEEDS_DETAIL,
    OTHER_LANGUAGE,
    SUGGEST,
    Decider,
    Decision,
    clean_text,
    offered_keys,
)
from bot.evaluation import metrics
from bot.evaluation.datasets import (
    Example,
    OosSet,
    banking77,
    banking77_oos,
    clinc_single_domain,
    faqs_from_examples,
    normalise,
)
from bot.evaluation.deployment import deploy, set_router_examples
from bot.evaluation.tuning import tuning_report
from bot.faq.seed import load_shipped
from bot.nlu.router import Router
from bot.nlu.training_data import read_lines
from bot.search.embedder import Embedder
from bot.search.index import FaqIndex
from bot.search.live import FixedIndex

# How a decision counts on each kind of query.
IN_SCOPE_OUTCOMES = ("answered_right", "answered_wrong", "clarified", "suggested", "escalated",
                     "declined", "intent")
OOS_OUTCOMES = ("escalated", "declined", "answered_wrong", "clarified", "suggested", "intent")
LATENCY_QUERIES = 50
THRESHOLD_NAMES = ("intent_threshold", "decline_threshold", "answer_threshold", "clarify_margin",
                   "clarify_threshold", "suggest_threshold")


@dataclass
class Bench:
    """What every benchmark needs: settings, the serving encoder and router."""

    settings: Settings
    embedder: Embedder
    router: Router

    def encode(self, texts: Sequence[str], what: str) -> np.ndarray:
        """Encode cleaned texts with a progress bar, reusing the embedding cache."""
        click.echo(f"encoding {what}: {len(texts)} texts", err=True)
        limit = self.settings.max_message_chars
        return self.embedder.encode([clean_text(t, limit=limit) for t in texts], progress=True)

    def decider(self, index: FaqIndex) -> Decider:
        """Return the service's Decider over a fixed FAQ index."""
        return Decider(self.settings, self.embedder, self.router, FixedIndex(index))


def outcome(decision: Decision, truth: str | None) -> str:
    """Name what a decision means for a query whose right FAQ is truth (None: out of scope)."""
    if decision.decision == ANSWER:
        if truth is None:
            return "answered_wrong"
        return "answered_right" if decision.faq_key == truth else "answered_wrong"
    return {CLARIFY: "clarified", SUGGEST: "suggested", ESCALATE: "escalated",
            DECLINE: "declined", INTENT: "intent"}[decision.decision]


def suggested_right_among(decisions: list[Decision], truth: list[str]) -> float:
    """Return the share of queries offered choices (suggest) with their right FAQ among them."""
    return sum(d.decision == SUGGEST and t in offered_keys(d.candidates)
               for d, t in zip(decisions, truth)) / len(truth)


def _decide_all(decider: Decider, examples: list[Example], vectors: np.ndarray) -> list[Decision]:
    return [decider.decide_encoded(e.text, v) for e, v in zip(examples, vectors)]


def _stand_ins(decisions: list[Decision]) -> dict[str, int]:
    """Count the intents that stand in for a decline or an escalation: told we read English
    only (every test set is English), asked for more than a word or two."""
    return {intent: sum(d.intent == intent for d in decisions)
            for intent in (OTHER_LANGUAGE, NEEDS_DETAIL)}


def _summary(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def banking77_benchmark(bench: Bench) -> dict[str, Any]:
    """Top-1, macro-F1, per-FAQ P/R, confusions and decisions on BANKING77 test."""
    datasets_dir = bench.settings.datasets_dir
    entries = load_shipped(bench.settings.data_dir)
    click.echo(f"encoding the seed FAQs: {sum(len(e.texts) for e in entries)} phrasings", err=True)
    index = FaqIndex.build(entries, bench.embedder, progress=True)
    test = banking77(datasets_dir, "test")
    vectors = bench.encode([e.text for e in test], "BANKING77 test")
    truth = [e.label for e in test]
    # FAQs a bank adds beyond BANKING77's topics stay in the index: answering a test query
    # with one of them counts wrong, as it would be for the customer.
    known = set(truth)
    own = [e.key for e in entries if e.key not in known]
    top = [index.search(v, k=1)[0] for v in vectors]
    predicted = [c.key for c in top]
    decisions = _decide_all(bench.decider(index), test, vectors)
    outcomes = [outcome(d, e.label) for d, e in zip(decisions, test)]
    answered = [o for o in outcomes if o.startswith("answered")]
    curve = metrics.precision_coverage([c.score for c in top],
                                       [p == t for p, t in zip(predicted, truth)])
    pairs = metrics.confused_pairs(truth, predicted, top=10)
    labels = sorted({label for t, p, _ in pairs for label in (t, p)})
    return {
        "split": f"BANKING77 test (3,080); FAQ index = the seed FAQs: {len(entries) - len(own)} "
                 "built from BANKING77 train only"
                 + (f", and {len(own)} written for the bank that BANKING77 has no label for "
                    f"({', '.join(own)}; an answer from one counts wrong)" if own else ""),
        "top1_accuracy": metrics.accuracy(truth, predicted),
        "macro_f1": metrics.macro_f1(truth, predicted),
        "per_faq": [s.__dict__ for s in metrics.per_class(truth, predicted)],
        "confused_pairs": pairs,
        "top_error_confusion": {
            "labels": labels,
            "counts": [[sum(t == a and p == b for t, p in zip(truth, predicted)) for b in labels]
                       for a in labels],
        },
        "decisions": metrics.shares(outcomes, IN_SCOPE_OUTCOMES),
        "suggested_right_among": suggested_right_among(decisions, truth),
        "stand_ins": _stand_ins(decisions),
        # How far 3,080 queries pin each figure down (95 % Wilson intervals).
        "intervals": {
            "top1_accuracy": metrics.proportion_interval(
                sum(p == t for p, t in zip(predicted, truth)), len(truth)),
            **{name: metrics.proportion_interval(outcomes.count(name), len(outcomes))
               for name in ("answered_right", "answered_wrong")},
        },
        "answer_precision": (answered.count("answered_right") / len(answered)) if answered else 0.0,
        "curve": curve,
        "operating_point": {
            "answer_threshold": bench.settings.answer_threshold,
            "coverage": len(answered) / len(outcomes),
            "precision": (answered.count("answered_right") / len(answered)) if answered else 0.0,
        },
    }


def _top_scores(index: FaqIndex, vectors: np.ndarray) -> tuple[list[str], list[float]]:
    top = [index.search(v, k=1)[0] for v in vectors]
    return [c.key for c in top], [c.score for c in top]


def oos_benchmark(bench: Bench, test: OosSet, valid: OosSet) -> dict[str, Any]:
    """Score-based OOS metrics and the decisions on one OOS set, its FAQ built from its train."""
    name = test.name
    click.echo(f"encoding {name} train (its FAQ index): {len(test.train)} texts", err=True)
    index = FaqIndex.build(faqs_from_examples(test.train), bench.embedder, progress=True)

    def encoded(rows: list[Example], what: str) -> np.ndarray:
        return bench.encode([e.text for e in rows], f"{name} {what}")

    # The acceptance threshold is chosen on valid: keep 95 % of valid in-scope queries.
    _, valid_scores = _top_scores(index, encoded(valid.in_scope, "valid in-scope"))
    threshold = metrics.threshold_for_coverage(valid_scores, 0.95)
    # The domain gate (in scope vs another domain) is chosen on valid too: the threshold
    # that best separates valid in-scope from valid OOD-OOS.
    _, valid_ood = _top_scores(index, encoded(valid.ood_oos, "valid OOD-OOS"))
    domain_gate = metrics.balanced_threshold(valid_scores, valid_ood)
    vin, vid, vood = (encoded(test.in_scope, "test in-scope"), encoded(test.id_oos, "test ID-OOS"),
                      encoded(test.ood_oos, "test OOD-OOS"))
    keys, in_scores = _top_scores(index, vin)
    _, id_scores = _top_scores(index, vid)
    _, ood_scores = _top_scores(index, vood)
    truth = [e.label for e in test.in_scope]

    def interval(share: float, rows: list[float] | list[str]) -> tuple[float, float]:
        """Return the 95 % interval of a share of these test queries (the threshold as given)."""
        return metrics.proportion_interval(round(share * len(rows)), len(rows))

    def in_scope_accuracy(gate: float) -> float:
        """Return the share of in-scope queries whose top FAQ is right and clears the gate."""
        return sum(k == t and s >= gate for k, t, s in zip(keys, truth, in_scores)) / len(truth)

    test_95 = metrics.threshold_for_coverage(in_scores, 0.95)
    gate_accuracy = in_scope_accuracy(domain_gate)
    gate_ood_recall = metrics.share_below(ood_scores, domain_gate)
    id_recall_at_95 = metrics.share_below(id_scores, test_95)
    decider = bench.decider(index)
    decided = {"in_scope": _decide_all(decider, test.in_scope, vin),
               "id_oos": _decide_all(decider, test.id_oos, vid),
               "ood_oos": _decide_all(decider, test.ood_oos, vood)}
    in_out = [outcome(d, e.label) for d, e in zip(decided["in_scope"], test.in_scope)]
    id_out = [outcome(d, None) for d in decided["id_oos"]]
    ood_out = [outcome(d, None) for d in decided["ood_oos"]]
    return {
        "split": f"{name}: FAQ index from its train split; thresholds from its valid split; "
                 f"figures on its test split (in-scope {len(truth)}, ID-OOS {len(id_scores)}, "
                 f"OOD-OOS {len(ood_scores)})",
        "counts": {"train": len(test.train), "in_scope": len(truth), "id_oos": len(id_scores),
                   "ood_oos": len(ood_scores)},
        "similarity": {
            "threshold_from_valid": threshold,
            "top1_accuracy": metrics.accuracy(truth, keys),
            "in_scope_accuracy": in_scope_accuracy(threshold),
            "id_oos_recall": metrics.share_below(id_scores, threshold),
            "ood_oos_recall": metrics.share_below(ood_scores, threshold),
            "auroc_id": metrics.auroc(in_scores, id_scores),
            "auroc_ood": metrics.auroc(in_scores, ood_scores),
            "id_oos_recall_at_95_coverage": id_recall_at_95,
            "domain_gate_from_valid": domain_gate,
            "in_scope_accuracy_domain_gate": gate_accuracy,
            "ood_oos_recall_domain_gate": gate_ood_recall,
        },
        "intervals": {
            "in_scope_accuracy_domain_gate": interval(gate_accuracy, truth),
            "ood_oos_recall_domain_gate": interval(gate_ood_recall, ood_scores),
            "id_oos_recall_at_95_coverage": interval(id_recall_at_95, id_scores),
        },
        "decisions": {
            "in_scope": metrics.shares(in_out, IN_SCOPE_OUTCOMES),
            "id_oos": metrics.shares(id_out, OOS_OUTCOMES),
            "ood_oos": metrics.shares(ood_out, OOS_OUTCOMES),
        },
        "suggested_right_among": suggested_right_among(decided["in_scope"], truth),
        "stand_ins": {part: _stand_ins(d) for part, d in decided.items()},
        "router_overlap": router_overlap(bench, test),
    }


def router_overlap(bench: Bench, test: OosSet) -> dict[str, int]:
    """Count test texts that also appear (normalised) in the set's router's training data."""
    examples = set_router_examples(bench.settings, faqs_from_examples(test.train))
    seen = {normalise(t) for texts in examples.values() for t in texts}
    return {part: sum(normalise(e.text) in seen for e in rows)
            for part, rows in (("in_scope", test.in_scope), ("id_oos", test.id_oos),
                               ("ood_oos", test.ood_oos))}


def other_languages_benchmark(bench: Bench, decider: Decider) -> dict[str, Any]:
    """The served decision on hand-written questions in other languages: each should be told
    which language we read, or be escalated; never declined as not about banking."""
    path = bench.settings.data_dir / "languages" / "questions.tsv"
    rows = [line.split("\t", 1) for line in read_lines(path)]
    decisions = [decider.decide(text) for _, text in rows]
    kinds = ["told_other_language" if d.intent == OTHER_LANGUAGE else d.intent or d.decision
             for d in decisions]
    return {
        "split": f"{path.relative_to(bench.settings.data_dir.parent)}: {len(rows)} questions in "
                 f"{len({lang for lang, _ in rows})} languages, hand-written; the other-language "
                 "thresholds were chosen looking at them",
        "decisions": {kind: kinds.count(kind) / len(kinds) for kind in sorted(set(kinds))},
        "not_told": [{"language": lang, "text": text, "decision": kind}
                     for (lang, text), kind in zip(rows, kinds) if kind != "told_other_language"],
    }


# What a hand-written message of each kind must not become: a short message
# (data/short_messages.tsv) below; a conversational one (data/conversation_messages.tsv) is
# wrong unless it becomes one of _RIGHT[kind]; a question for an FAQ (faq:<key>,
# data/added_faq_questions.tsv) unless it is answered with it or offered it; any other kind
# names the intent it should be.
_CONVERSATIONAL = {"greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge"}
_DECLINED = {DECLINE, OTHER_LANGUAGE}
_RIGHT = {
    "presence": {"greet"},
    "complaint": {"complain", "request_human", ESCALATE},
    "frustration": {"deny", "complain", "request_human", ESCALATE},
    "never_mind": {"never_mind", "goodbye"},
}
FAQ_KIND = "faq:"


def message_wrong(kind: str, decision: Decision) -> bool:
    """Whether a hand-written message of this kind was taken wrongly."""
    got = decision.intent or decision.decision
    if kind.startswith(FAQ_KIND):
        key = kind.removeprefix(FAQ_KIND)
        if got == ANSWER:
            return decision.faq_key != key
        return got not in (CLARIFY, SUGGEST) or key not in offered_keys(decision.candidates)
    if kind == "banking":
        return got in _CONVERSATIONAL | _DECLINED
    if kind == "chatter":
        return got not in _DECLINED | {NEEDS_DETAIL}
    return got not in _RIGHT.get(kind, {kind})


def hand_written_benchmark(bench: Bench, decider: Decider, name: str) -> dict[str, Any]:
    """The served decision on the hand-written messages of data/<name> (columns set, kind,
    text): how many of each kind in each set were taken wrongly (message_wrong). Kinds that
    name an intent are tallied together, as replies."""
    path = bench.settings.data_dir / name
    rows = [line.split("\t", 2) for line in read_lines(path)]
    counts: dict[str, dict[str, list[int]]] = {}
    wrong = []
    for part, kind, text in rows:
        group = (kind if kind in ("banking", "chatter", *_RIGHT) or kind.startswith(FAQ_KIND)
                 else "reply")
        decision = decider.decide(text)
        tally = counts.setdefault(part, {}).setdefault(group, [0, 0])
        tally[1] += 1
        if message_wrong(kind, decision):
            tally[0] += 1
            wrong.append({"set": part, "kind": kind, "text": text,
                          "decision": decision.intent or decision.decision})
    return {"split": str(path.relative_to(bench.settings.data_dir.parent)),
            "wrong_of": counts, "wrong": wrong}


def latency(bench: Bench, texts: list[str], decider: Decider) -> dict[str, Any]:
    """Time encode + decide per query (ms), as `/model/parse` does, on a few test queries."""
    decider.decide(texts[0])  # load the model first
    timings = []
    for text in texts[:LATENCY_QUERIES]:
        started = time.perf_counter()
        decider.decide(text)
        timings.append((time.perf_counter() - started) * 1000)
    return {"queries": len(timings), "ms": _summary(timings)}


def run_benchmarks(bench: Bench) -> dict[str, Any]:
    """Run every benchmark and return the report as plain data."""
    started = time.perf_counter()
    datasets_dir = bench.settings.datasets_dir
    s = bench.settings
    report: dict[str, Any] = {
        "meta": {
            "encoder": str(bench.embedder.model_path),
            "fingerprint": bench.embedder.fingerprint,
            "weights_sha256": bench.embedder.weights_sha256,
            "thresholds_fitted_for_it": s.thresholds_fitted_for(bench.embedder.weights_sha256),
            "thresholds": {name: getattr(s, name) for name in THRESHOLD_NAMES},
            "tuning": tuning_report(bench.embedder.model_path),
        },
        "banking77": banking77_benchmark(bench),
    }
    sets = {"clinc_single_domain": (clinc_single_domain(datasets_dir, "test"),
                                    clinc_single_domain(datasets_dir, "valid"))}
    for labels in ("label", "label_by_text_lookup"):
        sets[f"banking77_oos_{labels}"] = (banking77_oos(datasets_dir, "test", labels=labels),
                                           banking77_oos(datasets_dir, "valid", labels=labels))
    report["oos"] = {}
    for key, (test, valid) in sets.items():
        deployed = deploy(s, bench.embedder.model_path, key, valid)
        set_bench = Bench(deployed.settings, deployed.embedder, deployed.router)
        report["oos"][key] = {**oos_benchmark(set_bench, test, valid),
                              "deployment": deployed.description}
    seed_index = FaqIndex.build(load_shipped(bench.settings.data_dir), bench.embedder)
    report["other_languages"] = other_languages_benchmark(bench, bench.decider(seed_index))
    for key, name in (("short_messages", "short_messages.tsv"),
                      ("conversation_messages", "conversation_messages.tsv"),
                      ("added_faq_questions", "added_faq_questions.tsv")):
        report[key] = hand_written_benchmark(bench, bench.decider(seed_index), name)
    queries = [e.text for e in banking77(datasets_dir, "test")]
    report["latency"] = latency(bench, queries, bench.decider(seed_index))
    report["seconds"] = time.perf_counter() - started
    return report
