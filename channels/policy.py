"""Rasa's RulePolicy, looking only at the end of a conversation (issue 4).

Stock RulePolicy turns the whole conversation into dialogue states up to four times per
message (text and intent lookups, before the reply and again before listening): under
load that was the largest share of Rasa's time, and it grows with every turn. A rule
can only match the last few states, so this policy builds them from the events since
the last `recent_turns` customer messages, once for the text and intent lookups of one
prediction. Same predictions (tests/rasa_side checks them against RulePolicy over long
conversations) as long as no slot influences the conversation and no rule needs the
conversation start; both are refused at training.
"""

import json
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import RULE_SNIPPET_ACTION_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException


def recent_events(tracker: DialogueStateTracker, turns: int) -> Optional[List[Any]]:
    """Return the events from the listen before the last `turns` user messages, or None
    if the conversation is not longer than that."""
    # Walk back from the end and collect only the tail: this runs up to four times a message,
    # so it must not copy the whole conversation either.
    tail: List[Any] = []
    seen = 0
    for event in reversed(tracker.events):
        tail.append(event)
        if isinstance(event, UserUttered):
            seen += 1
        elif seen >= turns and isinstance(event, ActionExecuted):
            return tail[::-1] if len(tail) < len(tracker.events) else None
    return None


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class RecentRulePolicy(RulePolicy):
    """RulePolicy whose rules are matched against the recent turns only."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Return RulePolicy's defaults plus how many customer turns to look back."""
        return {**RulePolicy.get_default_config(), "recent_turns": 1}

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain,
              **kwargs: Any) -> Resource:
        """Train as RulePolicy does, refusing data whose rules need older history."""
        influential = [s.name for s in domain.slots if s.influence_conversation]
        if influential:
            raise RasaException(f"{type(self).__name__} ignores slot history; slots "
                                f"{influential} influence the conversation")
        if any(t.is_rule_tracker and t.events and not self._starts_with_snippet(t)
               for t in training_trackers):
            raise RasaException(f"{type(self).__name__} cannot apply rules that need the "
                                "conversation start (conversation_start: true)")
        return super().train(training_trackers, domain, **kwargs)

    @staticmethod
    def _starts_with_snippet(tracker: TrackerWithCachedStates) -> bool:
        return any(isinstance(e, ActionExecuted) and e.action_name == RULE_SNIPPET_ACTION_NAME
                   for e in tracker.events)

    @staticmethod
    @lru_cache(maxsize=4096)
    def _rule_key_to_state(rule_key: Text) -> List[Any]:
        # RulePolicy parses every rule's JSON key again for each state it checks, every
        # prediction; the keys are fixed once trained, and their states are only read.
        return json.loads(rule_key)

    def _prediction_states(self, tracker: DialogueStateTracker, domain: Domain,
                           use_text_for_last_user_input: bool = False,
                           rule_only_data: Optional[Dict[Text, Any]] = None) -> List[Any]:
        return super()._prediction_states(self._recent_tracker(tracker), domain,
                                          use_text_for_last_user_input, rule_only_data)

    def _recent_tracker(self, tracker: DialogueStateTracker) -> DialogueStateTracker:
        """Return a tracker of the recent events only, the same one until an event is added."""
        events = tracker.events
        kept = tracker.__dict__.get("_recent_rule_tracker")
        if kept is not None and kept[0] == len(events) and kept[1] is events[-1]:
            return kept[2]
        recent = recent_events(tracker, int(self.config["recent_turns"]))
        if recent is None:
            return tracker
        built = _RecentTracker.from_events(tracker.sender_id, recent,
                                           slots=tracker.slots.values())
        tracker.__dict__["_recent_rule_tracker"] = (len(events), events[-1], built)
        return built


class _RecentTracker(DialogueStateTracker):
    """Recent events whose dialogue states are built once for the lookups of a prediction.

    After a customer message RulePolicy looks the rules up by text and then by intent; the
    two differ only in the last user state, which the featurizer trims from the states
    after they are built. Each lookup gets its own copy to trim.
    """

    def past_states(self, domain: Domain, omit_unset_slots: bool = False,
                    ignore_rule_only_turns: bool = False,
                    rule_only_data: Optional[Dict[Text, Any]] = None) -> List[Any]:
        asked = (omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        built = self.__dict__.get("_built_states")
        if built is None or built[0] is not domain or built[1] != asked:
            states = super().past_states(domain, omit_unset_slots, ignore_rule_only_turns,
                                         rule_only_data)
            built = self.__dict__["_built_states"] = (domain, asked, states)
        # A state maps each of its parts (user, previous action, ...) to a flat dict.
        return [{part: dict(value) for part, value in state.items()} for state in built[2]]
