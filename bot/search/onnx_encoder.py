"""The encoder on ONNX Runtime, optionally int8-quantised: the fast serving path.

Exported once from the sentence-transformers directory (mean pooling, unit length, as
all-MiniLM-L6-v2 is configured), then run with one thread per call so that concurrent
requests and the other processes on a small machine do not fight over cores.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
FP32_FILE, INT8_FILE = "model.onnx", "model_int8.onnx"


def _max_length(model_dir: Path) -> int:
    config = model_dir / "sentence_bert_config.json"
    if config.exists():
        return int(json.loads(config.read_text()).get("max_seq_length", 256))
    return 256


def export(model_dir: Path, out_dir: Path) -> Path:
    """Export the model to out_dir (fp32 and int8 ONNX plus the tokenizer), atomically."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    logger.info("exporting %s to ONNX in %s", model_dir, out_dir)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).eval()

    class _LastHiddenState(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=out_dir.parent))
    try:
        sample = tokenizer(["a short example", "and another"], padding=True, return_tensors="pt")
        axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
        torch.onnx.export(
            _LastHiddenState(model), tuple(sample[name] for name in _INPUTS),
            str(work / FP32_FILE), input_names=list(_INPUTS),
            output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17,
            dynamo=False,
        )
        quantize_dynamic(str(work / FP32_FILE), str(work / INT8_FILE), weight_type=QuantType.QInt8)
        tokenizer.save_pretrained(str(work))
        (work / "encoder.json").write_text(json.dumps({"max_length": _max_length(model_dir)}))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        work.chmod(0o755)  # mkdtemp makes it private; the service may run as another user
        os.replace(work, out_dir)  # readers see the whole export or none of it
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out_dir


class OnnxEncoder:
    """Mean-pooled, unit-length sentence vectors from an exported ONNX model."""

    def __init__(self, export_dir: Path, *, quantized: bool, threads: int = 1) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        model_file = export_dir / (INT8_FILE if quantized else FP32_FILE)
        self.session = onnxruntime.InferenceSession(
            str(model_file), options, providers=["CPUExecutionProvider"])
        max_length = json.loads((export_dir / "encoder.json").read_text())["max_length"]
        self.tokenizer = Tokenizer.from_file(str(export_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return one float32 unit vector per text, each encoded on its own.

        Never batched: dynamic int8 quantisation scales activations over the whole input,
        so a text's vector depended on its batch-mates (cosine as low as 0.973), and the
        evaluation, which batched, scored other vectors than the service, which does not.
        Padding to the longest text also made batches slower (issue 3).
        """
        return np.stack([self._encode_one(text) for text in texts]).astype(np.float32)

    def _encode_one(self, text: str) -> np.ndarray:
        ids = np.array([self.tokenizer.encode(text).ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids),
                "token_type_ids": np.zeros_like(ids)}
        pooled = self.session.run(None, feed)[0][0].mean(axis=0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)
