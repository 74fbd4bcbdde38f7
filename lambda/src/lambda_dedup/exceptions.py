"""One exception class per way deduplication can fail.

Errors from DynamoDB itself (throttling, timeouts, access denied...) are *not* wrapped:
the original ``botocore.exceptions.ClientError`` propagates, so that the trigger retries
the event. Only the outcomes of a failed *condition* are translated into these classes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

Parsed = TypeVar("Parsed")


class DedupError(Exception):
    """Base class of every error raised by this package."""


class InvalidKeyError(DedupError, ValueError):
    """The namespace or the idempotency key is empty or malformed."""


class PayloadMismatchError(DedupError):
    """The key was seen before with a different payload fingerprint.

    Reusing a key for a different request is a caller bug (or an attack); it is reported,
    never silently answered with the other request's result.
    """

    def __init__(self, record_id: str) -> None:
        super().__init__(f"idempotency key {record_id!r} was already used with a different payload")
        self.record_id = record_id


class AlreadyInProgressError(DedupError):
    """Another holder has claimed the key and its lease has not expired yet.

    Retryable: the caller must let the event be redelivered (report it as a failed
    record, return HTTP 409...) and must never treat it as done.
    """

    def __init__(self, record_id: str, retry_after_ms: int) -> None:
        super().__init__(
            f"idempotency key {record_id!r} is being processed by another invocation; "
            f"retry in {retry_after_ms} ms"
        )
        self.record_id = record_id
        self.retry_after_ms = retry_after_ms


class LeaseLostError(DedupError):
    """Completion was rejected: this holder's claim expired and another holder took it.

    The work ran, but its result is not recorded; the current holder's result wins. The
    fencing token passed to the work lets a downstream system reject the stale writer.
    """

    def __init__(self, record_id: str, token: str) -> None:
        super().__init__(f"claim {token!r} on {record_id!r} was taken over after its lease expired")
        self.record_id = record_id
        self.token = token


class ResultNotStorableError(DedupError, TypeError):
    """The result cannot be stored (not JSON-serialisable, or too large) for replay."""


class EffectConditionFailedError(DedupError):
    """A condition attached to one of the effect's own writes failed (effect mode).

    The transaction was cancelled as a whole: neither the effect nor the deduplication
    marker was written, so a redelivery will try again.
    """

    def __init__(self, record_id: str, index: int, message: str) -> None:
        super().__init__(
            f"effect #{index} for {record_id!r} was rejected by its condition: {message}"
        )
        self.record_id = record_id
        self.index = index


class UnsupportedOperationError(DedupError, NotImplementedError):
    """The store does not implement this operation (e.g. transactions in memory)."""


class InvalidEventError(DedupError, ValueError):
    """An event or record that cannot be parsed or validated; never retried into success.

    ``field`` names the offending field (``None`` when the event is not JSON at all).
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class OrderingKeyError(InvalidEventError):
    """A batch record's ordering key could not be computed (its ordering key function
    raised). The record is reported as a rejection without being run: where it belongs in
    the batch's order is unknown, and one record's key must never fail its batch."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(
            f"the record's ordering key cannot be computed: {type(cause).__name__}: {cause}"
        )


class UnstorableValueError(InvalidEventError):
    """A value that DynamoDB refuses to store, found before the first write: a number that
    is not finite, has more than 38 significant digits or is out of DynamoDB's range, a
    lone surrogate, nesting beyond 32 levels, an item over 400 KB... (see
    :mod:`lambda_dedup.storable`). No retry can store it, so it is a rejection, and
    ``field`` names the value (``a.b[2]``)."""


class ConfigurationError(DedupError):
    """The environment does not provide a required setting."""


class PrecedingRecordFailedError(DedupError):
    """A batch record was not processed because an earlier record with its ordering key failed.

    FIFO message groups and stream partition keys must be applied in order: once a record
    fails, the later records of the same key are reported as failed too, unprocessed, so
    that they are redelivered after it. ``key`` is the ordering key, ``failed_record`` the
    identifier (message id or sequence number) of the record that failed first.
    """

    def __init__(self, key: str, failed_record: str) -> None:
        super().__init__(
            f"record {failed_record!r} with ordering key {key!r} failed before this one"
        )
        self.key = key
        self.failed_record = failed_record


REJECTED: tuple[type[Exception], ...] = (InvalidEventError, InvalidKeyError, PayloadMismatchError)
"""The failures that no retry can fix: a malformed event, an unusable key, a key reused
with another payload. The toolkit logs them as rejections and sends them on to the DLQ or
the on-failure destination (a batch record, an asynchronous event) or answers 4xx."""


def parse_or_reject(parse: Callable[[], Parsed], what: str = "the event") -> Parsed:
    """``parse()``, with any error it raises made a rejection of ``what``.

    Parsing calls no service, so whatever goes wrong in it -- a ``KeyError``, a
    ``RecursionError`` -- is a malformed event that no retry can fix: it becomes an
    :class:`InvalidEventError` (errors in :data:`REJECTED` pass unchanged).

    Examples:
        >>> parse_or_reject(lambda: {"a": 1}["b"], "the record")
        Traceback (most recent call last):
        ...
        lambda_dedup.exceptions.InvalidEventError: the record cannot be parsed: KeyError: 'b'
    """
    try:
        return parse()
    except REJECTED:
        raise
    except Exception as error:
        raise InvalidEventError(
            f"{what} cannot be parsed: {type(error).__name__}: {error}"
        ) from error
