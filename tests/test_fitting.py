"""The threshold fit (`bankbot fit-thresholds`, and each OOS set's deployment in `bankbot eval`),
on constructed validation groups whose right thresholds are known by hand."""

import pytest
import yaml

from bot.config import Settings
from bot.decision import ESCALATE, INTENT
from bot.evaluation.fitting import Group, fit_groups, write_thresholds
from bot.nlu.router import BANKING, RouterPrediction
from bot.search.index import Candidate
from bot.services import Services
from tests.conftest import seeded_settings


def _group(name: str, rows: list[tuple[str | None, str, float, float]]) -> Group:
    """rows: (right FAQ or None, top FAQ, its score, router's out-of-scope probability)."""
    predictions = [RouterPrediction(BANKING, 1 - oos, oos, [(BANKING, 1 - oos)])
                   for _, _, _, oos in rows]
    # The runner-up scores far lower, so no query is a close call to clarify.
    candidates = [[Candidate(top, top, score), Candidate("other", "other", 0.1)]
                  for _, top, score, _ in rows]
    texts = ["a question of a few words"] * len(rows)
    return Group(name, [truth for truth, _, _, _ in rows], predictions, candidates, texts)


def test_fit_picks_the_lowest_thresholds_that_keep_wrong_answers_and_declines_rare():
    # In scope: 90 right at 0.90 and 10 wrong at 0.72. Wrong answers must stay under 1.5 %,
    # so the answer threshold is the first grid value above 0.72.
    in_scope = _group("in scope", [("a", "a", 0.90, 0.1)] * 90 + [("a", "b", 0.72, 0.1)] * 10)
    # Banking without an FAQ: 5 % look out of scope at 0.62; at most 2 % may be declined,
    # so the decline threshold is the first grid value above 0.62.
    banking = _group("banking", [(None, "a", 0.5, 0.62)] * 5 + [(None, "a", 0.5, 0.1)] * 95)
    ood = _group("out of domain", [(None, "a", 0.2, 0.99)] * 10)

    values, report = fit_groups(Settings(), None, in_scope, banking, ood)  # type: ignore[arg-type]

    assert values["answer_threshold"] == 0.73
    assert values["decline_threshold"] == 0.65
    # The wrong FAQ at 0.72 is offered as a choice instead (the right one is not among them).
    assert report["in_scope"] == pytest.approx(
        {"right": 0.9, "wrong": 0.0, "clarified": 0.0, "suggested": 0.1,
         "suggested_right_among": 0.0, "declined": 0.0})
    assert report["banking_declined"] == 0.0
    assert report["ood_declined_or_chat"] == 1.0
    assert report["wrong_answers_under_cap"]


@pytest.mark.parametrize(("near", "threshold"), [(4, 0.61), (6, 0.67)])
def test_choices_go_to_few_banking_questions_without_an_faq(near: int, threshold: float):
    # 5 % of in-scope queries score 0.65 on their FAQ: under the answer threshold.
    in_scope = _group("in scope", [("a", "a", 0.90, 0.1)] * 95 + [("a", "a", 0.65, 0.1)] * 5)
    # `near` % of the banking questions, none of which has an FAQ, resemble FAQ "a" at 0.66,
    # the rest at 0.6: none may be answered (so the answer threshold is 0.67), and at most 5 %
    # offered choices.
    banking = _group("banking", [(None, "a", 0.66, 0.1)] * near
                     + [(None, "a", 0.6, 0.1)] * (100 - near))
    ood = _group("out of domain", [(None, "a", 0.2, 0.99)] * 10)

    values, report = fit_groups(Settings(), None, in_scope, banking, ood,  # type: ignore[arg-type]
                                banking_uncovered=True)

    assert values["answer_threshold"] == 0.67
    assert values["suggest_threshold"] == threshold
    assert report["banking_suggested"] == (0.04 if near == 4 else 0.0)
    suggested = 0.05 if threshold < 0.65 else 0.0
    assert report["in_scope"]["suggested"] == report["in_scope"]["suggested_right_among"] == (
        pytest.approx(suggested))
    assert report["in_scope"]["right"] == 0.95  # suggesting never costs an answer


def test_when_no_banking_question_has_an_faq_answering_one_counts_as_a_wrong_answer():
    in_scope = _group("in scope", [("a", "a", 0.90, 0.1)] * 100)
    # 10 % of the uncovered banking questions resemble FAQ "a" at 0.80.
    banking = _group("banking", [(None, "a", 0.80, 0.1)] * 10 + [(None, "a", 0.5, 0.1)] * 90)
    ood = _group("out of domain", [(None, "a", 0.2, 0.99)] * 10)

    covered, _ = fit_groups(Settings(), None, in_scope, banking, ood)  # type: ignore[arg-type]
    uncovered, report = fit_groups(Settings(), None, in_scope, banking, ood,  # type: ignore[arg-type]
                                   banking_uncovered=True)

    assert covered["answer_threshold"] < 0.80  # nothing in scope is wrong at any threshold
    assert uncovered["answer_threshold"] == 0.81
    assert report["banking_answered"] == 0.0
    assert report["in_scope"]["right"] == 1.0


def test_when_no_setting_keeps_wrong_answers_under_the_cap_the_fit_says_so():
    # Mislabelled data: 10 % of in-scope queries score 0.97 on a wrong FAQ, above the whole
    # answer grid, so every setting answers them.
    in_scope = _group("in scope", [("a", "a", 0.90, 0.1)] * 90 + [("a", "b", 0.97, 0.1)] * 10)
    banking = _group("banking", [(None, "a", 0.5, 0.1)] * 10)
    ood = _group("out of domain", [(None, "a", 0.2, 0.99)] * 10)

    values, report = fit_groups(Settings(), None, in_scope, banking, ood)  # type: ignore[arg-type]

    assert not report["wrong_answers_under_cap"]
    assert report["in_scope"]["wrong"] == pytest.approx(0.1)
    assert report["in_scope"]["right"] == pytest.approx(0.9)  # the rest is still answered


def test_the_replayed_decision_reads_each_querys_text_as_the_service_does():
    # Banking without an FAQ at 0.5, so escalated; a single word is asked for more instead.
    group = _group("banking", [(None, "a", 0.5, 0.1)] * 2)
    group.texts = ["overdraft", "can I get an overdraft on my account"]
    assert [d for d, _ in group.outcomes(Settings(), None)] == [  # type: ignore[arg-type]
        INTENT, ESCALATE]


def test_thresholds_fitted_for_other_encoder_weights_are_warned_about(tmp_path):
    # Written by `bankbot fit-thresholds`; the bot service logs the warning when it starts.
    settings = seeded_settings(tmp_path / "var")
    served = Services(settings).embedder.weights_sha256
    fitted_for = {"these": served, "other": "0" * 64, "unsaid": ""}
    warnings = {name: Services(settings.model_copy(update={"fitted_for_encoder": sha}))
                .thresholds_warning() for name, sha in fitted_for.items()}

    assert warnings["these"] is None
    assert "bankbot fit-thresholds" in warnings["other"]
    # Thresholds written by hand (or before the weights were recorded) say nothing to check.
    assert warnings["unsaid"] is None


def test_the_thresholds_file_names_the_weights_it_was_fitted_for(tmp_path):
    report = {"in_scope": {"right": 0.9, "wrong": 0.01, "clarified": 0.05, "suggested": 0.02,
                           "suggested_right_among": 0.01, "declined": 0.0},
              "banking_declined": 0.01, "banking_suggested": 0.03, "ood_declined_or_chat": 0.9}
    values = {name: 0.7 for name in ("intent_threshold", "decline_threshold", "answer_threshold",
                                     "clarify_margin", "clarify_threshold", "suggest_threshold")}
    path = tmp_path / "thresholds.yml"
    write_thresholds(path, values, report, "var/model-tuned", "ab" * 32)

    loaded = Settings(**yaml.safe_load(path.read_text()))
    assert loaded.fitted_for_encoder == "ab" * 32
    assert loaded.answer_threshold == 0.7
