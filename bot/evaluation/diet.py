"""Stock Rasa beside our BANKING77 figure: Rasa 3.6's default NLU pipeline (count vectors + DIET).

It trains on the same data as our encoder's tuning (data/faq's phrasings: BANKING77 train
plus each FAQ's question, one intent per BANKING77 category; not data/faq_added, which
BANKING77 has no label for) and is scored on BANKING77 test, which is read only to report
(issue 3). DIET takes about 75 s an epoch here, so `bankbot eval --diet-epochs N` chooses the
epochs and the report says which were used.
Rasa runs as a subprocess in its own virtualenv: `rasa train nlu`, timed (the training
wall time), then bot/evaluation/rasa_parse.py parses every test text with the model.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from bot.config import Settings
from bot.errors import BotError
from bot.evaluation import metrics
from bot.evaluation.datasets import banking77
from bot.faq.seed import load_learnt
from bot.faq.store import FaqEntry
from bot.stack import RASA_QUIET_ENV
from bot.stock_nlu import default_pipeline, dump_yaml, examples_block

# FallbackClassifier (in the default pipeline) replaces DIET's intent with this one when
# DIET's confidence is below 0.3; the ranking keeps DIET's own order after it.
FALLBACK_INTENT = "nlu_fallback"
PARSE_SCRIPT = Path(__file__).with_name("rasa_parse.py")
PIPELINE_NAME = ("Rasa 3.6 default NLU pipeline: WhitespaceTokenizer, RegexFeaturizer, "
                 "LexicalSyntacticFeaturizer, CountVectorsFeaturizer (words; char_wb 1–4), "
                 "DIETClassifier, EntitySynonymMapper, ResponseSelector, FallbackClassifier 0.3")


def training_intents(entries: Sequence[FaqEntry]) -> dict[str, list[str]]:
    """Return FAQ key → its phrasings, question first, whitespace collapsed, repeats dropped."""
    intents: dict[str, list[str]] = {}
    for entry in entries:
        texts = (" ".join(text.split()) for text in entry.texts)
        intents[entry.key] = list(dict.fromkeys(t for t in texts if t))
    return intents


def training_data_id(intents: Mapping[str, Sequence[str]]) -> str:
    """Return a short fingerprint of the training data, to tell whether a figure is current."""
    data = json.dumps({k: list(v) for k, v in intents.items()}, sort_keys=True)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:12]


def write_nlu_project(directory: Path, intents: Mapping[str, Sequence[str]], *,
                      epochs: int) -> int:
    """Write config.yml (the default pipeline) and data/nlu.yml; return the example count."""
    for text in (t for texts in intents.values() for t in texts):
        # Rasa reads "[text](entity)" in an example as an entity annotation.
        if "[" in text or "\n" in text:
            raise BotError(f"training text not usable as a Rasa example: {text!r}")
    config = {"recipe": "default.v1", "language": "en", "assistant_id": "bankbot_eval_diet",
              "pipeline": default_pipeline(epochs)}
    nlu = {"version": "3.1",
           "nlu": [{"intent": key, "examples": examples_block(texts)}
                   for key, texts in intents.items()]}
    (directory / "data").mkdir(parents=True, exist_ok=True)
    (directory / "config.yml").write_text(dump_yaml(config), encoding="utf-8")
    (directory / "data" / "nlu.yml").write_text(dump_yaml(nlu), encoding="utf-8")
    return sum(len(texts) for texts in intents.values())


def top_intent(row: Mapping[str, Any]) -> str:
    """Return the intent DIET ranked first, looking past FallbackClassifier's nlu_fallback."""
    ranked = [name for name in row["ranking"] if name != FALLBACK_INTENT]
    return ranked[0] if ranked else (row["intent"] or "")


def score(truth: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Return top-1 accuracy and macro-F1 of DIET's intent, and what the fallback changes."""
    predicted = [top_intent(row) for row in rows]
    as_served = [row["intent"] or "" for row in rows]
    return {
        "top1_accuracy": metrics.accuracy(truth, predicted),
        "macro_f1": metrics.macro_f1(truth, predicted),
        "fallback_share": as_served.count(FALLBACK_INTENT) / len(rows) if rows else 0.0,
        "accuracy_with_fallback": metrics.accuracy(truth, as_served),
    }


def _rasa_env(directory: Path) -> dict[str, str]:
    # A cache inside the throw-away project: no step of one run is reused by the next,
    # so the training wall time is always a full training.
    return {**os.environ, **RASA_QUIET_ENV,
            "RASA_CACHE_DIRECTORY": str(directory / ".rasa" / "cache")}


def _run(command: list[str], directory: Path, what: str) -> None:
    """Run a Rasa command; its output (progress bars included) goes to our stderr."""
    done = subprocess.run(command, cwd=directory, env=_rasa_env(directory), stdout=sys.stderr,
                          check=False)
    if done.returncode != 0:
        raise BotError(f"{what} failed (exit {done.returncode}); Rasa's output is above")


def train_nlu(settings: Settings, directory: Path) -> float:
    """Run `rasa train nlu` in the project; return its wall time in seconds."""
    started = time.perf_counter()
    _run([str(settings.rasa_venv / "bin" / "rasa"), "train", "nlu", "--config", "config.yml",
          "--nlu", "data/nlu.yml", "--out", "models", "--fixed-model-name", "diet"],
         directory, "rasa train nlu")
    return time.perf_counter() - started


def parse_texts(settings: Settings, directory: Path, texts: Sequence[str]) -> dict[str, Any]:
    """Parse each text with the project's trained model (rasa_parse.py in Rasa's Python)."""
    (directory / "texts.json").write_text(json.dumps(list(texts)), encoding="utf-8")
    _run([str(settings.rasa_venv / "bin" / "python"), str(PARSE_SCRIPT),
          "models/diet.tar.gz", "texts.json", "parsed.json"], directory, "parsing with Rasa")
    return json.loads((directory / "parsed.json").read_text(encoding="utf-8"))


def diet_benchmark(settings: Settings, *, epochs: int) -> dict[str, Any]:
    """Train stock Rasa NLU on the seed FAQ phrasings for epochs; score it on BANKING77 test."""
    intents = training_intents(load_learnt(settings.data_dir))
    test = banking77(settings.datasets_dir, "test")
    with tempfile.TemporaryDirectory(prefix="bankbot-diet-") as tmp:
        directory = Path(tmp)
        examples = write_nlu_project(directory, intents, epochs=epochs)
        click.echo(f"stock Rasa: training the default pipeline, {epochs} epoch(s), on "
                   f"{examples} examples of {len(intents)} intents", err=True)
        load_before = os.getloadavg()[0]
        train_seconds = train_nlu(settings, directory)
        load_after = os.getloadavg()[0]
        click.echo(f"stock Rasa: trained in {train_seconds:.0f} s; parsing BANKING77 test "
                   f"({len(test)} texts)", err=True)
        started = time.perf_counter()
        parsed = parse_texts(settings, directory, [e.text for e in test])
        parse_seconds = time.perf_counter() - started
    return {
        "split": f"trained on the seed FAQ phrasings (BANKING77 train only, {examples} examples, "
                 f"{len(intents)} intents); scored on BANKING77 test ({len(test):,})",
        "pipeline": PIPELINE_NAME,
        "rasa_version": parsed["rasa_version"],
        "epochs": epochs,
        "examples": examples,
        "intents": len(intents),
        "training_data": training_data_id(intents),
        **score([e.label for e in test], parsed["rows"]),
        "train_seconds": train_seconds,
        "parse_seconds": parse_seconds,
        "load_average_1min": {"training_start": load_before, "training_end": load_after},
        "cpus": os.cpu_count(),
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def previous_result(report_path: Path, settings: Settings) -> dict[str, Any] | None:
    """Return the stock Rasa figure of an earlier report if it trained on today's data.

    `bankbot eval` without `--diet-epochs` keeps it rather than dropping a measurement that
    takes many minutes; the report shows when it was measured.
    """
    if not report_path.exists():
        return None
    old = json.loads(report_path.read_text(encoding="utf-8")).get("banking77_diet")
    current = training_data_id(training_intents(load_learnt(settings.data_dir)))
    return old if old and old.get("training_data") == current else None
