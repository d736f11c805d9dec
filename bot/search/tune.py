"""Fine-tuning the sentence encoder on the FAQ phrasings (`bankbot tune`).

Two losses on the same batches, and negatives from outside banking in the first:

- Contrastive, in-batch negatives: each batch holds one (anchor, positive) pair from each of
  up to `batch_size` different FAQs, and every other FAQ's phrasing in the batch is a negative
  (symmetric InfoNCE, the loss of sentence-transformers' MultipleNegativesRankingLoss). Keeping
  one pair per FAQ per batch means no negative is secretly a positive.
- Prototypes: every phrasing in the batch is also classified against one unit vector per FAQ
  (cosine softmax with an additive margin, as in CosFace), so each step pulls a phrasing
  towards its own FAQ and away from all the others, not only the ones that share its batch.
  The prototypes start at each FAQ's mean base embedding and are thrown away after tuning.
- Non-banking negatives: each batch also holds `negatives_per_batch` questions that are not
  about money at all (data/router/out_of_scope.txt), as negatives of every anchor and
  positive in the contrastive loss. Tuning on FAQ phrasings alone only learns to tell FAQs
  apart; this also pushes chatter away from all of them, which the answer threshold and the
  out-of-scope scores rely on (README.md, "The encoder", gives what it changed).

`--soup N` averages N runs that differ only in their seed, weight by weight (a uniform "model
soup", Wortsman et al. 2022: same network, same speed). Not the default: three seeds gave
held-out top-1 94.3 / 94.5 / 94.6 % and their average 94.6 %, but right answers at the fitted
thresholds fell (85.5 % against 86.2 % for seed 0 alone) for three times the tuning time.

The tuned encoder is an ordinary sentence-transformers directory, so the FAQ index stays a
nearest-phrasing search and FAQ edits stay live without retuning (issue 3).

Tuning runs PyTorch's, MKL's and oneDNN's AVX2 kernels (`PORTABLE_KERNELS`) on a fixed number
of threads, so that the same seed gives the same weights on any x86-64 machine with AVX2 and
bot/thresholds.yml, fitted for one machine's encoder, fits every fresh clone's. With each
library's fastest kernels the weights depended on the processor: thresholds fitted on one
machine answered 2.01 % of BANKING77 test wrongly on the next, against 1.88 % on the first
(docs/evaluation-notes.md, 2026-12-07, has what was checked).
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.faq.store import FaqEntry

logger = logging.getLogger(__name__)

# Kernels every x86-64 machine with AVX2 runs alike (MKL_CBWR: MKL's conditional numerical
# reproducibility). They take effect only if set before torch is imported: bot/cli.py sets them.
PORTABLE_KERNELS = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2",
                    "ONEDNN_MAX_CPU_ISA": "AVX2"}


def use_portable_kernels() -> None:
    """Ask for the portable kernels, unless the environment says otherwise."""
    for name, value in PORTABLE_KERNELS.items():
        os.environ.setdefault(name, value)


def kernels() -> str:
    """Return the kernels PyTorch runs in this process ("AVX2" when portable)."""
    import torch

    return torch.backends.cpu.get_cpu_capability()


@dataclass(frozen=True)
class TuneConfig:
    """Hyper-parameters of one tuning run (chosen on a held-out part of the FAQ phrasings)."""

    epochs: int = 2
    batch_size: int = 64
    learning_rate: float = 1e-4
    scale: float = 20.0
    warmup: float = 0.1
    seed: int = 0
    # Runs averaged into the saved encoder, seeds seed, seed + 1, ...
    soup: int = 1
    # BANKING77 phrasings are 15 tokens at the median, 36 at the 95th percentile: 32 halves
    # the padded batch of 64 and loses little.
    max_tokens: int = 32
    # Weight of the prototype loss beside the contrastive one (0 turns it off).
    prototype_weight: float = 1.0
    prototype_scale: float = 30.0
    prototype_margin: float = 0.1
    # The prototypes are few fresh parameters: they learn faster than the encoder.
    prototype_learning_rate: float = 1e-3
    # Non-banking questions per batch (0 turns them off); see the module docstring.
    negatives_per_batch: int = 32
    # Threads of the tuning run: the way sums are split between threads changes the weights,
    # so a fixed number, not the machine's core count (2: this project's machines).
    threads: int = 2


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
    negatives: Sequence[str] = (),
    progress: bool = False,
) -> float:
    """Fine-tune base_model on the FAQ phrasings `config.soup` times, one seed each, and save
    the weight average to out_dir; return the seconds taken. negatives: non-banking questions
    (none: tune on the FAQ phrasings alone)."""
    started = time.perf_counter()
    states = []
    for run in range(config.soup):
        model = _tune_once(entries, base_model, config, list(negatives), seed=config.seed + run,
                           label=f"tuning encoder, run {run + 1}/{config.soup}",
                           progress=progress)
        states.append(model.state_dict())
    model.load_state_dict(average_weights(states))
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir))
    return time.perf_counter() - started


def average_weights(states: list[dict]) -> dict:  # type: ignore[type-arg]
    """Return the element-wise mean of the floating-point tensors of these state dicts; other
    tensors (integer buffers) are taken from the last one."""
    averaged = dict(states[-1])
    for name, tensor in states[-1].items():
        if tensor.is_floating_point():
            total = sum(state[name].detach().double() for state in states)
            averaged[name] = (total / len(states)).to(tensor.dtype)
    return averaged


def _tune_once(entries: list[FaqEntry], base_model: Path, config: TuneConfig,
               negatives: list[str], *, seed: int, label: str,
               progress: bool):  # type: ignore[no-untyped-def]
    """Return base_model fine-tuned once with this seed (in memory, not saved)."""
    import torch
    import torch.nn.functional as F
    from sentence_transformers import SentenceTransformer
    from tqdm import tqdm

    if kernels() != PORTABLE_KERNELS["ATEN_CPU_CAPABILITY"].upper():
        logger.warning("PyTorch runs its %s kernels, not the portable ones: the tuned weights "
                       "will differ from other machines' (set %s before importing torch)",
                       kernels(), ", ".join(PORTABLE_KERNELS))
    torch.set_num_threads(config.threads)
    rng = random.Random(seed)
    torch.manual_seed(seed)
    model = SentenceTransformer(str(base_model), device="cpu")
    # Long phrasings are rare; truncating them in training keeps a CPU batch fast.
    serving_length = model.max_seq_length
    model.max_seq_length = min(serving_length, config.max_tokens)
    # A phrasing's FAQ, for the prototype loss (a text in two FAQs counts for the first).
    owner_of: dict[str, int] = {}
    for number, entry in enumerate(entries):
        for text in entry.texts:
            owner_of.setdefault(text, number)
    prototypes = None
    if config.prototype_weight > 0:
        texts = list(owner_of)
        vectors = model.encode(texts, batch_size=128, convert_to_tensor=True,
                               normalize_embeddings=True, show_progress_bar=progress)
        owners = torch.tensor([owner_of[t] for t in texts])
        centroids = torch.zeros(len(entries), vectors.shape[1]).index_add_(0, owners, vectors)
        prototypes = torch.nn.Parameter(F.normalize(centroids, dim=-1))
    model.train()
    epochs = [make_batches(entries, batch_size=config.batch_size, rng=rng)
              for _ in range(config.epochs)]
    total = sum(len(batches) for batches in epochs)
    groups = [{"params": list(model.parameters()), "lr": config.learning_rate}]
    if prototypes is not None:
        groups.append({"params": [prototypes], "lr": config.prototype_learning_rate,
                       "weight_decay": 0.0})
    optimizer = torch.optim.AdamW(groups)
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

    bar = tqdm(total=total, desc=label, unit="batch", disable=not progress)
    for epoch, batches in enumerate(epochs, start=1):
        running = 0.0
        for done, batch in enumerate(batches, start=1):
            anchors = embed([a for a, _ in batch])
            positives = embed([p for _, p in batch])
            extra = min(config.negatives_per_batch, len(negatives))
            others = embed(rng.sample(negatives, extra)) if extra else positives[:0]
            target = torch.arange(len(batch))
            loss = (F.cross_entropy(config.scale * anchors @ torch.cat([positives, others]).T,
                                    target)
                    + F.cross_entropy(config.scale * positives @ torch.cat([anchors, others]).T,
                                      target)) / 2
            if prototypes is not None:
                owners = torch.tensor([owner_of[a] for a, _ in batch]
                                      + [owner_of[p] for _, p in batch])
                cosines = torch.cat([anchors, positives]) @ F.normalize(prototypes, dim=-1).T
                cosines = cosines - config.prototype_margin * F.one_hot(owners, len(entries))
                loss = loss + config.prototype_weight * F.cross_entropy(
                    config.prototype_scale * cosines, owners)
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
    bar.close()
    model.eval()
    model.max_seq_length = serving_length
    return model
