"""The SNS handler: one welcome message per profile notification, in claim mode."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from support.batches import profile
from support.lambda_context import FakeLambdaContext
from support.logs import LogLines
from support.push_events import sns_event

from lambda_dedup import AlreadyInProgressError, InvalidEventError, PayloadMismatchError
from lambda_dedup.handlers import sns
from lambda_dedup.reference import senders


@pytest.fixture
def sent(handler_env: str) -> Iterator[senders.RecordingSender]:
    """A fresh recording sender plugged into the handler."""
    recorder = senders.RecordingSender()
    previous = senders.use_sender(recorder)
    yield recorder
    senders.use_sender(previous)


def invoke(event: dict[str, Any]) -> Any:
    return sns.handler(event, FakeLambdaContext(function_name="dedup-sns-welcome"))


def test_a_notification_sends_one_welcome(sent: senders.RecordingSender) -> None:
    # GIVEN a profile notification
    event = sns_event(profile(1, name="Ada"))
    # WHEN it is delivered twice
    first, again = invoke(event), invoke(event)
    # THEN one welcome was sent, and both deliveries got its result
    (message,) = sent.sent
    assert (message.message.to, message.message.user_id) == ("u-1@example.com", "u-1")
    assert "Ada" in message.message.text
    assert again == first == [{"message_id": message.message_id, "user_id": "u-1"}]


def test_the_business_key_attribute_wins_over_the_message_id(
    sent: senders.RecordingSender,
) -> None:
    # GIVEN the publisher retried: two messages, two MessageIds, one idempotency_key
    attributes = {"idempotency_key": "welcome/u-1"}
    invoke(sns_event(profile(1), attributes=attributes))
    invoke(sns_event(profile(1), attributes=attributes))
    # THEN one welcome was sent; without the attribute each message would be new
    assert len(sent.sent) == 1
    invoke(sns_event(profile(1)))
    assert len(sent.sent) == 2


def test_the_claim_token_is_handed_to_the_sender(sent: senders.RecordingSender) -> None:
    invoke(sns_event(profile(1)))
    assert len(sent.sent[0].idempotency_token) == 32


def test_a_key_reused_for_another_profile_is_rejected(
    sent: senders.RecordingSender, log_lines: LogLines
) -> None:
    invoke(sns_event(profile(1), message_id="m-1"))
    with pytest.raises(PayloadMismatchError):
        invoke(sns_event(profile(2), message_id="m-1"))
    assert len(sent.sent) == 1
    assert log_lines.with_message("rejected event")[0]["message_id"] == "m-1"


@pytest.mark.parametrize(
    ("message", "attributes", "field"),
    [
        ("{not json", None, None),
        ({"user_id": "u-1"}, None, "email"),
        (profile(1), {"idempotency_key": ""}, "idempotency_key"),
    ],
)
def test_a_malformed_notification_raises_and_sends_nothing(
    sent: senders.RecordingSender,
    log_lines: LogLines,
    message: Any,
    attributes: Any,
    field: str | None,
) -> None:
    with pytest.raises(InvalidEventError):
        invoke(sns_event(message, attributes=attributes))
    assert sent.sent == []
    (line,) = log_lines.with_message("rejected event")
    assert (line["source"], line.get("field")) == ("sns", field)


def test_an_event_without_records_is_rejected(sent: senders.RecordingSender) -> None:
    with pytest.raises(InvalidEventError):
        invoke({"Records": []})


class FailingOnce:
    def __init__(self) -> None:
        self.calls = 0
        self.inner = senders.RecordingSender()

    def send(self, message: senders.WelcomeMessage, *, idempotency_token: str) -> str:
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("mail provider unreachable")
        return self.inner.send(message, idempotency_token=idempotency_token)


def test_a_failed_send_releases_the_claim_and_the_retry_sends(
    handler_env: str, log_lines: LogLines
) -> None:
    sender = FailingOnce()
    previous = senders.use_sender(sender)
    try:
        event = sns_event(profile(1))
        with pytest.raises(ConnectionError):
            invoke(event)
        assert log_lines.with_message("event failed")
        invoke(event)  # Lambda's retry: not blocked by the first attempt's claim
        invoke(event)
    finally:
        senders.use_sender(previous)
    assert len(sender.inner.sent) == 1


class Blocking:
    def __init__(self) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        self.inner = senders.RecordingSender()

    def send(self, message: senders.WelcomeMessage, *, idempotency_token: str) -> str:
        self.entered.set()
        self.release.wait(timeout=10)
        return self.inner.send(message, idempotency_token=idempotency_token)


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # one buffer, 2 threads
def test_a_duplicate_during_the_send_raises_in_progress(
    handler_env: str, log_lines: LogLines
) -> None:
    sender = Blocking()
    previous = senders.use_sender(sender)
    try:
        event = sns_event(profile(1))
        with ThreadPoolExecutor(max_workers=1) as pool:
            first = pool.submit(invoke, event)
            assert sender.entered.wait(timeout=10)
            with pytest.raises(AlreadyInProgressError):
                invoke(event)
            sender.release.set()
            result = first.result(timeout=10)
        assert invoke(event) == result
    finally:
        senders.use_sender(previous)
    assert len(sender.inner.sent) == 1
    assert log_lines.with_message("event in progress")
