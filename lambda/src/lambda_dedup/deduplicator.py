"""Both deduplication modes over one store.

*Effect mode* (:meth:`Deduplicator.put_once`, :meth:`Deduplicator.transact_once`) is for
effects that are themselves DynamoDB writes: the write that applies the effect is the one
that deduplicates it. A new event costs one request; a duplicate costs one failed
conditional write and no read.

*Claim mode* (:meth:`Deduplicator.run_once`) is for effects outside DynamoDB: the key is
claimed with a lease and a fencing token, the work runs, and the result is stored under
that token, so that duplicates get the stored result.
"""

from __future__ import annotations

import functools
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from lambda_dedup.exceptions import (
    AlreadyInProgressError,
    LeaseLostError,
    PayloadMismatchError,
    ResultNotStorableError,
    UnsupportedOperationError,
)
from lambda_dedup.keys import fingerprint, record_id
from lambda_dedup.records import DedupRecord, Status
from lambda_dedup.store.base import DedupStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

logger = logging.getLogger(__name__)

R = TypeVar("R")

Clock = Callable[[], float]
"""Returns the current time in epoch seconds (``time.time``); injectable for tests."""

DEFAULT_TTL_SECONDS = 24 * 3600
DEFAULT_LEASE_SECONDS = 60.0
MAX_RESULT_BYTES = 350_000
"""Stored results share DynamoDB's 400 KB item limit with the rest of the record."""


@dataclass(frozen=True, slots=True)
class Outcome(Generic[R]):
    """What handling a key produced.

    ``result`` is identical for the original delivery and for every duplicate: both get
    the JSON round trip of what was stored.
    """

    record_id: str
    result: R
    duplicate: bool
    """``True`` when this call applied nothing because the key was already done."""
    superseded: bool = False
    """``True`` when a handler applied nothing because a later event had overtaken this
    one (for example a newer version of the same S3 object): done, not failed."""


@dataclass(frozen=True, slots=True)
class Claim:
    """A held claim, handed to the work in claim mode."""

    record_id: str
    token: str
    """The fencing token: pass it downstream so that a stale holder's writes can be refused."""
    lease_expires_at_ms: int


class Deduplicator:
    """Deduplicates events of one handler (one namespace) against a store.

    Args:
        store: where records live; :class:`DynamoDBStore` in production.
        namespace: the handler's name; keys of different namespaces never collide.
        ttl_seconds: how long a key is remembered (1 s to 366 days). Records past it count
            as absent even before DynamoDB's TTL sweep removes them.
        lease_seconds: how long a claim is held before another invocation may take it over,
            when :meth:`run_once` is not given ``lease_ms``.
        clock: the time source, epoch seconds.
    """

    def __init__(
        self,
        store: DedupStore,
        namespace: str,
        *,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        clock: Clock = time.time,
    ) -> None:
        if not 1 <= ttl_seconds <= 366 * 24 * 3600:
            raise ValueError("ttl_seconds must be between 1 second and 366 days")
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        record_id(namespace, "-")  # validates the namespace now rather than per event
        self.store = store
        self.namespace = namespace
        self.ttl_seconds = ttl_seconds
        self.lease_seconds = lease_seconds
        self._clock = clock

    @classmethod
    def from_env(
        cls,
        namespace: str,
        *,
        store: DedupStore | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Clock = time.time,
    ) -> Deduplicator:
        """The deduplicator of ``namespace`` from the settings ``modules/function`` sets.

        ``DEDUP_TABLE_NAME`` (required) names the table, ``DEDUP_TTL_SECONDS`` and
        ``DEDUP_LEASE_SECONDS`` (optional) set ``ttl_seconds`` and ``lease_seconds``.
        ``store`` replaces the :class:`DynamoDBStore` on that table (an
        :class:`~lambda_dedup.store.memory.InMemoryStore` in a unit test); ``environ``
        replaces ``os.environ``. A missing or malformed setting raises
        :class:`~lambda_dedup.exceptions.ConfigurationError`.

        :func:`lambda_dedup.runtime.deduplicator` calls it on first use and caches the
        result for the container: prefer it in a handler, where a deduplicator built at
        import time would create its boto3 client before a unit test's moto fixture
        and credentials exist.

        Examples:
            With an explicit environment::

                dedup = Deduplicator.from_env("orders", environ={"DEDUP_TABLE_NAME": "t"})

            In a unit test, on the in-memory store::

                >>> from lambda_dedup import InMemoryStore
                >>> env = {"DEDUP_TABLE_NAME": "dedup", "DEDUP_TTL_SECONDS": "3600"}
                >>> Deduplicator.from_env("orders", store=InMemoryStore(), environ=env).ttl_seconds
                3600
        """
        from lambda_dedup.config import Settings  # config imports this module's defaults
        from lambda_dedup.store.dynamodb import DynamoDBStore

        settings = Settings.from_env(environ)
        if store is None:
            store = DynamoDBStore(settings.table_name)
        return cls(
            store,
            namespace,
            ttl_seconds=settings.ttl_seconds,
            lease_seconds=settings.lease_seconds,
            clock=clock,
        )

    def record_id(self, key: str) -> str:
        """The store id of ``key`` in this deduplicator's namespace."""
        return record_id(self.namespace, key)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # -- effect mode --------------------------------------------------------------------

    def put_once(
        self,
        key: str,
        attributes: Mapping[str, Any] | None = None,
        *,
        payload: Any = None,
        result: Any = None,
    ) -> Outcome[Any]:
        """Apply an effect that is a single item: one conditional ``PutItem``.

        The marker record, extended with ``attributes``, is the effect (an inbox entry, an
        audit record...). ``result`` is stored and returned to every duplicate.
        """
        record, now_ms = self._marker(key, payload, result)
        blocker = self.store.put_if_absent(record, now_ms=now_ms, attributes=attributes)
        return self._outcome(record, blocker, now_ms, mode="put")

    def transact_once(
        self,
        key: str,
        effects: Sequence[TransactWriteItemTypeDef],
        *,
        payload: Any = None,
        result: Any = None,
    ) -> Outcome[Any]:
        """Apply ``effects`` and the marker atomically: one ``TransactWriteItems``.

        ``effects`` are low-level transaction items (see :mod:`lambda_dedup.effects` for
        builders), for example an ``ADD`` to a counter in another table.
        """
        if not self.store.supports_transactions:
            raise UnsupportedOperationError(
                f"{type(self.store).__name__} does not support transactions"
            )
        record, now_ms = self._marker(key, payload, result)
        blocker = self.store.transact_if_absent(record, effects, now_ms=now_ms)
        return self._outcome(record, blocker, now_ms, mode="transact")

    def _marker(self, key: str, payload: Any, result: Any) -> tuple[DedupRecord, int]:
        rid, now_ms = self.record_id(key), self._now_ms()
        record = DedupRecord(
            record_id=rid,
            status=Status.COMPLETED,
            expires_at=now_ms // 1000 + self.ttl_seconds,
            fingerprint=fingerprint(payload),
            token=uuid.uuid4().hex,
            result=None if result is None else _dump(rid, result),
        )
        return record, now_ms

    def _outcome(
        self, record: DedupRecord, blocker: DedupRecord | None, now_ms: int, *, mode: str
    ) -> Outcome[Any]:
        if blocker is not None:
            return self._duplicate(blocker, record.fingerprint, now_ms, mode=mode)
        return Outcome(record.record_id, _load(record.result), duplicate=False)

    # -- claim mode ---------------------------------------------------------------------

    def run_once(
        self,
        key: str,
        work: Callable[[Claim], R],
        *,
        payload: Any = None,
        lease_ms: int | None = None,
    ) -> Outcome[R]:
        """Run ``work`` at most once per key, and give duplicates its stored result.

        * A duplicate of a completed key gets the stored result (``duplicate=True``).
        * A duplicate while the key is claimed raises :class:`AlreadyInProgressError`
          (retryable); a claim whose lease expired is taken over.
        * The same key with another payload raises :class:`PayloadMismatchError`.
        * If ``work`` raises, or storing its result fails, the claim is released so that
          a retry can run, and the exception propagates.
        * Completion is fenced by the claim's token: if the lease expired and another
          invocation took over, completion raises :class:`LeaseLostError`.

        ``lease_ms`` should cover the time the work may take; in Lambda pass
        ``context.get_remaining_time_in_millis()``. The work's return value must be
        JSON-serialisable; the original caller and every duplicate receive its JSON
        round trip.
        """
        rid = self.record_id(key)
        now_ms = self._now_ms()
        lease_until = now_ms + (
            lease_ms if lease_ms is not None else int(self.lease_seconds * 1000)
        )
        claim = Claim(rid, uuid.uuid4().hex, lease_until)
        record = DedupRecord(
            record_id=rid,
            status=Status.IN_PROGRESS,
            expires_at=now_ms // 1000 + self.ttl_seconds,
            fingerprint=fingerprint(payload),
            token=claim.token,
            lease_expires_at_ms=lease_until,
        )
        blocker = self.store.try_claim(record, now_ms=now_ms)
        if blocker is not None:
            return cast(
                "Outcome[R]", self._duplicate(blocker, record.fingerprint, now_ms, mode="claim")
            )
        try:
            stored = _dump(rid, work(claim))
        except BaseException:
            self._release(claim)
            raise
        try:
            completed = self.store.complete(
                rid,
                token=claim.token,
                result=stored,
                expires_at=self._now_ms() // 1000 + self.ttl_seconds,
            )
        except BaseException:
            # The result is not stored: give the key back so that the retry that the
            # error asks for can run now, not after the lease. (If the completion was in
            # fact written, the release's condition fails and the retry is a duplicate.)
            self._release(claim)
            raise
        if not completed:
            logger.warning(
                "claim lost before completion; the result was not recorded",
                extra={"dedup_record_id": rid, "dedup_token": claim.token},
            )
            raise LeaseLostError(rid, claim.token)
        return Outcome(rid, cast("R", _load(stored)), duplicate=False)

    def once(
        self,
        key: Callable[..., str],
        *,
        payload: Callable[..., Any] | None = None,
        lease_ms: Callable[..., int | None] | None = None,
    ) -> Callable[[Callable[..., R]], Once[R]]:
        """Claim mode as a decorator: the function runs at most once per key.

        ``key`` computes the idempotency key from the function's arguments, and
        ``payload`` the payload whose fingerprint a reuse of the key must match (by
        default the arguments themselves, bound to their parameter names, less a Lambda
        context -- anything with ``get_remaining_time_in_millis`` -- which differs on
        every delivery; pass ``payload`` when another argument is not data). A parameter
        named ``claim`` receives the :class:`Claim`, whose ``token`` fences the work
        downstream. A call returns the function's result, or the stored result of the
        first call for a duplicate (their JSON round trip); it raises as
        :meth:`run_once` does. ``function.outcome(...)`` returns the whole
        :class:`Outcome` instead, which tells a duplicate apart (for
        :func:`~lambda_dedup.asynchronous.process_event`). ``lease_ms`` computes the
        lease from the arguments, for example
        ``lease_ms=lambda order, context: context.get_remaining_time_in_millis()``.

        Examples:
            >>> from lambda_dedup import InMemoryStore
            >>> dedup = Deduplicator(InMemoryStore(), "receipts")
            >>> @dedup.once(key=lambda order: order["id"])
            ... def send_receipt(order, claim):
            ...     return {"sent_to": order["email"], "token": len(claim.token)}
            >>> send_receipt({"id": "o-1", "email": "a@example.com"})
            {'sent_to': 'a@example.com', 'token': 32}
            >>> send_receipt.outcome({"id": "o-1", "email": "a@example.com"}).duplicate
            True
        """

        def decorate(function: Callable[..., R]) -> Once[R]:
            return Once(self, function, key, payload, lease_ms)

        return decorate

    def _release(self, claim: Claim) -> None:
        """Give the key back after a failure; never masks the failure itself."""
        try:
            released = self.store.release(claim.record_id, token=claim.token)
        except Exception:
            logger.exception(
                "could not release the claim; it frees itself when its lease expires",
                extra={"dedup_record_id": claim.record_id},
            )
            return
        if not released:
            logger.warning(
                "claim was already taken over when releasing it",
                extra={"dedup_record_id": claim.record_id, "dedup_token": claim.token},
            )

    # -- duplicates ---------------------------------------------------------------------

    def _duplicate(
        self, blocker: DedupRecord, fp: str | None, now_ms: int, *, mode: str
    ) -> Outcome[Any]:
        if blocker.conflicts_with(fp):
            raise PayloadMismatchError(blocker.record_id)
        if blocker.status is Status.COMPLETED:
            logger.info(
                "duplicate suppressed",
                extra={"dedup_record_id": blocker.record_id, "dedup_mode": mode},
            )
            return Outcome(blocker.record_id, _load(blocker.result), duplicate=True)
        lease = blocker.lease_expires_at_ms if blocker.lease_expires_at_ms is not None else now_ms
        raise AlreadyInProgressError(blocker.record_id, retry_after_ms=max(0, lease - now_ms))


def _dump(rid: str, value: Any) -> str:
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as error:
        raise ResultNotStorableError(
            f"the result for {rid!r} is not JSON-serialisable: {error}"
        ) from error
    if len(text.encode("utf-8")) > MAX_RESULT_BYTES:
        raise ResultNotStorableError(f"the result for {rid!r} exceeds {MAX_RESULT_BYTES} bytes")
    return text


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class Once(Generic[R]):
    """A function that :meth:`Deduplicator.once` (or :func:`lambda_dedup.runtime.once`)
    made run at most once per key. ``dedup`` is the deduplicator, or a function that
    returns it on each call."""

    def __init__(
        self,
        dedup: Deduplicator | Callable[[], Deduplicator],
        function: Callable[..., R],
        key: Callable[..., str],
        payload: Callable[..., Any] | None,
        lease_ms: Callable[..., int | None] | None,
    ) -> None:
        self._dedup = dedup
        self.function = function
        self._key = key
        self._payload = payload
        self._lease_ms = lease_ms
        import inspect  # only where the decorator is used: it costs milliseconds to import

        signature = inspect.signature(function)
        self._wants_claim = "claim" in signature.parameters
        self._signature = signature
        functools.update_wrapper(self, function)

    def outcome(self, *args: Any, **kwargs: Any) -> Outcome[R]:
        """Call the function once per key; return the :class:`Outcome`."""
        if self._payload is not None:
            payload = self._payload(*args, **kwargs)
        else:
            bound = self._signature.bind_partial(*args, **kwargs)
            bound.apply_defaults()
            payload = {
                name: value
                for name, value in bound.arguments.items()
                if name != "claim" and not hasattr(value, "get_remaining_time_in_millis")
            }
        lease = None if self._lease_ms is None else self._lease_ms(*args, **kwargs)

        def work(claim: Claim) -> R:
            if self._wants_claim:
                return self.function(*args, **kwargs, claim=claim)
            return self.function(*args, **kwargs)

        return self.dedup.run_once(
            self._key(*args, **kwargs), work, payload=payload, lease_ms=lease
        )

    def __call__(self, *args: Any, **kwargs: Any) -> R:
        return self.outcome(*args, **kwargs).result

    @property
    def dedup(self) -> Deduplicator:
        """The deduplicator the calls go through."""
        found = self._dedup
        return found if isinstance(found, Deduplicator) else found()
