"""The FAQ index's search, as the service calls it."""

import os
import threading

import numpy as np

from bot.faq.store import FaqEntry
from bot.search.index import FaqIndex


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def test_a_search_from_a_server_worker_thread_starts_no_extra_threads() -> None:
    # The service searches on whichever worker thread serves a request. An OpenMP team
    # there kept a second thread spinning on the other core after every search.
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((400, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
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
