"""The FAQ index's search, as the service calls it."""

import os
import threading

import numpy as np

from bot.faq.store import FaqEntry
from bot.search.index import FaqIndex


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _unit(vectors: np.ndarray) -> np.ndarray:
    """Return the rows scaled to length 1, as float32 (as the encoder returns them)."""
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_a_search_from_a_server_worker_thread_starts_no_extra_threads() -> None:
    # The service searches on whichever worker thread serves a request. An OpenMP team
    # there kept a second thread spinning on the other core after every search.
    rng = np.random.default_rng(0)
    vectors = _unit(rng.standard_normal((400, 384)))
    entries = [FaqEntry(f"faq{i}", "cards", f"Question {i}?", "Answer.") for i in range(100)]
    index = FaqIndex(entries, vectors, np.arange(400) % 100)
    found: list[str] = []
    before = _threads()

    def search() -> None:
        found.append(index.search(vectors[7], k=1)[0].key)
        found.append(str(_threads() - before))  # the worker itself counts as one

    worker = threading.Thread(target=search)
    worker.start()
    worker.join()
    assert found == ["faq7", "1"]


def _exact_best(vectors: np.ndarray, owners: np.ndarray, query: np.ndarray, faqs: int) -> int:
    """The FAQ whose two best phrasings have the highest mean similarity, by brute force."""
    scores = vectors @ query
    return int(np.argmax([np.sort(scores[owners == f])[-2:].mean() for f in range(faqs)]))


def test_the_search_finds_the_faq_whose_two_best_phrasings_match_best_every_build() -> None:
    # 300 FAQs of 20 phrasings each around their own topic; questions are new phrasings, spread
    # so widely that for 23 of them the single best phrasing belongs to another FAQ.
    rng = np.random.default_rng(1)
    faqs, per_faq = 300, 20
    topics = rng.standard_normal((faqs, 384))
    owners = np.repeat(np.arange(faqs), per_faq)
    vectors = _unit(topics[owners] + 2.5 * rng.standard_normal((faqs * per_faq, 384)))
    asked = rng.integers(0, faqs, 200)
    queries = _unit(topics[asked] + 2.5 * rng.standard_normal((200, 384)))
    entries = [FaqEntry(f"faq{i}", "cards", f"Question {i}?", "Answer.") for i in range(faqs)]

    first, second = (FaqIndex(entries, vectors, owners) for _ in range(2))
    found = [first.search(q, k=3) for q in queries]
    assert found == [second.search(q, k=3) for q in queries]
    exact = [f"faq{_exact_best(vectors, owners, q, faqs)}" for q in queries]
    assert [candidates[0].key for candidates in found] == exact
