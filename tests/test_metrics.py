"""The evaluation's metric code, on constructed cases whose answers are known by hand."""

import pytest

from bot.decision import Decision
from bot.evaluation import metrics
from bot.evaluation.benchmark import message_wrong, outcome, suggested_right_among
from bot.search.index import Candidate

TRUTH = ["a", "a", "a", "b", "b", "c"]
PREDICTED = ["a", "a", "b", "b", "c", "c"]


def test_accuracy_counts_exact_matches():
    assert metrics.accuracy(TRUTH, PREDICTED) == pytest.approx(4 / 6)


def test_per_class_precision_recall_and_macro_f1_match_hand_computation():
    scores = {s.label: s for s in metrics.per_class(TRUTH, PREDICTED)}
    # a: 2 of 2 predicted right, 2 of 3 found. b: 1 of 2, 1 of 2. c: 1 of 2, 1 of 1.
    assert (scores["a"].precision, scores["a"].recall) == pytest.approx((1.0, 2 / 3))
    assert (scores["b"].precision, scores["b"].recall) == pytest.approx((0.5, 0.5))
    assert (scores["c"].precision, scores["c"].recall, scores["c"].support) == pytest.approx(
        (0.5, 1.0, 1))
    expected_f1 = [0.8, 0.5, 2 / 3]
    assert metrics.macro_f1(TRUTH, PREDICTED) == pytest.approx(sum(expected_f1) / 3)


def test_confused_pairs_are_ordered_by_count():
    truth = ["x", "x", "x", "y", "z"]
    predicted = ["y", "y", "z", "x", "z"]
    assert metrics.confused_pairs(truth, predicted, top=2) == [("x", "y", 2), ("x", "z", 1)]


def test_auroc_is_one_half_zero_and_counts_ties_half():
    assert metrics.auroc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert metrics.auroc([0.1], [0.9]) == 0.0
    assert metrics.auroc([0.5], [0.5]) == 0.5
    # 3 positives × 2 negatives = 6 pairs: wins (0.9>0.4, 0.9>0.2, 0.4>0.2), tie (0.4=0.4), loss 2.
    assert metrics.auroc([0.9, 0.4, 0.1], [0.4, 0.2]) == pytest.approx(3.5 / 6)


def test_balanced_threshold_separates_the_two_sides_where_they_meet():
    accept = [0.9, 0.8, 0.7, 0.65, 0.3]  # one in-scope query looks out of domain
    reject = [0.1, 0.2, 0.6, 0.35]
    # 0.65 keeps 4/5 and refuses 4/4; nothing does better.
    assert metrics.balanced_threshold(accept, reject) == 0.65
    with pytest.raises(ValueError):
        metrics.balanced_threshold([], reject)


def test_threshold_for_coverage_keeps_the_requested_share():
    scores = [i / 20 for i in range(20)]  # 0.00 .. 0.95
    threshold = metrics.threshold_for_coverage(scores, 0.95)
    assert sum(s >= threshold for s in scores) == 19
    assert metrics.share_below([0.1, 0.2, 0.9], 0.5) == pytest.approx(2 / 3)


def test_precision_coverage_walks_down_the_confidences():
    curve = metrics.precision_coverage([0.9, 0.8, 0.8, 0.1], [True, False, True, False])
    expected = [(0.9, 0.25, 1.0), (0.8, 0.75, 2 / 3), (0.1, 1.0, 0.5)]
    assert [point for row in curve for point in row] == pytest.approx(
        [point for row in expected for point in row])


def test_shares_include_missing_outcomes_as_zero():
    assert metrics.shares(["a", "a", "b"], ["a", "b", "c"]) == pytest.approx(
        {"a": 2 / 3, "b": 1 / 3, "c": 0.0})


def test_proportion_interval_is_wilsons_and_narrows_with_more_queries():
    # 50 of 100, worked by hand: centre 0.5, half-width 1.96 / (1 + 1.96²/100) ·
    # √(0.25/100 + 1.96²/40000) = 0.0962.
    assert metrics.proportion_interval(50, 100) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    # No wrong answer in 10 queries still allows a wrong-answer rate of up to 28 %.
    low, high = metrics.proportion_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    # The same share over 3,080 queries instead of 308: about √10 times narrower.
    few, many = metrics.proportion_interval(288, 308), metrics.proportion_interval(2880, 3080)
    assert (few[1] - few[0]) / (many[1] - many[0]) == pytest.approx(10 ** 0.5, rel=0.05)


@pytest.mark.parametrize(
    ("kind", "decision", "intent", "wrong"),
    [
        ("banking", "intent", "affirm", True),
        ("banking", "decline", None, True),
        ("banking", "intent", "other_language", True),
        ("banking", "intent", "needs_detail", False),
        ("banking", "answer", None, False),
        ("banking", "intent", "request_human", False),
        ("chatter", "intent", "deny", True),
        ("chatter", "escalate", None, True),
        ("chatter", "decline", None, False),
        ("chatter", "intent", "needs_detail", False),
        ("thanks", "intent", "thanks", False),
        ("thanks", "intent", "needs_detail", True),
        ("presence", "intent", "greet", False),
        ("presence", "escalate", None, True),
        ("complaint", "escalate", None, False),
        ("complaint", "intent", "complain", False),
        ("complaint", "intent", "request_human", False),
        ("complaint", "decline", None, True),
        ("frustration", "intent", "deny", False),
        ("frustration", "intent", "thanks", True),
        ("never_mind", "intent", "never_mind", False),
        ("never_mind", "escalate", None, True),
    ],
)
def test_a_hand_written_message_is_wrong_when_taken_for_what_it_is_not(
    kind: str, decision: str, intent: str | None, wrong: bool
) -> None:
    assert message_wrong(kind, Decision("x", decision, intent)) is wrong


@pytest.mark.parametrize(
    ("decision", "faq_key", "offered", "wrong"),
    [
        ("answer", "contact_us", [], False),
        ("answer", "card_arrival", [], True),
        ("suggest", None, ["card_arrival", "contact_us", "send_money"], False),
        ("clarify", None, ["card_arrival", "send_money", "contact_us"], True),
        ("decline", None, ["contact_us"], True),
        ("escalate", None, ["contact_us"], True),
    ],
)
def test_a_question_for_an_faq_is_wrong_unless_answered_with_it_or_offered_it(
    decision: str, faq_key: str | None, offered: list[str], wrong: bool
) -> None:
    candidates = [Candidate(k, k, 0.7) for k in offered]
    taken = Decision("x", decision, faq_key=faq_key, candidates=candidates)
    assert message_wrong("faq:contact_us", taken) is wrong


def test_a_suggestion_counts_as_right_only_with_the_right_faq_among_the_choices():
    def suggested(*keys: str) -> Decision:
        return Decision("q", "suggest", candidates=[Candidate(k, k, 0.7) for k in keys])

    decisions = [suggested("a", "b", "c"), suggested("b", "a"), suggested("b", "c", "a"),
                 Decision("q", "escalate", candidates=[Candidate("a", "a", 0.3)])]
    # The third has "a" third, beyond the two choices offered; the fourth was escalated.
    assert suggested_right_among(decisions, ["a"] * 4) == 0.5
    assert [outcome(d, "a") for d in decisions] == ["suggested"] * 3 + ["escalated"]
