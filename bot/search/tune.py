"""Fine-tuning the sentence encoder on the FAQ phrasings (`bankbot tune`).

Contrastive, in-batch negatives: each batch holds one (anchor, positive) pair from each of
up to `batch_size` different FAQs, and every other FAQ's phrasing in the batch is a negative
(symmetric InfoNCE, the loss of sentence-transformers' MultipleNegativesRankingLoss). Keeping
one pair per FAQ per batch means no negative is secretly a positive. The tuned encoder is an
ordinary sentence-transformers directory, so the FAQ index stays a nearest-phrasing search and
FAQ edits stay live without retuning (issue 3).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.faq.store import FaqEntry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TuneConfig:
    """Hyper-parameters of one tuning run (chosen on a held-out part of the FAQ phrasings)."""

    epochs: int = 2
    batch_size: int = 64
    learning_rate: float = 5e-5
    scale: float = 20.0
    warmup: float = 0.1
    seed: int = 0
    max_tokens: int = 64


def make_batches(
    entries: list[FaqEntry], *, batch_size: int, rng: random.Random
) -> list[list[tuple[str, str]]]:
    """Return one epoch of batches of (anchor, positive) pairs, no two from the same FAQ.

    Every phrasing appears once per epoch: each FAQ's phrasings are shuffled and paired off.
    """
    pairs: list[tuple[int, str, str]] = []
    for number, entry in enumerate(entries):
        texts = list(entry.texts)
        rng.shuffle(texts)
        pairs.extend((number, texts[i], texts[i + 1]) for i in range(0, len(texts) - 1, 2))
    rng.shuffle(pairs)
    batches: list[list[tuple[str, str]]] = []
    pending = pairs
    while pending:
        batch: list[tuple[str, str]] = []
        used: set[int] = set()
        deferred: list[tuple[int, str, str]] = []
        for owner, anchor, positive in pending:
            if owner in used or len(batch) == batch_size:
                deferred.append((owner, anchor, positive))
            else:
                used.add(owner)
                batch.append((anchor, positive))
        if len(batch) > 1:  # a lone pair has no negatives to learn from
            batches.append(batch)
        pending = deferred if len(batch) > 1 else []
    return batches


def tune_encoder(
    entries: list[FaqEntry],
    base_model: Path,
    out_dir: Path,
    config: TuneConfig,
    *,
    progress: bool = False,
    on_epoch: Callable[[int, float], None] | None = None,
) -> float:
    """Fine-tune base_model on the FAQ phrasings, save it to out_dir; return the seconds taken."""
    import torch
    import torch.nn.functional as F
    from sentence_transformers import SentenceTransformer
    from tqdm import tqdm

    started = time.perf_counter()
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    model = SentenceTransformer(str(base_model), device="cpu")
    model.train()
    # Long phrasings are rare; truncating them in training keeps a CPU batch fast.
    serving_length = model.max_seq_length
    model.max_seq_length = min(serving_length, config.max_tokens)
    epochs = [make_batches(entries, batch_size=config.batch_size, rng=rng)
              for _ in range(config.epochs)]
    total = sum(len(batches) for batches in epochs)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate)
    warmup = max(1, int(total * config.warmup))

    def rate(step: int) -> float:
        """Warm up linearly, then decay linearly to zero."""
        return min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)

    def embed(texts: list[str]) -> torch.Tensor:
        # sentence-transformers 6 renamed tokenize to preprocess; keep working with 3.x-5.x.
        preprocess = getattr(model, "preprocess", None) or model.tokenize
        features = preprocess(texts)
        return F.normalize(model(features)["sentence_embedding"], dim=-1)

    bar = tqdm(total=total, desc="tuning encoder", unit="batch", disable=not progress)
    for epoch, batches in enumerate(epochs, start=1):
        running = 0.0
        for done, batch in enumerate(batches, start=1):
            anchors = embed([a for a, _ in batch])
            positives = embed([p for _, p in batch])
            logits = config.scale * anchors @ positives.T
            target = torch.arange(len(batch))
            loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            running += float(loss.detach())
            bar.update(1)
            bar.set_postfix(epoch=epoch, loss=f"{running / done:.3f}")
        mean_loss = running / max(1, len(batches))
        logger.info("epoch %d: mean loss %.4f", epoch, mean_loss)
        if on_epoch is not None:
            on_epoch(epoch, mean_loss)
    bar.close()
    model.eval()
    model.max_seq_length = serving_length
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir))
    return time.perf_counter() - started
