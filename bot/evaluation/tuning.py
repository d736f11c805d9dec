"""`bankbot tune`: fine-tune the encoder, validated on held-out FAQ phrasings (never test data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from bot.config import Settings
from bot.faq.seed import load_learnt, split_alternates
from bot.faq.store import FaqEntry
from bot.nlu.training_data import non_banking_texts
from bot.search.embedder import Embedder
from bot.search.index import TOP_PHRASINGS, FaqIndex
from bot.search.tune import TuneConfig, kernels, tune_encoder
from bot.services import embedder_for, model_path

# What a tuned encoder records about its tuning, beside its weights.
TUNE_REPORT = "tune_report.json"


def write_tuning_report(model_dir: Path, report: dict[str, Any]) -> None:
    """Record how the encoder in model_dir was tuned."""
    (model_dir / TUNE_REPORT).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def tuning_report(model_dir: Path) -> dict[str, Any] | None:
    """Return how the encoder in model_dir was tuned, or None if it was not."""
    path = model_dir / TUNE_REPORT
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def holdout_accuracy(
    embedder: Embedder, kept: list[FaqEntry], held: dict[str, list[str]]
) -> float:
    """Return the share of held-out phrasings whose nearest FAQ is their own."""
    index = FaqIndex.build(kept, embedder, progress=True)
    texts = [t for texts in held.values() for t in texts]
    keys = [k for k, texts in held.items() for _ in texts]
    vectors = embedder.encode(texts, progress=True)
    hits = sum(index.search(v, k=1)[0].key == key for v, key in zip(vectors, keys))
    return hits / max(1, len(texts))


def run_tune(settings: Settings, config: TuneConfig, *, holdout: float, out: Path) -> str:
    """Tune on the seed FAQs minus a held-out share; return a summary of the validation."""
    kept, held = split_alternates(load_learnt(settings.data_dir), holdout=holdout)
    base = model_path(settings.model_copy(update={"model_path": None}))
    if base == settings.tuned_model_dir or base == out:
        # Always start from the bundled model, never from a previous tuning run.
        from bot.search.embedder import bundled_model_path

        base = bundled_model_path()

    click.echo(f"validating the base encoder on {sum(map(len, held.values()))} held-out phrasings",
               err=True)
    # Validated as the service encodes (int8 ONNX by default): PyTorch fp32 scored the bundled
    # model 0.6 points higher on these phrasings, the tuned one 0.1 lower.
    before = holdout_accuracy(embedder_for(settings, base), kept, held)
    seconds = tune_encoder(kept, base, out, config, negatives=non_banking_texts(settings.data_dir),
                           progress=True)
    tuned = embedder_for(settings, out)
    after = holdout_accuracy(tuned, kept, held)
    summary = {
        "config": config.__dict__,
        "holdout_share": holdout,
        "trained_phrasings": sum(len(e.texts) for e in kept),
        "heldout_phrasings": sum(map(len, held.values())),
        "heldout_top1_base": round(before, 4),
        "heldout_top1_tuned": round(after, 4),
        "seconds": round(seconds, 1),
        "scoring": f"FaqIndex: mean of each FAQ's best {TOP_PHRASINGS} phrasings",
        "encoder_backend": settings.encoder_backend,
        "kernels": kernels(),
        "weights_sha256": tuned.weights_sha256,
        "split": "BANKING77 train (seed FAQ alternates), held-out share by hash; no test data",
    }
    write_tuning_report(out, summary)
    fitted = settings.thresholds_fitted_for(summary["weights_sha256"])
    said = ("bot/thresholds.yml was fitted for these weights" if fitted else
            "bot/thresholds.yml was fitted for other weights" if fitted is False else
            "bot/thresholds.yml does not say which weights it was fitted for")
    if not fitted:
        said += ": run `bankbot fit-thresholds`"
    return (f"tuned encoder saved to {out} in {seconds / 60:.1f} min; held-out top-1 "
            f"{before:.2%} → {after:.2%}; weights sha256 {summary['weights_sha256']} ({said}). "
            "Run `bankbot train` before serving with it.")
