"""Stock Rasa beside our figure (bot/evaluation/diet.py): the project it writes and its scoring.

No Rasa runs here; `bankbot eval --diet-epochs N` is the benchmark.
"""

import json
from pathlib import Path

import pytest
import yaml

from bot.config import Settings
from bot.errors import BotError
from bot.evaluation import diet
from bot.evaluation.report import _stock_rasa_lines
from bot.faq.seed import load_learnt
from bot.faq.store import FaqEntry
from bot.nlu.training_data import read_rasa_nlu

FAQS = [
    FaqEntry(key="card_arrival", category="cards", question="Where is my  card?", answer="Soon.",
             alternates=("my card hasn't come", "Where is my card?", "still no card (2 weeks)")),
    FaqEntry(key="age_limit", category="account", question="How old must I be?", answer="18.",
             alternates=("minimum age?",)),
]


def test_training_intents_keep_each_faqs_phrasings_once_question_first():
    assert diet.training_intents(FAQS) == {
        "card_arrival": ["Where is my card?", "my card hasn't come", "still no card (2 weeks)"],
        "age_limit": ["How old must I be?", "minimum age?"],
    }


def test_nlu_project_has_the_default_pipeline_and_one_intent_per_faq(tmp_path: Path):
    intents = diet.training_intents(FAQS)
    examples = diet.write_nlu_project(tmp_path, intents, epochs=7)
    assert examples == 5
    assert read_rasa_nlu(tmp_path / "data" / "nlu.yml") == intents
    pipeline = yaml.safe_load((tmp_path / "config.yml").read_text())["pipeline"]
    names = [c["name"] for c in pipeline]
    assert names[:5] == ["WhitespaceTokenizer", "RegexFeaturizer", "LexicalSyntacticFeaturizer",
                         "CountVectorsFeaturizer", "CountVectorsFeaturizer"]
    assert {"name": "DIETClassifier", "epochs": 7, "constrain_similarities": True} in pipeline


def test_nlu_project_refuses_text_rasa_would_read_as_an_entity(tmp_path: Path):
    with pytest.raises(BotError, match="not usable"):
        diet.write_nlu_project(tmp_path, {"x": ["send [10](amount) pounds"]}, epochs=1)


def test_top_intent_looks_past_the_fallback_and_score_reports_both():
    rows = [
        {"intent": "a", "ranking": ["a", "b"]},
        {"intent": "nlu_fallback", "ranking": ["nlu_fallback", "b", "a"]},
        {"intent": "nlu_fallback", "ranking": ["nlu_fallback", "a", "b"]},
        {"intent": "b", "ranking": ["b", "a"]},
    ]
    assert [diet.top_intent(r) for r in rows] == ["a", "b", "a", "b"]
    result = diet.score(["a", "b", "b", "b"], rows)
    assert result["top1_accuracy"] == pytest.approx(3 / 4)
    assert result["fallback_share"] == pytest.approx(2 / 4)
    assert result["accuracy_with_fallback"] == pytest.approx(2 / 4)
    # a: P 1/2 R 1 → 2/3; b: P 1 R 2/3 → 4/5
    assert result["macro_f1"] == pytest.approx((2 / 3 + 4 / 5) / 2)


def test_previous_result_is_kept_only_while_the_training_data_is_unchanged(tmp_path: Path):
    settings = Settings()
    report = tmp_path / "eval.json"
    assert diet.previous_result(report, settings) is None
    current = diet.training_data_id(diet.training_intents(load_learnt(settings.data_dir)))
    report.write_text(json.dumps({"banking77_diet": {"training_data": current, "epochs": 3}}))
    assert diet.previous_result(report, settings) == {"training_data": current, "epochs": 3}
    report.write_text(json.dumps({"banking77_diet": {"training_data": "stale", "epochs": 3}}))
    assert diet.previous_result(report, settings) is None


def test_report_section_puts_stock_rasa_beside_our_top1_or_says_how_to_add_it():
    ours = {"meta": {"encoder": "var/model"}, "banking77": {"top1_accuracy": 0.924,
                                                             "macro_f1": 0.923}}
    assert "--diet-epochs" in "\n".join(_stock_rasa_lines(ours))
    stock = {"rasa_version": "3.6.21", "epochs": 10, "top1_accuracy": 0.9, "macro_f1": 0.89,
             "train_seconds": 900.0, "pipeline": "default", "split": "BANKING77 test",
             "fallback_share": 0.01, "accuracy_with_fallback": 0.89, "cpus": 2,
             "load_average_1min": {"training_start": 2.0, "training_end": 3.0},
             "parse_seconds": 60.0, "when": "2026-11-26 12:00 UTC"}
    text = "\n".join(_stock_rasa_lines({**ours, "banking77_diet": stock}))
    assert "| 92.4 % | 92.3 % |" in text
    assert "**10 epoch(s)** | 90.0 % | 89.0 % | 900 s (15.0 min) |" in text
