"""Rasa 3.6's stock NLU: its default pipeline and the NLU YAML it trains on.

Shared by the speed benchmark's stock assistant (bot/bench/stock_rasa.py) and the accuracy
comparison of `bankbot eval --diet-epochs` (bot/evaluation/diet.py), so both measure the
same pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml


def default_pipeline(epochs: int) -> list[dict[str, Any]]:
    """Return Rasa 3.6's default pipeline with the epoch count made explicit.

    It is the pipeline of rasa/engine/recipes/config_files/default_config.yml (Rasa
    3.6.21), where DIETClassifier and ResponseSelector train for 100 epochs.
    """
    return [
        {"name": "WhitespaceTokenizer"},
        {"name": "RegexFeaturizer"},
        {"name": "LexicalSyntacticFeaturizer"},
        {"name": "CountVectorsFeaturizer"},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
        {"name": "DIETClassifier", "epochs": epochs, "constrain_similarities": True},
        {"name": "EntitySynonymMapper"},
        {"name": "ResponseSelector", "epochs": epochs, "constrain_similarities": True},
        {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1},
    ]


def examples_block(texts: Iterable[str]) -> str:
    """Return an intent's `examples:` value: one `- text` line per text."""
    return "".join(f"- {text}\n" for text in texts)


def dump_yaml(content: Any) -> str:
    """Return content as Rasa project YAML: keys in order, Unicode kept, long lines unwrapped."""
    return yaml.safe_dump(content, sort_keys=False, allow_unicode=True, width=1000)
