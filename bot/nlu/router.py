"""The router: which conversational intent a message is, or whether it is banking at all.

A logistic regression over sentence embeddings, trained from data/nlu.yml (the
conversational intents, Rasa's format), every FAQ phrasing plus data/router/banking.txt and
banking_clinc.txt (label "banking") and data/router/out_of_scope.txt (label "out_of_scope":
non-finance questions and chatter).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression

from bot.errors import IndexNotBuilt
from bot.nlu.training_data import router_examples
from bot.search.embedder import Embedder

if TYPE_CHECKING:
    from bot.faq.store import FaqEntry

logger = logging.getLogger(__name__)

BANKING = "banking"
OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class RouterPrediction:
    """The most likely label, its probability, and the probability of out_of_scope."""

    label: str
    probability: float
    out_of_scope: float
    ranking: list[tuple[str, float]]


class Router:
    """Predicts a conversational intent, "banking" or "out_of_scope" from an embedding."""

    def __init__(self, model: LogisticRegression, fingerprint: str) -> None:
        self.model = model
        self.fingerprint = fingerprint
        self.labels: list[str] = [str(label) for label in model.classes_]
        self._oos = self.labels.index(OUT_OF_SCOPE)
        # predict_proba's own checks cost ~0.4 ms per message; the softmax of these is the
        # same multinomial probability (checked in tests/test_router.py).
        coef, intercept = model.coef_, model.intercept_
        if coef.shape[0] == 1:  # two labels: sigmoid(z) is the softmax of (0, z)
            coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.r_[0.0, intercept]
        self._weights = np.ascontiguousarray(coef.T, dtype=np.float32)
        self._bias = np.asarray(intercept, dtype=np.float32)

    @classmethod
    def train(
        cls, examples: dict[str, list[str]], embedder: Embedder, *, progress: bool = False
    ) -> Router:
        """Fit the router on label → texts."""
        texts = [t for texts in examples.values() for t in texts]
        labels = [label for label, texts in examples.items() for _ in texts]
        if BANKING not in examples or OUT_OF_SCOPE not in examples:
            raise ValueError("router training needs both banking and out_of_scope examples")
        vectors = embedder.encode(texts, progress=progress)
        # Balanced weights: a dozen greetings must count as much as 10,000 FAQ phrasings.
        model = LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced")
        model.fit(vectors, labels)
        logger.info("router trained on %d examples, %d labels", len(texts), len(examples))
        return cls(model, embedder.fingerprint)

    @classmethod
    def train_for_faqs(cls, data_dir: Path, faqs: list[FaqEntry], embedder: Embedder, *,
                       progress: bool = False) -> Router:
        """Fit the router the served way: data_dir's intents and lists plus every phrasing of
        these FAQs (`bankbot train` passes them all, the threshold fit all but its holdout)."""
        faq_texts = [t for faq in faqs for t in faq.texts]
        return cls.train(router_examples(data_dir, faq_texts), embedder, progress=progress)

    def predict(self, vector: np.ndarray) -> RouterPrediction:
        """Return the router's view of one embedding."""
        return self.predict_many(vector.reshape(1, -1))[0]

    def predict_many(self, vectors: np.ndarray) -> list[RouterPrediction]:
        """Return the router's view of each embedding."""
        logits = np.asarray(vectors, dtype=np.float32) @ self._weights + self._bias
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities = exp / exp.sum(axis=1, keepdims=True)
        predictions = []
        for row in probabilities:
            order = np.argsort(row)[::-1]
            predictions.append(
                RouterPrediction(
                    label=self.labels[order[0]],
                    probability=float(row[order[0]]),
                    out_of_scope=float(row[self._oos]),
                    ranking=[(self.labels[i], float(row[i])) for i in order],
                )
            )
        return predictions

    def save(self, path: Path) -> None:
        """Write the router to disk."""
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump({"model": self.model, "fingerprint": self.fingerprint}, path)

    @classmethod
    def load(cls, path: Path, *, fingerprint: str) -> Router:
        """Read a router trained for the encoder with this fingerprint."""
        if not path.exists():
            raise IndexNotBuilt(f"router not trained: {path} missing (run `bankbot train`)")
        saved = joblib.load(path)
        if saved["fingerprint"] != fingerprint:
            raise IndexNotBuilt(f"router {path} was trained for another encoder; retrain it")
        return cls(saved["model"], saved["fingerprint"])
