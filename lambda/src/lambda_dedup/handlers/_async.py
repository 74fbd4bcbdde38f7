"""What the asynchronously invoked handlers share: one log line and one metric per event.

S3, SNS and EventBridge invoke a function asynchronously: Lambda queues the event, retries
it twice if the function raises, and then hands it to the on-failure destination. So these
handlers acknowledge an event by returning and refuse it by raising, after
:func:`apply_event` has logged why:

* ``rejected event`` (ERROR): it cannot be parsed or validated -- whatever the error
  parsing it, even an unexpected ``KeyError`` -- or what it would write is more than
  DynamoDB stores, or its idempotency key was used before with another payload. Nothing
  was written. The retries fail the same way, and the event ends in the on-failure
  destination with this line as its explanation;
* ``event in progress`` (WARNING): another invocation holds the key's claim; a retry
  finds the key done, or takes the claim over once its lease expires;
* ``event failed`` (WARNING, with the traceback): anything else, for example a DynamoDB
  error that outlasted botocore's retries. Lambda retries the event.

An event that succeeds gets one INFO line: ``event applied``, ``duplicate event``, or
``event superseded`` (a later event had overtaken it, so it applied nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aws_lambda_powertools.metrics import MetricUnit

from lambda_dedup.deduplicator import Outcome
from lambda_dedup.exceptions import AlreadyInProgressError, InvalidEventError
from lambda_dedup.handlers._batch import REJECTED, parse_or_reject
from lambda_dedup.handlers._runtime import logger, metrics

R = TypeVar("R")
P = TypeVar("P")


def apply_event(
    source: str,
    describe: Mapping[str, Any],
    parse: Callable[[], P],
    apply: Callable[[P], Outcome[R]],
) -> Outcome[R]:
    """Run ``parse`` then ``apply`` for one event (or S3 record): log and count what
    happened, then return its outcome or re-raise its error.

    ``parse`` validates the event and returns everything ``apply`` needs; it must not call
    any service. Whatever it raises makes the event a rejection, before any write.
    ``apply`` does the work. ``describe`` goes into every log line.
    """
    extra = {"source": source, **describe}
    try:
        outcome = apply(parse_or_reject(parse, "the event"))
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
    if outcome.superseded:
        metrics.add_metric(name="EventsSuperseded", unit=MetricUnit.Count, value=1)
        logger.info("event superseded", extra={**extra, "dedup_record_id": outcome.record_id})
    elif outcome.duplicate:
        metrics.add_metric(name="DuplicatesSuppressed", unit=MetricUnit.Count, value=1)
        logger.info("duplicate event", extra={**extra, "dedup_record_id": outcome.record_id})
    else:
        metrics.add_metric(name="EventsApplied", unit=MetricUnit.Count, value=1)
        logger.info("event applied", extra={**extra, "dedup_record_id": outcome.record_id})
    return outcome


def event_records(source: str, event: Any) -> list[dict[str, Any]]:
    """The ``Records`` of an S3 or SNS event; an event without any is rejected."""
    records = event.get("Records") if isinstance(event, dict) else None
    if isinstance(records, list) and records and all(isinstance(r, dict) for r in records):
        return records

    def reject() -> None:
        raise InvalidEventError("the event has no 'Records' list of objects", "Records")

    apply_event(source, {}, reject, lambda _: Outcome("", None, duplicate=False))
    raise AssertionError("unreachable: apply_event re-raises")  # pragma: no cover
