"""Our code that runs inside Rasa's process (channels/), checked with Rasa's own Python."""

import json
import subprocess

import pytest

from bot.config import PROJECT_DIR, Settings


@pytest.fixture(scope="module")
def seen(tmp_path_factory) -> dict:
    result = subprocess.run(
        [str(Settings().rasa_venv / "bin" / "python"), "tests/rasa_side/check_channels.py",
         str(tmp_path_factory.mktemp("tracker") / "tracker.db")],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": str(PROJECT_DIR), "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
             "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_cached_tracker_store_serves_saved_turns_and_rereads_everything_else(seen):
    store = seen["tracker_store"]
    saved = ["where is my card?", "reply to where is my card?",
             "thanks 🙂 שלום", "reply to thanks 🙂 שלום"]
    assert store["same_object"] is True
    assert store["texts_after_saves"] == saved
    assert store["texts_after_unsaved_change"] == saved  # the unsaved turn is not served
    assert store["texts_after_restart"] == saved
    assert store["texts_new_session"] == ["new session"]
    assert store["texts_new_session_restart"] == ["new session"]
    assert store["unknown"] is True
    # A new conversation's first save (SQL was not asked again what it holds) stored it whole.
    assert store["new_conversation_restart"] is True
    assert store["new_conversation_texts"] == ["hello", "reply to hello"]


def test_action_replies_are_still_validated(seen):
    checked = seen["action_validation"]
    assert checked["patched"] == "channels.action_validation"
    assert checked["valid"] is True
    assert "is not of type 'array'" in checked["invalid"]
    assert "Failed to validate Action server response" in checked["invalid"]
    # Each kind of event, well formed and broken: the same verdict and error as Rasa's check.
    assert checked["replies"] > 100
    assert 0 < checked["accepted"] < checked["replies"]
    assert all(checked["agreement"]), checked["agreement"].index(False)


def test_an_empty_domain_is_still_told_from_a_real_one(seen):
    assert seen["empty_domain"] == {"patched": "channels.empty_domain", "ours": False,
                                    "empty": True, "from_empty_dict": True,
                                    "one_intent": False, "one_response": False}


def test_custom_actions_share_a_connection_and_reach_a_restarted_action_server(seen):
    checked = seen["action_client"]
    assert checked["connections_for_three_calls"] == 1
    assert checked["replies"] == ["ok"] * 4
    assert checked["connections"] == 2


def test_custom_actions_get_the_last_50_customer_messages_and_the_rest_as_rasa_sends_it(seen):
    checked = seen["action_call"]
    assert checked["patched"] == "channels.action_call"
    assert checked["long_same_but_events"] is True
    # 80 customer messages of 5 events each, then the request for a person.
    assert checked["long_events"] == [5 * 49 + 1, 3 + 5 * 80 + 1]
    assert checked["long_events_are_rasas_last"] is True
    assert checked["long_first_event"] == "message 31"
    assert checked["long_user_messages"] == 50
    assert checked["short_same"] is True
    assert checked["unset_same"] is True
    # A setting that is not a whole number falls back to Rasa's call instead of failing it.
    assert checked["not_a_number_same"] == [True, True, True]
    assert checked["number_as_text"] == 5 * 49 + 1
    assert checked["selective_domain"] == [False, False]


def test_rule_policy_on_recent_turns_predicts_what_rasas_does(seen):
    checked = seen["policy"]
    assert checked["events"] > 150  # long enough that only the recent turns are looked at
    assert checked["differences"] == []
    # Each rule fired: the comparison ran over real predictions, not fallbacks.
    assert {"utter_faq_answer", "utter_clarify", "utter_rephrase", "action_escalate",
            "utter_out_of_scope", "utter_goodbye"} <= set(checked["predicted"])
    assert "action_default_fallback" not in checked["predicted"]


def test_rasa_runs_its_dialogue_graph_without_dask_and_predicts_the_same(seen):
    checked = seen["graph_runner"]
    assert checked["processor_runner"] == "SequentialGraphRunner"
    assert checked["events"] > 150
    assert checked["differences"] == []
    assert {"utter_faq_answer", "utter_clarify", "utter_rephrase", "action_escalate",
            "utter_out_of_scope"} <= set(checked["predicted"])


def test_trackers_copy_and_list_applied_events_as_rasa_does_without_rereading_all(seen):
    checked = seen["tracker_history"]
    assert checked["patched"] == ["channels.tracker_history"] * 2
    assert checked["events"] > 250
    assert 0 < checked["applied"] < 30  # the last session only: restarts and reverts counted
    assert checked["copy_differences"] == []
    assert checked["leaks"] == []
    assert checked["applied_differences"] == []


def test_card_numbers_pins_and_security_codes_are_hidden_and_nothing_else(seen):
    assert seen["sensitive"] == [
        ["my card [card number ending 6467] was declined", True],
        ["card no. [card number ending 6467], expiry 09/27", True],
        ["[card number ending 6467]", True],
        ["amex [card number ending 0005] please", True],
        ["my pin is [hidden] and my cvv: [hidden]", True],
        ["PIN code [hidden], security code [hidden]", True],
        ["I forgot my PIN", False],
        ["I got my pin wrong 3 times", False],
        # Not a card number: a mistyped one fails the check every card number passes.
        ["my card 4539 1488 0343 6468 (one digit off) was declined", False],
        ["call me on 07700 900123 about transfer 12345678901234", False],
        ["account 12345678 sort code 20-00-00", False],
        ["a 20-digit number 45391488034364671234 is no card", False],
    ]
