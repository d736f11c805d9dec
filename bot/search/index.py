"""The faiss index over every FAQ question and alternate phrasing."""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

from bot.faq.store import FaqEntry
from bot.search.embedder import Embedder

# How many phrasings to fetch per query before grouping them by FAQ.
_NEIGHBOURS = 64


@dataclass(frozen=True)
class Candidate:
    """One FAQ that matches a query, with its best phrasing's cosine similarity."""

    key: str
    question: str
    score: float

    def as_dict(self) -> dict[str, object]:
        """Return the JSON form used in parse replies and tickets."""
        return {"key": self.key, "question": self.question, "score": round(self.score, 4)}


class FaqIndex:
    """Nearest FAQs for a query vector, by the best-matching phrasing of each FAQ."""

    def __init__(self, entries: list[FaqEntry], vectors: np.ndarray, owners: np.ndarray) -> None:
        self.entries = {e.key: e for e in entries}
        self._keys = [e.key for e in entries]
        self._owners = owners
        self._index = faiss.IndexFlatIP(vectors.shape[1])
        if len(vectors):
            self._index.add(vectors)

    @classmethod
    def build(cls, entries: list[FaqEntry], embedder: Embedder, *, progress: bool = False) -> FaqIndex:
        """Encode every phrasing of every FAQ and index them."""
        texts: list[str] = []
        owners: list[int] = []
        for number, entry in enumerate(entries):
            for text in entry.texts:
                texts.append(text)
                owners.append(number)
        vectors = embedder.encode(texts, progress=progress)
        return cls(entries, vectors, np.asarray(owners, dtype=np.int64))

    def __len__(self) -> int:
        return len(self._keys)

    def search(self, vector: np.ndarray, *, k: int = 3) -> list[Candidate]:
        """Return up to k FAQs nearest to the vector, best first."""
        if self._index.ntotal == 0:
            return []
        scores, rows = self._index.search(vector.reshape(1, -1), min(_NEIGHBOURS, self._index.ntotal))
        best: dict[int, float] = {}
        for score, row in zip(scores[0], rows[0]):
            if row < 0:
                continue
            owner = int(self._owners[row])
            if owner not in best:  # rows come best first
                best[owner] = float(score)
            if len(best) == k:
                break
        return [
            Candidate(key=self._keys[o], question=self.entries[self._keys[o]].question, score=s)
            for o, s in best.items()
        ]
