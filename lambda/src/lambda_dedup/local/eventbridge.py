"""EventBridge: events matching a rule, delivered to its function targets.

For each rule target that is a function (``ListRules`` and ``ListTargetsByRule`` on every
bus of the emulator), the runner adds a mirror target on the same rule -- a tap queue
(:mod:`.taps`) with the function target's ``Input``, ``InputPath`` or
``InputTransformer`` -- so the emulator matches events against the rule's pattern and
shapes them as the function would get them. Before invoking, the runner asks the
emulator's ``TestEventPattern`` too; moto does not answer it (it returns no ``Result``),
and then the rule's own match stands. Events go through asynchronous invocation.

A rule target's ``RetryPolicy`` and ``DeadLetterConfig`` govern EventBridge failing to
*reach* a function (throttling, a missing permission); the runner always reaches it, so
only the function's asynchronous invocation settings apply.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from lambda_dedup.local.taps import TapQueue

TAP_TARGET_ID = "local-runner-tap"
_INPUT_SETTINGS = ("Input", "InputPath", "InputTransformer")


@dataclass(frozen=True, slots=True)
class RuleTarget:
    """A function target of a rule, as the emulator has it."""

    bus: str
    rule: str
    pattern: str | None
    function_name: str
    input_settings: dict[str, Any]

    @classmethod
    def all(cls, events_client: Any) -> list[RuleTarget]:
        """Every function target of every rule on every bus."""
        found = []
        for bus in events_client.list_event_buses()["EventBuses"]:
            for rule in events_client.list_rules(EventBusName=bus["Name"])["Rules"]:
                targets = events_client.list_targets_by_rule(
                    Rule=rule["Name"], EventBusName=bus["Name"]
                )["Targets"]
                for target in targets:
                    if target["Arn"].split(":")[2] != "lambda":
                        continue
                    found.append(
                        cls(
                            bus=bus["Name"],
                            rule=rule["Name"],
                            pattern=rule.get("EventPattern"),
                            function_name=target["Arn"].split(":")[6],
                            input_settings={
                                name: target[name] for name in _INPUT_SETTINGS if name in target
                            },
                        )
                    )
        return found


class RuleTap:
    """A mirror of one function target, ending in a tap queue."""

    def __init__(self, events_client: Any, sqs_client: Any, target: RuleTarget) -> None:
        self.target = target
        self._events = events_client
        self._queue = TapQueue(sqs_client, target.rule)
        self._id = f"{TAP_TARGET_ID}-{target.function_name}"[:64]
        events_client.put_targets(
            Rule=target.rule,
            EventBusName=target.bus,
            Targets=[{"Id": self._id, "Arn": self._queue.arn, **target.input_settings}],
        )

    def matches(self, event: dict[str, Any]) -> bool:
        """The emulator's ``TestEventPattern`` verdict, where it gives one."""
        if not self.target.pattern or "detail-type" not in event:
            return True
        answer = self._events.test_event_pattern(
            EventPattern=self.target.pattern, Event=json.dumps(event)
        )
        return bool(answer.get("Result", True))

    def events(self) -> list[tuple[dict[str, Any], float]]:
        """Each event the rule matched since the last call, with its time."""
        found = []
        for message in self._queue.receive():
            event = json.loads(message["Body"])
            if not self.matches(event):
                continue
            stamp = str(event.get("time", "")).replace("Z", "+00:00")
            try:
                at = dt.datetime.fromisoformat(stamp).timestamp()
            except ValueError:
                at = dt.datetime.now(dt.UTC).timestamp()
            found.append((event, at))
        return found

    def close(self) -> None:
        self._events.remove_targets(
            Rule=self.target.rule, EventBusName=self.target.bus, Ids=[self._id]
        )
        self._queue.delete()
