"""The EventBridge handler: EC2 instance state changes, each recorded once."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import ItemReader, WriteLog
from support.lambda_context import FakeLambdaContext
from support.logs import LogLines
from support.push_events import instance_state_change
from unit.conftest import INSTANCE_STATES

from lambda_dedup import InvalidEventError, PayloadMismatchError
from lambda_dedup.handlers import eventbridge


def invoke(event: Any) -> Any:
    return eventbridge.handler(event, FakeLambdaContext(function_name="dedup-instance-states"))


def test_a_state_change_is_recorded_once(write_log: WriteLog, read_item: ItemReader) -> None:
    # GIVEN an instance stopped
    event = instance_state_change("evt-1")
    # WHEN EventBridge delivers the event twice
    first, again = invoke(event), invoke(event)
    # THEN one item records it: instance, state and time
    key = ("i-0a1b2c3d4e5f60718", "2026-11-30T09:31:08Z#evt-1")
    assert write_log.count(INSTANCE_STATES) == {key: 1}
    item = read_item(INSTANCE_STATES, instance_id=key[0], changed_at=key[1])
    assert item is not None
    assert (item["state"], item["time"], item["event_id"]) == (
        "stopped",
        "2026-11-30T09:31:08Z",
        "evt-1",
    )
    assert (first["duplicate"], again["duplicate"]) == (False, True)
    assert first["record_id"] == again["record_id"] == "eventbridge-instance-states#evt-1"


def test_two_events_of_one_instance_are_two_records(write_log: WriteLog) -> None:
    invoke(instance_state_change("evt-1", state="stopping"))
    invoke(instance_state_change("evt-2", time="2026-11-30T09:31:20Z"))
    assert len(write_log.count(INSTANCE_STATES)) == 2


def test_an_event_id_reused_for_another_change_is_rejected(
    write_log: WriteLog, log_lines: LogLines
) -> None:
    invoke(instance_state_change("evt-1"))
    with pytest.raises(PayloadMismatchError):
        invoke(instance_state_change("evt-1", state="running"))
    assert len(write_log.count(INSTANCE_STATES)) == 1
    assert log_lines.with_message("rejected event")[0]["event_id"] == "evt-1"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"detail": "stopped"}, "detail"),
        ({"detail": {"state": "stopped"}}, "detail.instance-id"),
        ({"detail": {"instance-id": "vm-1", "state": "stopped"}}, "detail.instance-id"),
        ({"detail": {"instance-id": "i-0a1b2c3d4e5f60718"}}, "detail.state"),
        ({"time": "yesterday"}, "time"),
        ({"id": None}, "id"),
    ],
)
def test_a_malformed_event_raises_naming_the_field(
    write_log: WriteLog, log_lines: LogLines, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidEventError):
        invoke(instance_state_change(**fields))
    assert write_log.count(INSTANCE_STATES) == {}
    (line,) = log_lines.with_message("rejected event")
    assert (line["source"], line["field"]) == ("eventbridge", field)


def test_an_event_that_is_not_an_object_is_rejected(domain_env: str) -> None:
    with pytest.raises(InvalidEventError):
        invoke(["not", "an", "event"])
