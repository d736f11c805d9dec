"""Rasa's button-payload syntax."""

from bot.nlu.payload import Payload, format_payload, parse_payload


def test_payload_with_entities_names_intent_and_values() -> None:
    assert parse_payload('/choose_faq{"faq_key": "card_arrival"}') == Payload(
        "choose_faq", {"faq_key": "card_arrival"})


def test_payload_without_entities() -> None:
    assert parse_payload("/request_human") == Payload("request_human", {})


def test_ordinary_text_is_not_a_payload() -> None:
    assert parse_payload("where is my card?") is None
    assert parse_payload("1/2 of my money is gone") is None


def test_malformed_payload_json_is_treated_as_text() -> None:
    assert parse_payload('/choose_faq{"faq_key": ') is None
    assert parse_payload('/choose_faq["card_arrival"]') is None
    assert parse_payload("/choose_faq[1]") is None


def test_a_formatted_payload_parses_back() -> None:
    assert format_payload("request_human") == "/request_human"
    text = format_payload("choose_faq", faq_key="card_arrival", offer=7)
    assert parse_payload(text) == Payload("choose_faq", {"faq_key": "card_arrival", "offer": 7})
