"""The encoder's backends agree, and the embedding cache returns what was encoded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.search.embedder import Embedder, bundled_model_path
from tests.conftest import SETUP_VAR

TEXTS = ["where is my new card?", "I was charged twice for one coffee", "hi", "💳 مرحبا"]


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return Embedder(bundled_model_path()).encode(TEXTS)


@pytest.mark.parametrize(("backend", "minimum_cosine"), [("onnx", 0.999), ("onnx-int8", 0.9)])
def test_onnx_backends_agree_with_torch(torch_vectors: np.ndarray, backend: str,
                                        minimum_cosine: float) -> None:
    embedder = Embedder(bundled_model_path(), backend=backend,
                        export_root=SETUP_VAR / "encoder-onnx")
    vectors = embedder.encode(TEXTS)
    assert vectors.shape == torch_vectors.shape
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-4)
    assert (vectors * torch_vectors).sum(axis=1).min() >= minimum_cosine


def test_a_text_gets_the_same_vector_alone_or_with_others() -> None:
    # The service encodes one message at a time and the evaluation many at once: both must
    # see the same vectors, or the published accuracy is not the one customers get.
    embedder = Embedder(bundled_model_path(), backend="onnx-int8",
                        export_root=SETUP_VAR / "encoder-onnx")
    together = embedder.encode_uncached(TEXTS + ["a much longer message " * 12])[: len(TEXTS)]
    alone = np.stack([embedder.encode_one(text) for text in TEXTS])
    np.testing.assert_allclose(together, alone, atol=1e-6)


def test_backends_have_different_fingerprints() -> None:
    root = SETUP_VAR / "encoder-onnx"
    prints = {Embedder(bundled_model_path(), backend=b, export_root=root).fingerprint
              for b in ("torch", "onnx", "onnx-int8")}
    assert len(prints) == 3


def test_cached_vectors_are_reused_across_instances(tmp_path: Path,
                                                    torch_vectors: np.ndarray) -> None:
    first = Embedder(bundled_model_path(), cache_dir=tmp_path)
    first.encode(TEXTS)
    assert list(tmp_path.glob("*.npz"))
    second = Embedder(bundled_model_path(), cache_dir=tmp_path)
    np.testing.assert_allclose(second.encode(TEXTS), torch_vectors, atol=1e-5)
    assert second._model is None  # answered from the cache, the model never loaded


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown encoder backend"):
        Embedder(bundled_model_path(), backend="gpu")
