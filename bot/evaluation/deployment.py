"""An out-of-scope benchmark set served the way a bank would serve the assistant on its FAQs.

The set's train split is the bank's FAQ content, so everything that the assistant learns from
its FAQs is learnt from that split only (issue 3: "in each case training only on that set's
train split"):
- the encoder: tuned on the train split with `bankbot tune`'s recipe when the service serves a
  tuned encoder (the served one learnt from BANKING77 train, which holds BANKING77-OOS's
  held-out intents); the bundled model as it is when the service serves that;
- the router: trained the served way for these FAQs, except that it does not learn banking from
  CLINC150's banking and credit_cards domains, which no set's train split holds: CLINC
  single-domain's five ID-OOS intents are among them;
- the thresholds: fitted as `bankbot fit-thresholds` fits the served ones, on the set's valid
  split: in-scope queries as the in-scope group, ID-OOS as banking questions without an FAQ
  (neither to be declined nor answered: answering one counts as a wrong answer), OOD-OOS as
  out of domain (reported only).
Test files are not read here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click

from bot.config import Settings
from bot.evaluation import fitting
from bot.evaluation.datasets import Example, OosSet, faqs_from_examples
from bot.evaluation.tuning import tuning_report, write_tuning_report
from bot.faq.store import FaqEntry
from bot.nlu.router import Router
from bot.nlu.training_data import non_banking_texts, router_examples
from bot.search import tune
from bot.search.embedder import Embedder, bundled_model_path
from bot.search.index import FaqIndex
from bot.services import embedder_for


def _cache_key(name: str, train: list[Example], negatives: list[str],
               config: tune.TuneConfig) -> str:
    """Return a key that changes with the training rows, the negatives, the recipe or the tuning
    code."""
    digest = hashlib.sha256()
    digest.update(json.dumps([name, [(e.text, e.label) for e in train], negatives, asdict(config),
                              str(bundled_model_path())]).encode())
    digest.update(Path(tune.__file__).read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class Deployment:
    """One set's encoder, router and thresholds (in settings), and how they were made."""

    settings: Settings
    embedder: Embedder
    router: Router
    description: dict[str, Any]


def tuned_encoder(settings: Settings, name: str, train: list[Example]) -> Path:
    """Return an encoder tuned on this train split, tuning it once and keeping it under var/."""
    config = tune.TuneConfig()
    negatives = non_banking_texts(settings.data_dir)
    key = _cache_key(name, train, negatives, config)
    out = settings.var_dir / "eval-encoders" / f"{name}-{key}"
    if tuning_report(out) is not None:
        return out
    faqs = faqs_from_examples(train)
    click.echo(f"tuning an encoder on {name} train: {len(train)} phrasings, {len(faqs)} FAQs",
               err=True)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    seconds = tune.tune_encoder(faqs, bundled_model_path(), partial, config, negatives=negatives,
                                progress=True)
    report = {"config": asdict(config), "trained_phrasings": len(train), "faqs": len(faqs),
              "seconds": round(seconds, 1), "split": f"{name} train only"}
    write_tuning_report(partial, report)
    os.replace(partial, out)  # a crash mid-tuning never leaves an encoder that looks finished
    return out


def set_router_examples(settings: Settings, faqs: list[FaqEntry]) -> dict[str, list[str]]:
    """Return the router's training data for a set whose FAQs these are (see above)."""
    faq_texts = [t for faq in faqs for t in faq.texts]
    return router_examples(settings.data_dir, faq_texts, clinc_banking=False)


def deploy(settings: Settings, served: Path, name: str, valid: OosSet) -> Deployment:
    """Deploy on this set's FAQs (its train split) next to a service serving the encoder at
    served; fit the thresholds on its valid split."""
    tuned = served != bundled_model_path()
    model = tuned_encoder(settings, name, valid.train) if tuned else served
    embedder = embedder_for(settings, model)
    faqs = faqs_from_examples(valid.train)
    click.echo(f"training a router for {valid.name}'s FAQs", err=True)
    router = Router.train(set_router_examples(settings, faqs), embedder, progress=True)
    index = FaqIndex.build(faqs, embedder, progress=True)
    groups = [
        fitting.encode_group(f"{valid.name} valid {part}", rows, truth, index, router, embedder)
        for part, rows, truth in (
            ("in-scope", valid.in_scope, [e.label for e in valid.in_scope]),
            ("ID-OOS", valid.id_oos, [None] * len(valid.id_oos)),
            ("OOD-OOS", valid.ood_oos, [None] * len(valid.ood_oos)),
        )
    ]
    values, validation = fitting.fit_groups(settings, embedder, *groups, banking_uncovered=True)
    description = {"encoder": str(model), "tuning": tuning_report(model),
                   "thresholds": values, "validation": validation}
    return Deployment(settings.model_copy(update=values), embedder, router, description)
