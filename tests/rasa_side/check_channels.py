"""Run by tests/test_rasa_side.py with Rasa's Python: our code that runs inside Rasa."""

import asyncio
import json
import operator
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import jsonschema
import rasa.core.processor
import yaml
from aiohttp import web
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.training import load_data
from rasa.engine.constants import PLACEHOLDER_TRACKER
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.loader import load_predict_graph_runner
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AgentUttered,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    DefinePrevUserUtteredFeaturization,
    EntitiesAdded,
    FollowupAction,
    LegacyForm,
    LegacyFormValidation,
    LoopInterrupted,
    ReminderCancelled,
    ReminderScheduled,
    Restarted,
    SessionStarted,
    SlotSet,
    StoryExported,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig

from channels.action_call import rasas_action_call
from channels.graph_runner import SequentialGraphRunner
from channels.policy import RecentRulePolicy
from channels.sensitive import hide_card_details
from channels.tracker_history import all_applied_events, replaying_copy
from channels.tracker_store import CachedSQLTrackerStore


def store(path: str) -> CachedSQLTrackerStore:
    domain = Domain.load("domain.yml")
    return CachedSQLTrackerStore(domain=domain, dialect="sqlite", db=path)


def texts(tracker: DialogueStateTracker | None) -> list[str]:
    if tracker is None:
        return []
    return [e.text for e in tracker.events if isinstance(e, (UserUttered, BotUttered))]


async def main(path: str) -> dict:
    first = store(path)
    tracker = DialogueStateTracker.from_events("alice", [
        ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
    ], first.domain.slots)
    out = {}
    for turn in ("where is my card?", "thanks 🙂 שלום"):
        tracker.update(UserUttered(turn))
        tracker.update(BotUttered(f"reply to {turn}"))
        await first.save(tracker)
    again = await first.retrieve("alice")
    out["same_object"] = again is tracker
    out["texts_after_saves"] = texts(again)
    # Changed but never saved (a turn that failed half-way): the store re-reads SQL.
    tracker.update(UserUttered("lost turn"))
    out["texts_after_unsaved_change"] = texts(await first.retrieve("alice"))
    # Another process (a restart) sees every saved event, in order, exactly once.
    out["texts_after_restart"] = texts(await store(path).retrieve("alice"))
    # A second session in the same tracker: SQL now returns only the new session.
    fresh = await first.retrieve("alice")
    fresh.update(ActionExecuted("action_session_start"))
    fresh.update(SessionStarted())
    fresh.update(SlotSet("faq_key", None))
    fresh.update(UserUttered("new session"))
    await first.save(fresh)
    out["texts_new_session"] = texts(await first.retrieve("alice"))
    out["texts_new_session_restart"] = texts(await store(path).retrieve("alice"))
    out["unknown"] = await first.retrieve("nobody") is None
    # A new conversation, started as Rasa starts one; its first save writes every event once.
    bob = await first.get_or_create_tracker("bob")
    bob.update(UserUttered("hello"))
    bob.update(BotUttered("reply to hello"))
    await first.save(bob)
    restarted = await store(path).retrieve("bob")
    out["new_conversation_restart"] = [e.as_dict() for e in restarted.events] == [
        e.as_dict() for e in bob.events]
    out["new_conversation_texts"] = texts(restarted)
    return out


def empty_domain() -> dict:
    """Importing channels swaps in the cached empty domain; the answers stay Rasa's."""
    return {"patched": Domain.is_empty.__module__,
            "ours": Domain.load("domain.yml").is_empty(),
            "empty": Domain.empty().is_empty(), "from_empty_dict": Domain.from_dict({}).is_empty(),
            "one_intent": Domain.from_dict({"intents": ["greet"]}).is_empty(),
            "one_response": Domain.from_dict({"responses": {"utter_hi": [{"text": "hi"}]}})
            .is_empty()}


def action_validation() -> dict:
    """Importing channels swaps in the compiled validator; it still rejects bad replies."""
    action = RemoteAction("action_escalate", None)
    out = {"patched": RemoteAction._validate_action_result.__module__}
    out["valid"] = action._validate_action_result({"events": [], "responses": [{"text": "hi"}]})
    try:
        action._validate_action_result({"events": "not a list"})
        out["invalid"] = "accepted"
    except ValidationError as error:
        out["invalid"] = error.message
    # Every kind of event, well formed or not, is accepted or refused as Rasa's own check does.
    samples = [event.as_dict() for event in every_kind_of_event()]
    samples += [{**sample, broken: value} for sample in samples
                for broken, value in (("timestamp", "noon"), ("metadata", []), ("name", 7),
                                      ("value", None), ("entities", {}), ("parse_data", []))]
    samples += [{"event": "no such event"}, {"event": 3}, {"name": "x"}, "slot", None]
    replies = [{"events": [sample], "responses": []} for sample in samples]
    replies += [{"events": [], "responses": ["text"]}, {"responses": [{}]}, []]
    verdicts = []
    for reply in replies:
        try:
            verdicts.append(action._validate_action_result(reply))
        except ValidationError as error:
            verdicts.append(error.message)
    out["agreement"] = [agrees(verdict, rasas_verdict(reply))
                        for verdict, reply in zip(verdicts, replies)]
    out["accepted"] = sum(verdict is True for verdict in verdicts)
    out["replies"] = len(replies)
    return out


async def action_client() -> dict:
    """Custom-action calls share one connection and still reach a restarted action server."""
    peers = []

    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername")[1])
        return web.json_response({"events": [], "responses": [{"text": "ok"}]})

    async def start(port: int) -> web.AppRunner:
        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return runner

    runner = await start(0)
    port = runner.addresses[0][1]
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
    replies = [await endpoint.request(json={"next_action": "x"}, method="post")
               for _ in range(3)]
    out = {"connections_for_three_calls": len(set(peers))}
    await runner.cleanup()  # the action server restarts on the same port
    runner = await start(port)
    replies.append(await endpoint.request(json={"next_action": "x"}, method="post"))
    await runner.cleanup()
    out["replies"] = [reply["responses"][0]["text"] for reply in replies]
    out["connections"] = len(set(peers))
    return out


def action_call() -> dict:
    """A custom-action call carries the events from the 50th last customer message on, and
    everything else as Rasa's own call; without the setting it is Rasa's call."""
    domain = Domain.load("domain.yml")

    def conversation(user_turns: int) -> DialogueStateTracker:
        events = [ActionExecuted("action_session_start"), SessionStarted(),
                  ActionExecuted("action_listen")]
        for number in range(user_turns):
            events += [UserUttered(f"message {number}", {"name": "ask_faq", "confidence": 0.9}),
                       SlotSet("faq_key", f"faq_{number}"), ActionExecuted("utter_faq_answer"),
                       BotUttered(f"reply {number}"), ActionExecuted("action_listen")]
        events += [UserUttered("a person please", {"name": "request_human", "confidence": 1.0})]
        return DialogueStateTracker.from_events("long", events, domain.slots)

    def calls(user_turns: int, **settings: object) -> tuple:
        action = RemoteAction("action_escalate", EndpointConfig("http://x/webhook", **settings))
        tracker = conversation(user_turns)
        return (json.loads(json.dumps(action._action_call_format(tracker, domain))),
                json.loads(json.dumps(rasas_action_call(action, tracker, domain))))

    def without_events(call: dict) -> dict:
        return {**call, "tracker": {**call["tracker"], "events": None}}

    out: dict = {"patched": RemoteAction._action_call_format.__module__}
    ours, rasas = calls(80, recent_user_turns=50)
    out["long_same_but_events"] = without_events(ours) == without_events(rasas)
    events = ours["tracker"]["events"]
    out["long_events"] = [len(events), len(rasas["tracker"]["events"])]
    out["long_events_are_rasas_last"] = events == rasas["tracker"]["events"][-len(events):]
    out["long_first_event"] = events[0].get("text")
    out["long_user_messages"] = sum(e["event"] == "user" for e in events)
    out["short_same"] = operator.eq(*calls(20, recent_user_turns=50))
    out["unset_same"] = operator.eq(*calls(80))
    out["not_a_number_same"] = [operator.eq(*calls(80, recent_user_turns=value))
                                for value in ("fifty", [50], "")]
    out["number_as_text"] = len(calls(80, recent_user_turns="50")[0]["tracker"]["events"])
    ours, rasas = calls(80, recent_user_turns=50, enable_selective_domain=True)
    out["selective_domain"] = ["domain" in ours, "domain" in rasas]
    return out


def rasas_verdict(reply: object) -> object:
    """Return True or the error message of Rasa's own check (before its advice is added)."""
    try:
        jsonschema.validate(reply, RemoteAction.action_response_format_spec())
        return True
    except ValidationError as error:
        return error.message


def agrees(ours: object, rasas: object) -> bool:
    return ours is True if rasas is True else isinstance(ours, str) and ours.startswith(
        f"{rasas}. Failed to validate Action server response")


def every_kind_of_event() -> list:
    """Return one event of each of the 23 kinds an action may return."""
    return [
        UserUttered("hi", {"name": "greet", "confidence": 1.0}, [{"entity": "faq_key",
                                                                  "value": "x", "start": 0,
                                                                  "end": 1}]),
        ActionExecuted("action_listen"), SlotSet("faq_key", "card_arrival"), BotUttered("hello"),
        ActionExecutionRejected("action_escalate"), ActiveLoop("a_form"), AllSlotsReset(),
        ConversationPaused(), ConversationResumed(), FollowupAction("action_escalate"),
        LoopInterrupted(True), Restarted(), ActionReverted(), UserUtteranceReverted(),
        SessionStarted(), EntitiesAdded([{"entity": "faq_key", "value": "x"}]),
        ReminderScheduled("greet", datetime(2030, 1, 1)), ReminderCancelled("greet"),
        AgentUttered("agent text"), StoryExported(), DefinePrevUserUtteredFeaturization(True),
        LegacyForm("a_form"), LegacyFormValidation(False),
    ]


def policy() -> dict:
    """Our RulePolicy and Rasa's, trained on data/rules.yml as config.yml configures it,
    predict every step of one long conversation; return where they differ."""
    domain = Domain.load("domain.yml")
    trackers = load_data("data/rules.yml", domain, augmentation_factor=0)
    config = dict(yaml.safe_load(Path("config.yml").read_text())["policies"][0])
    assert config.pop("name") == "channels.policy.RecentRulePolicy"
    storage = LocalModelStorage(Path(tempfile.mkdtemp()))

    def trained(cls: type) -> RulePolicy:
        made = cls.create({**cls.get_default_config(), **config}, storage, Resource(cls.__name__),
                          ExecutionContext(GraphSchema({}), "check"))
        made.train(trackers, domain)
        return made

    stock, recent = trained(RulePolicy), trained(RecentRulePolicy)
    return converse(domain, lambda tracker: stock.predict_action_probabilities(tracker, domain),
                    lambda tracker: recent.predict_action_probabilities(tracker, domain))


def graph_runner() -> dict:
    """The processor loads the trained model into our runner, which predicts every step of
    one long conversation as dask's does; return where they differ."""
    out = {"processor_runner": rasa.core.processor.DaskGraphRunner.__name__}
    predictors = []
    for runner_class in (DaskGraphRunner, SequentialGraphRunner):
        metadata, runner = load_predict_graph_runner(
            Path(tempfile.mkdtemp()), Path("models/core.tar.gz"), LocalModelStorage,
            runner_class)
        predictors.append(lambda tracker, runner=runner, target=metadata.core_target:
                          runner.run(inputs={PLACEHOLDER_TRACKER: tracker},
                                     targets=[target])[target])
    return {**out, **converse(Domain.load("domain.yml"), *predictors)}


def tracker_state(tracker: DialogueStateTracker) -> dict:
    """Everything a tracker holds, comparable with == (less what applied_events remembers)."""
    fields = {k: v for k, v in vars(tracker).items()
              if k not in ("events", "slots", "active_loop", "_applied")}
    return {**fields, "events": list(tracker.events),
            "slots": {name: vars(slot) for name, slot in tracker.slots.items()},
            "active_loop": vars(tracker.active_loop) if tracker.active_loop else None,
            "current_state": tracker.current_state(EventVerbosity.ALL)}


def every_kind_of_turn(loop: str) -> list:
    """One turn with every kind of event our assistant or Rasa logs; new objects each time,
    since updating a tracker stamps its events."""
    return [
        UserUttered("where is my card?", {"name": "ask_faq", "confidence": 0.9},
                    [{"entity": "faq_key", "value": "card_arrival"}]),
        SlotSet("faq_key", "card_arrival"), ActionExecuted("utter_faq_answer"),
        BotUttered("It is on its way."), ActionExecuted("action_listen"),
        UserUttered("no", {"name": "deny", "confidence": 1.0}), SlotSet("faq_key", "card_arrival"),
        ActiveLoop(loop), LoopInterrupted(True), ActionExecutionRejected(loop),
        ActionExecuted(loop), UserUttered("fine"), ActionExecuted(loop), ActiveLoop(None),
        FollowupAction("action_escalate"), ActionExecuted("action_escalate"),
        SlotSet("ticket_reference", "BW-7KQ2MX"), ConversationPaused(), ConversationResumed(),
        ActionReverted(), UserUtteranceReverted(), ActionExecuted("action_listen"),
    ]


def long_conversation() -> list:
    events = [ActionExecuted("action_session_start"), SessionStarted(),
              ActionExecuted("action_listen")]
    for number in range(12):
        events += every_kind_of_turn("a_loop" if number < 6 else "another_loop")
        if number == 3:  # a loop action run before its loop is ever named...
            events += [ActionExecuted("late_loop"), BotUttered("asks"),
                       ActionExecuted("late_loop")]
        if number == 4:  # ...counts otherwise once it is
            events += [ActiveLoop("late_loop")]
        if number == 8:
            events += [AllSlotsReset(), Restarted()]
        if number == 10:
            events += [SessionStarted()]
    return events


def tracker_history() -> dict:
    """After every event of a long conversation, our tracker copy equals Rasa's replaying
    copy and changing it leaves the original as it was, and our applied events are Rasa's
    (also for a tracker that keeps only its last 40 events); return where any of it fails."""
    domain = Domain.load("domain.yml")
    out: dict = {"copy_differences": [], "leaks": [], "applied_differences": []}
    for max_events in (None, 40):
        tracker = DialogueStateTracker("long", domain.slots, max_event_history=max_events)
        tracker.model_id, tracker.assistant_id = "a model", "an assistant"  # as Rasa's are
        for number, event in enumerate(long_conversation()):
            tracker.update(event, domain)
            where = [max_events, number, type(event).__name__]
            if tracker.applied_events() != all_applied_events(tracker):
                out["applied_differences"].append(where)
            ours = tracker.copy()
            if tracker_state(ours) != tracker_state(replaying_copy(tracker)):
                out["copy_differences"].append(where)
            before = tracker_state(tracker)
            ours.update_with_events(every_kind_of_turn("a_loop")[:10], domain)
            if tracker_state(tracker) != before:
                out["leaks"].append(where)
    out["events"] = len(long_conversation())
    out["applied"] = len(DialogueStateTracker.from_events(
        "long", long_conversation(), domain.slots).applied_events())
    out["patched"] = [DialogueStateTracker.copy.__module__,
                      DialogueStateTracker.applied_events.__module__]
    return out


def converse(domain: Domain, expected_for, got_for) -> dict:
    """Walk one long conversation through every intent, three times, following the
    expected predictions; record each step where the other predictor differs."""
    # Each way a second miss escalates: "no" or choices after the choices or after a rephrase.
    intents = ["greet", "ask_faq", "ask_ambiguous", "deny", "ask_ambiguous", "choose_faq",
               "thanks", "deny", "deny", "deny", "ask_ambiguous", "ask_ambiguous",
               "ask_ambiguous", "out_of_scope", "ask_unanswerable", "affirm", "bot_challenge",
               "request_human", "empty_message", "goodbye"] * 3
    tracker = DialogueStateTracker.from_events(
        "long", [ActionExecuted("action_session_start"), SessionStarted(),
                 ActionExecuted("action_listen")], domain.slots)
    out: dict = {"differences": [], "predicted": []}
    for intent in intents:
        tracker.update(UserUttered(f"a message for {intent}", {"name": intent, "confidence": 1.0}))
        name = None
        while name != "action_listen":
            expected, got = expected_for(tracker), got_for(tracker)
            name = domain.action_names_or_texts[expected.max_confidence_index]
            if (expected.probabilities, expected.events) != (got.probabilities, got.events):
                out["differences"].append([len(tracker.events), intent, name])
            out["predicted"].append(name)
            tracker.update(ActionExecuted(name))
            if name != "action_listen":
                tracker.update(BotUttered(f"reply from {name}"))
    out["events"] = len(tracker.events)
    return out


# Messages as customers type them, card numbers Luhn-valid unless said otherwise.
CARD_DETAIL_MESSAGES = [
    "my card 4539 1488 0343 6467 was declined",
    "card no. 4539-1488-0343-6467, expiry 09/27",
    "4539148803436467",
    "amex 3782 822463 10005 please",
    "my pin is 4821 and my cvv: 123",
    "PIN code 0000, security code 987",
    "I forgot my PIN",
    "I got my pin wrong 3 times",
    "my card 4539 1488 0343 6468 (one digit off) was declined",
    "call me on 07700 900123 about transfer 12345678901234",  # fails the Luhn check
    "account 12345678 sort code 20-00-00",
    "a 20-digit number 45391488034364671234 is no card",
]


def sensitive() -> list:
    return [list(hide_card_details(text)) for text in CARD_DETAIL_MESSAGES]


print(json.dumps({"tracker_store": asyncio.run(main(sys.argv[1])),
                  "sensitive": sensitive(),
                  "action_client": asyncio.run(action_client()), "action_call": action_call(),
                  "empty_domain": empty_domain(),
                  "action_validation": action_validation(), "policy": policy(),
                  "graph_runner": graph_runner(), "tracker_history": tracker_history()}))
