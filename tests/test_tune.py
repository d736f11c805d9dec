"""`bankbot tune`: a soup is the element-wise mean of its runs' weights; non-banking negatives
move chatter away from the FAQs; the same weights come out on any processor."""

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import torch

from bot.evaluation.datasets import Example, faqs_from_examples
from bot.search.embedder import bundled_model_path
from bot.search.tune import TuneConfig, average_weights, tune_encoder


def test_average_weights_means_float_tensors_and_keeps_integer_buffers() -> None:
    first = {"weight": torch.tensor([[1.0, 2.0], [3.0, 4.0]]), "ids": torch.tensor([0, 1, 2])}
    second = {"weight": torch.tensor([[3.0, 2.0], [-3.0, 0.0]]), "ids": torch.tensor([0, 1, 2])}
    third = {"weight": torch.tensor([[2.0, 5.0], [0.0, 2.0]]), "ids": torch.tensor([0, 1, 2])}

    averaged = average_weights([first, second, third])

    assert torch.equal(averaged["weight"], torch.tensor([[2.0, 3.0], [0.0, 2.0]]))
    assert averaged["weight"].dtype == torch.float32
    assert torch.equal(averaged["ids"], torch.tensor([0, 1, 2]))


def test_a_soup_of_one_is_the_run_itself() -> None:
    only = {"weight": torch.tensor([0.1, 0.7, -0.3])}
    assert torch.equal(average_weights([only])["weight"], only["weight"])


# Built as the evaluation builds a set's FAQs: one FAQ per label, its first text the question.
PHRASINGS = {
    "lost_card": ["I lost my card", "my card is gone", "I can't find my card", "card missing",
                  "where is my card", "someone took my card"],
    "top_up": ["How do I top up?", "add money to my account", "how to put money in",
               "top up my balance", "load funds", "can I top up by card"],
    "change_pin": ["How do I change my PIN?", "new pin please", "reset my pin",
                   "I want a different PIN", "update pin code", "pin change"],
    "fees": ["What fees do you charge?", "how much does it cost", "are there charges",
             "price of the account", "monthly fee", "what are your fees"],
}
FAQS = faqs_from_examples([Example(text, key) for key, texts in PHRASINGS.items()
                           for text in texts])
CHATTER = ["what's the weather in paris tomorrow", "tell me a joke about cats",
           "how tall is mount everest", "play some jazz music", "who won the world cup",
           "how do i bake bread", "translate hello into french", "set an alarm for 7am",
           "what is the capital of peru", "recommend a good movie", "how old is the moon",
           "what rhymes with orange"]
UNSEEN_CHATTER = ["what time is sunset today", "sing me a song", "how many legs does a spider have",
                  "book a table for two tonight"]


def _closest_faq_similarity(model_dir: Path, texts: list[str]) -> float:
    """Return the mean, over texts, of the cosine to the nearest FAQ phrasing."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu")
    phrasings = model.encode([t for faq in FAQS for t in faq.texts], normalize_embeddings=True)
    vectors = model.encode(texts, normalize_embeddings=True)
    return float((vectors @ phrasings.T).max(axis=1).mean())


def test_tuning_with_non_banking_negatives_moves_unseen_chatter_away_from_the_faqs(
    tmp_path: Path,
) -> None:
    config = TuneConfig(epochs=3, batch_size=4, learning_rate=3e-4, negatives_per_batch=8)
    tune_encoder(FAQS, bundled_model_path(), tmp_path / "plain",
                 replace(config, negatives_per_batch=0), negatives=CHATTER)
    tune_encoder(FAQS, bundled_model_path(), tmp_path / "negatives", config, negatives=CHATTER)

    plain = _closest_faq_similarity(tmp_path / "plain", UNSEEN_CHATTER)
    with_negatives = _closest_faq_similarity(tmp_path / "negatives", UNSEEN_CHATTER)
    assert with_negatives < plain - 0.02, (plain, with_negatives)


# A short tuning run in a new process that starts as every `bankbot` command does, so that
# the portable kernels are chosen before torch is imported; prints the weights' sha256.
TUNE_IN_NEW_PROCESS = """
import sys
from pathlib import Path

import bot.cli  # noqa: F401
from bot.search.embedder import Embedder, bundled_model_path
from bot.search.tune import TuneConfig, tune_encoder
from tests.test_tune import CHATTER, FAQS

out = Path(sys.argv[1])
tune_encoder(FAQS, bundled_model_path(), out,
             TuneConfig(epochs=1, batch_size=4, negatives_per_batch=4), negatives=CHATTER)
print(Embedder(out).weights_sha256)
"""


def _tuned_weights(out: Path, prefix: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([*prefix, sys.executable, "-c", TUNE_IN_NEW_PROCESS, str(out)],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()[-1]


def test_tuning_gives_the_same_weights_on_a_machine_with_other_kernels_and_cores(
    tmp_path: Path,
) -> None:
    # The other machine: MKL limited to AVX2 and a single core. With each library's fastest
    # kernels and all cores, the weights (and so the fitted thresholds) depended on both.
    here = _tuned_weights(tmp_path / "here", [], {})
    elsewhere = _tuned_weights(tmp_path / "elsewhere", ["taskset", "-c", "0"],
                               {"MKL_ENABLE_INSTRUCTIONS": "AVX2"})
    assert here == elsewhere


def test_bankbot_tune_keeps_the_restart_that_validates_best(tmp_path: Path) -> None:
    import yaml

    from bot.config import Settings
    from bot.evaluation.tuning import run_tune, tuning_report

    faq_dir = tmp_path / "data" / "faq"
    faq_dir.mkdir(parents=True)
    faqs = [{"key": key, "question": texts[0], "answer": f"About {key}.", "alternates": texts[1:]}
            for key, texts in PHRASINGS.items()]
    (faq_dir / "few.yml").write_text(yaml.safe_dump({"category": "test", "faqs": faqs}),
                                     encoding="utf-8")
    (tmp_path / "data" / "router").mkdir()
    (tmp_path / "data" / "router" / "out_of_scope.txt").write_text("\n".join(CHATTER) + "\n",
                                                                   encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", var_dir=tmp_path / "var",
                        encoder_backend="torch")
    out = tmp_path / "models" / "tuned"

    said = run_tune(settings, TuneConfig(epochs=1, batch_size=4, negatives_per_batch=4),
                    holdout=0.4, out=out, restarts=2)

    report = tuning_report(out)
    assert report is not None
    scores = {run["seed"]: run["heldout_top1"] for run in report["restarts"]}
    assert sorted(scores) == [0, 1]
    best = max(scores.values())
    chosen = min(seed for seed, score in scores.items() if score == best)
    assert (report["config"]["seed"], report["heldout_top1_tuned"]) == (chosen, best)
    assert f"seed {chosen}, the best of 2" in said
    # Only the kept encoder is left: no candidate lingers beside it.
    assert sorted(p.name for p in out.parent.iterdir()) == ["tuned"]
