"""The router's probabilities are scikit-learn's, computed without its per-call overhead; what
it learns from."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from bot.config import Settings
from bot.evaluation.datasets import Example, faqs_from_examples
from bot.evaluation.deployment import set_router_examples
from bot.nlu.router import BANKING, BANKING_WORDS, CHATTER_WORDS, OUT_OF_SCOPE, Router
from bot.nlu.training_data import read_lines, router_examples
from bot.services import Services


@pytest.mark.parametrize("labels", [[BANKING, OUT_OF_SCOPE], [BANKING, "greet", OUT_OF_SCOPE]])
def test_router_probabilities_match_scikit_learn(labels: list[str]) -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(len(labels), 16))
    vectors = np.vstack([c + rng.normal(scale=0.8, size=(40, 16)) for c in centres])
    targets = [label for label in labels for _ in range(40)]
    model = LogisticRegression(C=10.0, max_iter=2000).fit(vectors, targets)
    router = Router(model, "constructed")

    queries = rng.normal(size=(25, 16)).astype(np.float32)
    probabilities = model.predict_proba(queries)
    for prediction, row in zip(router.predict_many(queries), probabilities):
        assert prediction.label == model.classes_[row.argmax()]
        assert prediction.probability == pytest.approx(row.max(), abs=1e-5)
        expected = dict(zip(model.classes_, row))
        assert prediction.out_of_scope == pytest.approx(expected[OUT_OF_SCOPE], abs=1e-5)
        assert dict(prediction.ranking) == pytest.approx(expected, abs=1e-5)


def test_an_out_of_scope_sets_router_does_not_learn_clincs_banking_texts() -> None:
    # CLINC single-domain holds five CLINC banking intents out as questions without an FAQ;
    # the served router learns CLINC's banking texts, a benchmark set's router must not.
    settings = Settings()
    clinc = set(read_lines(settings.data_dir / "router" / "banking_clinc.txt"))
    hand_written = set(read_lines(settings.data_dir / "router" / "banking.txt"))
    faq_text = "can i top up at the branch counter"
    served = set(router_examples(settings.data_dir, [faq_text])[BANKING])
    deployed = set(set_router_examples(settings, faqs_from_examples([Example(faq_text, "t")]))
                   [BANKING])

    assert len(clinc) > 2000 and clinc | hand_written <= served
    assert not clinc & deployed
    assert deployed == hand_written | {faq_text}


def test_messages_of_one_or_two_words_take_the_short_models_view() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(90, 16))
    labels = [BANKING, "greet", OUT_OF_SCOPE] * 30
    model = LogisticRegression(C=10.0, max_iter=2000).fit(vectors, labels)
    short_model = LogisticRegression(C=10.0, max_iter=2000).fit(vectors, labels[::-1])
    prediction = Router(model, "constructed", short_model).predict(vectors[0].astype(np.float32))

    expected = dict(zip(short_model.classes_, short_model.predict_proba(vectors[:1])[0]))
    assert prediction.short is not None
    assert dict(prediction.short.ranking) == pytest.approx(expected, abs=1e-5)
    assert [prediction.for_words(n) for n in (0, 1, 2, 3, 12)] == [prediction.short] * 3 + [
        prediction] * 2


def test_bare_words_and_chatter_teach_only_the_short_model(services: Services) -> None:
    examples = {
        "greet": ["hi", "hello there", "good morning to you all"],
        BANKING: ["my new card has not arrived yet", "how do i top up my account", "fees"],
        OUT_OF_SCOPE: ["tell me a joke please", "what is the weather like today", "pizza"],
        BANKING_WORDS: ["statement"],
        CHATTER_WORDS: ["lol"],
    }
    router = Router.train(examples, services.embedder)
    without = Router.train({k: v for k, v in examples.items() if k not in (BANKING_WORDS,
                                                                          CHATTER_WORDS)},
                           services.embedder)
    statement = services.embedder.encode_one("statement")
    # The short model learns the texts of one or two words, the word lists under their
    # labels; the other ignores the lists.
    assert list(router.short_model.classes_) == [BANKING, "greet", OUT_OF_SCOPE]
    assert router.predict(statement).short != without.predict(statement).short
    assert router.predict(statement).ranking == without.predict(statement).ranking
