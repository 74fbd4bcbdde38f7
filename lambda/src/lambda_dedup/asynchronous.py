"""Asynchronous sources -- S3, SNS, EventBridge, direct invocation: one outcome per event.

S3, SNS and EventBridge invoke a function asynchronously: Lambda queues the event, retries
it twice if the function raises, then hands it to the on-failure destination. So a handler
acknowledges an event by returning and refuses it by raising, after the toolkit has logged
why:

* ``rejected event`` (ERROR): it cannot be parsed or validated -- whatever the error
  parsing it, even an unexpected ``KeyError`` -- or what it would write is more than
  DynamoDB stores, or its idempotency key was used before with another payload. Nothing
  was written. The retries fail the same way, and the event ends in the on-failure
  destination with this line as its explanation (metric ``EventsRejected``);
* ``event in progress`` (WARNING): another invocation holds the key's claim; a retry
  finds the key done, or takes the claim over once its lease expires
  (``EventsInProgress``);
* ``event failed`` (WARNING, with the traceback): anything else, for example a DynamoDB
  error that outlasted botocore's retries. Lambda retries the event (``EventsFailed``).

An event that succeeds gets one INFO line: ``event applied`` (``EventsApplied``),
``duplicate event`` (``DuplicatesSuppressed``), or ``event superseded``
(``EventsSuperseded``: a later event had overtaken it, so it applied nothing). A duplicate
returns the result stored by the first delivery.

:func:`process_event` (and its decorator form :func:`event_handler`) runs a function of
one's own on an event; :func:`handle_event` is the step underneath, for a handler that
dispatches events itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar, overload

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_dedup.deduplicator import Outcome
from lambda_dedup.exceptions import (
    REJECTED,
    AlreadyInProgressError,
    InvalidEventError,
    parse_or_reject,
)

__all__ = [
    "SOURCES",
    "EventHandler",
    "event_handler",
    "event_records",
    "event_source",
    "handle_event",
    "process_event",
]

P = TypeVar("P")

SOURCES = ("s3", "sns", "eventbridge", "direct")
"""The asynchronous sources, by the name their log lines carry."""


def handle_event(
    source: str,
    parse: Callable[[], P],
    apply: Callable[[P], Any],
    *,
    describe: Mapping[str, Any] | None = None,
) -> Outcome[Any]:
    """Run ``parse`` then ``apply`` for one event (or one record of an S3 or SNS event):
    log and count what happened, then return its outcome or re-raise its error.

    ``parse`` validates the event and returns everything ``apply`` needs; it must not call
    any service: whatever it raises makes the event a rejection, before any write.
    ``apply`` does the work and returns an :class:`~lambda_dedup.deduplicator.Outcome`,
    or any other value, taken as the result of an applied event. ``describe`` goes into
    every log line.

    Examples:
        >>> from lambda_dedup import Deduplicator, InMemoryStore
        >>> dedup = Deduplicator(InMemoryStore(), "commands")
        >>> def apply(command):
        ...     return dedup.put_once(command["id"], payload=command, result={"ok": True})
        >>> handle_event("direct", lambda: {"id": "c-1"}, apply).duplicate
        False
        >>> handle_event("direct", lambda: {"id": "c-1"}, apply).duplicate
        True
    """
    from lambda_dedup.runtime import logger, metrics

    extra = {"source": source, **(describe or {})}
    try:
        found = apply(parse_or_reject(parse, "the event"))
    except REJECTED as error:
        field = getattr(error, "field", None)
        logger.error("rejected event", extra={**extra, "reason": str(error), "field": field})
        metrics.add_metric(name="EventsRejected", unit=MetricUnit.Count, value=1)
        raise
    except AlreadyInProgressError as error:
        logger.warning(
            "event in progress",
            extra={**extra, "reason": str(error), "retry_after_ms": error.retry_after_ms},
        )
        metrics.add_metric(name="EventsInProgress", unit=MetricUnit.Count, value=1)
        raise
    except Exception as error:
        logger.warning(
            "event failed",
            extra={**extra, "reason": f"{type(error).__name__}: {error}"},
            exc_info=True,
        )
        metrics.add_metric(name="EventsFailed", unit=MetricUnit.Count, value=1)
        raise
    outcome = found if isinstance(found, Outcome) else Outcome("", found, duplicate=False)
    ids = {"dedup_record_id": outcome.record_id} if outcome.record_id else {}
    if outcome.superseded:
        metrics.add_metric(name="EventsSuperseded", unit=MetricUnit.Count, value=1)
        logger.info("event superseded", extra={**extra, **ids})
    elif outcome.duplicate:
        metrics.add_metric(name="DuplicatesSuppressed", unit=MetricUnit.Count, value=1)
        logger.info("duplicate event", extra={**extra, **ids})
    else:
        metrics.add_metric(name="EventsApplied", unit=MetricUnit.Count, value=1)
        logger.info("event applied", extra={**extra, **ids})
    return outcome


def event_records(source: str, event: Any) -> list[dict[str, Any]]:
    """The ``Records`` of an S3 or SNS event; an event without any is a rejection (a
    ``rejected event`` line, then :class:`~lambda_dedup.exceptions.InvalidEventError`).

    Examples:
        >>> event_records("sns", {"Records": [{"Sns": {}}]})
        [{'Sns': {}}]
    """
    records = event.get("Records") if isinstance(event, dict) else None
    if isinstance(records, list) and records and all(isinstance(r, dict) for r in records):
        return records

    def reject() -> None:
        raise InvalidEventError("the event has no 'Records' list of objects", "Records")

    handle_event(source, reject, lambda _: None)
    raise AssertionError("unreachable: handle_event re-raises")  # pragma: no cover


def event_source(event: Any) -> str:
    """Which asynchronous source sent ``event``: ``s3``, ``sns``, ``eventbridge``, or
    ``direct`` for anything else (an ``Invoke`` call's own payload).

    Examples:
        >>> event_source({"Records": [{"eventSource": "aws:s3"}]})
        's3'
        >>> event_source({"source": "my.app", "detail-type": "Order Placed", "detail": {}})
        'eventbridge'
        >>> event_source({"id": "c-1"})
        'direct'
    """
    if not isinstance(event, dict):
        return "direct"
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], dict):
        first = records[0]
        if first.get("eventSource") == "aws:s3":
            return "s3"
        if first.get("EventSource") == "aws:sns":
            return "sns"
    if "detail-type" in event and "source" in event:
        return "eventbridge"
    return "direct"


def _describe(source: str, data: Any) -> dict[str, Any]:
    """The identifiers of one record or event that every log line carries."""
    raw = getattr(data, "raw_event", data)
    raw = raw if isinstance(raw, dict) else {}

    def part(holder: dict[str, Any], name: str) -> dict[str, Any]:
        found = holder.get(name)
        return found if isinstance(found, dict) else {}

    if source == "s3":
        s3 = part(raw, "s3")
        obj, bucket = part(s3, "object"), part(s3, "bucket")
        return {
            "bucket": bucket.get("name"),
            "object_key": obj.get("key"),
            "version_id": obj.get("versionId"),
        }
    if source == "sns":
        sns = part(raw, "Sns")
        return {"message_id": sns.get("MessageId"), "topic_arn": sns.get("TopicArn")}
    if source == "eventbridge":
        return {"event_id": raw.get("id"), "detail_type": raw.get("detail-type")}
    return {}


def process_event(
    event: Any,
    context: LambdaContext | None,
    event_function: Callable[[Any], Any],
    *,
    parse: Callable[[Any], Any] | None = None,
    source: str | None = None,
    describe: Callable[[Any], Mapping[str, Any]] | None = None,
) -> Any:
    """Run ``event_function`` on an asynchronously delivered event; return its result.

    * **S3 and SNS** events hold ``Records``: each one, in order, reaches
      ``event_function`` as its Powertools data class (``S3EventRecord``,
      ``SNSEventRecord``), and the list of their results is returned. The first record
      that fails raises, so that Lambda retries the event: the records before it are then
      duplicates;
    * an **EventBridge** event reaches it as an ``EventBridgeEvent``;
    * a **direct** invocation's payload (anything else) reaches it as it is.

    With ``parse``, ``event_function`` gets what ``parse`` returned instead; whatever
    ``parse`` raises is a rejection. ``event_function`` returns an
    :class:`~lambda_dedup.deduplicator.Outcome` (its ``result`` is what is returned: the
    stored one for a duplicate) or any other value. A rejection or a failure raises after
    its log line (see the module's documentation), so that the event goes through
    Lambda's retries to the on-failure destination.

    Args:
        event: the event, as Lambda delivers it.
        context: the Lambda context (``None`` in a test that has none).
        event_function: applies one event or record.
        parse: validates one event or record, calling no service.
        source: ``"s3"``, ``"sns"``, ``"eventbridge"`` or ``"direct"``; by default told
            from the event (:func:`event_source`).
        describe: the fields that every log line about one event or record carries;
            by default its identifiers (object, message id, event id).

    Examples:
        An EventBridge consumer that records each order once::

            from lambda_dedup import effects
            from lambda_dedup.asynchronous import process_event
            from lambda_dedup.runtime import deduplicator

            def record_order(event):
                order = event.detail
                return deduplicator("orders").transact_once(
                    event.get_id, [effects.put("orders", order)], payload=order
                )

            def handler(event, context):
                return process_event(event, context, record_order)
    """
    # Imported here: a handler pays for the data classes it uses, not for all of them.
    from aws_lambda_powertools.utilities.data_classes.event_bridge_event import (
        EventBridgeEvent,
    )
    from aws_lambda_powertools.utilities.data_classes.s3_event import S3Event
    from aws_lambda_powertools.utilities.data_classes.sns_event import SNSEvent

    source = event_source(event) if source is None else source
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    if source in ("s3", "sns"):
        wrap = S3Event if source == "s3" else SNSEvent
        items = [
            next(iter(wrap({"Records": [raw]}).records)) for raw in event_records(source, event)
        ]
    else:
        items = [
            EventBridgeEvent(event)
            if source == "eventbridge" and isinstance(event, dict)
            else event
        ]
    results = []
    for item in items:

        def parsed(item: Any = item) -> Any:
            return item if parse is None else parse(item)

        details = _describe(source, item) if describe is None else dict(describe(item))
        outcome = handle_event(source, parsed, event_function, describe=details)
        results.append(outcome.result)
    return results if source in ("s3", "sns") else results[0]


class EventHandler(Protocol):
    """A Lambda handler made by :func:`event_handler`; ``event_function`` is the function
    it wraps, for unit tests of one event."""

    event_function: Callable[[Any], Any]

    def __call__(self, event: Any, context: Any) -> Any: ...


@overload
def event_handler(event_function: Callable[[Any], Any], /) -> EventHandler: ...


@overload
def event_handler(
    *,
    parse: Callable[[Any], Any] | None = None,
    source: str | None = None,
    describe: Callable[[Any], Mapping[str, Any]] | None = None,
) -> Callable[[Callable[[Any], Any]], EventHandler]: ...


def event_handler(
    event_function: Callable[[Any], Any] | None = None,
    /,
    *,
    parse: Callable[[Any], Any] | None = None,
    source: str | None = None,
    describe: Callable[[Any], Mapping[str, Any]] | None = None,
) -> EventHandler | Callable[[Callable[[Any], Any]], EventHandler]:
    """Make a function the Lambda handler of an asynchronous source: the decorator form
    of :func:`process_event`, with the same options.

    The handler it makes adds the Lambda context to the toolkit's log lines and flushes
    its metrics after each event. The function stays reachable as
    ``handler.event_function``.

    Examples:
        An SNS subscriber that sends one e-mail per notification, in claim mode::

            from lambda_dedup.asynchronous import event_handler
            from lambda_dedup.runtime import deduplicator

            @event_handler
            def handler(record):
                message = json.loads(record.sns.message)
                return deduplicator("emails").run_once(
                    record.sns.message_id,
                    lambda claim: mailer.send(message, idempotency_key=claim.token),
                    payload=message,
                )
    """

    def decorate(function: Callable[[Any], Any]) -> EventHandler:
        from lambda_dedup.runtime import logger, metrics

        @metrics.log_metrics
        @logger.inject_lambda_context
        @functools.wraps(function)
        def handler(event: Any, context: LambdaContext) -> Any:
            return process_event(
                event, context, function, parse=parse, source=source, describe=describe
            )

        handler.event_function = function  # type: ignore[attr-defined]
        return handler  # type: ignore[return-value]

    return decorate if event_function is None else decorate(event_function)
