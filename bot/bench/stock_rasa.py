"""A stock Rasa 3.6 assistant over the same FAQ content, for side-by-side measurement.

Its NLU is Rasa's default pipeline (count-vector features, DIETClassifier and a
ResponseSelector for the FAQ retrieval intent); dialogue is the same RulePolicy.
FAQ changes need a full `rasa train`, which is what the comparison is about.
"""

from __future__ import annotations

import os
import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.faq.store import FaqEntry
from bot.nlu.training_data import read_rasa_nlu
from bot.stack import RASA_QUIET_ENV, wait_until_ready
from bot.stock_nlu import default_pipeline, dump_yaml, examples_block


def write_project(directory: Path, faqs: list[FaqEntry], conversational_nlu: Path, *,
                  epochs: int, examples_per_faq: int, seed: int = 0) -> int:
    """Write a stock Rasa project; return how many NLU examples it trains on."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    nlu, count = [], 0
    for faq in faqs:
        texts = [faq.question, *rng.sample(faq.alternates, min(examples_per_faq - 1,
                                                               len(faq.alternates)))]
        texts = [" ".join(t.split()) for t in texts]
        nlu.append({"intent": f"faq/{faq.key}", "examples": examples_block(texts)})
        count += len(texts)
    for intent, texts in read_rasa_nlu(conversational_nlu).items():
        nlu.append({"intent": intent, "examples": examples_block(texts)})
        count += len(texts)
    conversational = list(read_rasa_nlu(conversational_nlu))
    domain = {
        "version": "3.1",
        "intents": ["faq", *conversational],
        "responses": {
            **{f"utter_faq/{f.key}": [{"text": f.answer}] for f in faqs},
            **{f"utter_{i}": [{"text": f"({i})"}] for i in conversational},
            "utter_default": [{"text": "Sorry, I didn't get that."}],
        },
    }
    rules = [{"rule": "faq", "steps": [{"intent": "faq"}, {"action": "utter_faq"}]}] + [
        {"rule": i, "steps": [{"intent": i}, {"action": f"utter_{i}"}]} for i in conversational
    ] + [{"rule": "fallback", "steps": [{"intent": "nlu_fallback"},
                                        {"action": "utter_default"}]}]
    config = {"recipe": "default.v1", "language": "en", "assistant_id": "stock_rasa_bench",
              "pipeline": default_pipeline(epochs), "policies": [{"name": "RulePolicy"}]}
    files = {
        "config.yml": config,
        "domain.yml": domain,
        "data/nlu.yml": {"version": "3.1", "nlu": nlu},
        "data/rules.yml": {"version": "3.1", "rules": rules},
    }
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_yaml(content), encoding="utf-8")
    (directory / "credentials.yml").write_text("rest:\n", encoding="utf-8")
    return count


def train(settings: Settings, directory: Path, log: Path) -> float:
    """Train the stock project's model; return the wall time in seconds."""
    started = time.perf_counter()
    with open(log, "ab") as out:
        subprocess.run(
            [str(settings.rasa_venv / "bin" / "rasa"), "train", "--fixed-model-name", "stock",
             "--out", "models"],
            cwd=directory, env={**os.environ, **RASA_QUIET_ENV}, stdout=out,
            stderr=subprocess.STDOUT, check=True,
        )
    return time.perf_counter() - started


def start(settings: Settings, directory: Path, port: int, log: Path) -> subprocess.Popen:
    """Start `rasa run` on the stock model and wait until it answers."""
    out = open(log, "ab")  # noqa: SIM115 (the process owns it until it exits)
    process = subprocess.Popen(
        [str(settings.rasa_venv / "bin" / "rasa"), "run", "--enable-api", "--model",
         "models/stock.tar.gz", "--port", str(port)],
        cwd=directory, env={**os.environ, **RASA_QUIET_ENV}, stdout=out,
        stderr=subprocess.STDOUT,
    )
    wait_until_ready(f"http://127.0.0.1:{port}/status", process, timeout=300, name="stock Rasa")
    return process


@dataclass(frozen=True)
class RetrainEstimate:
    """Rasa's retrain time for the full FAQ data, extrapolated from measured epochs."""

    overhead_s: float
    per_epoch_s: float
    full_examples: int
    measured_examples: int
    full_epochs: int

    @property
    def estimate_s(self) -> float:
        """Return the estimated wall time of one full retrain (an estimate, not a measurement)."""
        scale = self.full_examples / self.measured_examples
        return self.overhead_s + self.per_epoch_s * scale * self.full_epochs
