"""The abstract store: the conditional writes both modes are built from, and its capabilities."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lambda_dedup.exceptions import UnsupportedOperationError
from lambda_dedup.records import DedupRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

__all__ = ["DedupStore"]


class DedupStore(ABC):
    """Storage for deduplication records.

    Every method is a single conditional write: an implementation must make each one
    atomic with respect to the others on the same ``record_id``. None of them reads first.
    Any error other than a failed condition must propagate unchanged.

    The four abstract methods serve claim mode and :meth:`Deduplicator.put_once
    <lambda_dedup.deduplicator.Deduplicator.put_once>`. Transactions
    (:meth:`Deduplicator.transact_once
    <lambda_dedup.deduplicator.Deduplicator.transact_once>`) are a capability: a store
    that can apply effects atomically with the marker overrides
    :meth:`transact_if_absent`, and :attr:`supports_transactions` then says so. Both
    :class:`~lambda_dedup.store.dynamodb.DynamoDBStore` and
    :class:`~lambda_dedup.store.memory.InMemoryStore` do.

    Examples:
        A store of one's own declares only what it implements; asking it for a
        transaction raises :class:`~lambda_dedup.exceptions.UnsupportedOperationError`:

        >>> from lambda_dedup import DedupStore, InMemoryStore
        >>> class Claims(DedupStore):
        ...     def try_claim(self, record, *, now_ms): return None
        ...     def complete(self, record_id, *, token, result, expires_at): return True
        ...     def release(self, record_id, *, token): return True
        ...     def put_if_absent(self, record, *, now_ms, attributes=None): return None
        >>> Claims().supports_transactions, InMemoryStore().supports_transactions
        (False, True)
    """

    @property
    def supports_transactions(self) -> bool:
        """Whether :meth:`transact_if_absent` is implemented (effect mode's transactions).

        It is ``True`` exactly when the store's class overrides :meth:`transact_if_absent`,
        so the capability cannot disagree with the implementation.

        Examples:
            >>> from lambda_dedup import DynamoDBStore
            >>> DynamoDBStore.transact_if_absent is not DedupStore.transact_if_absent
            True
        """
        return type(self).transact_if_absent is not DedupStore.transact_if_absent

    @abstractmethod
    def try_claim(self, record: DedupRecord, *, now_ms: int) -> DedupRecord | None:
        """Write the IN_PROGRESS ``record`` if its key is free; return the blocker if not.

        The key is free when no record exists, when the existing record is past its
        ``expires_at``, or when it is IN_PROGRESS with an expired lease *and the same
        fingerprint* (a takeover never changes the payload a key stands for).

        Returns ``None`` when ``record`` was written, otherwise the record that blocked it.
        """

    @abstractmethod
    def complete(self, record_id: str, *, token: str, result: str | None, expires_at: int) -> bool:
        """Mark the claim COMPLETED with ``result``, only while it still holds ``token``.

        Returns whether it did; ``False`` means the lease was lost to another holder.
        """

    @abstractmethod
    def release(self, record_id: str, *, token: str) -> bool:
        """Delete the claim, only while it still holds ``token``. Returns whether it did."""

    @abstractmethod
    def put_if_absent(
        self,
        record: DedupRecord,
        *,
        now_ms: int,
        attributes: Mapping[str, Any] | None = None,
    ) -> DedupRecord | None:
        """Write the COMPLETED ``record`` (plus ``attributes``) if its key is absent or expired.

        This is effect mode's single write: the record *is* the effect. Returns ``None``
        when written, otherwise the existing record.
        """

    def transact_if_absent(
        self,
        record: DedupRecord,
        effects: Sequence[TransactWriteItemTypeDef],
        *,
        now_ms: int,
    ) -> DedupRecord | None:
        """Write the COMPLETED ``record`` and apply ``effects`` atomically, if its key is
        absent or expired.

        ``effects`` are low-level ``TransactWriteItems`` entries (``Put``, ``Update``,
        ``Delete``, ``ConditionCheck``; see :mod:`lambda_dedup.effects`). The marker's
        condition gates them all: returns ``None`` when everything was applied, otherwise
        the existing record, and nothing is applied. An implementation raises
        :class:`~lambda_dedup.exceptions.EffectConditionFailedError` when an effect's own
        condition fails (again applying nothing), and ``ValueError`` for no effects or more
        than a transaction holds.

        This base implementation raises
        :class:`~lambda_dedup.exceptions.UnsupportedOperationError`: a store without
        transactions leaves it alone, and :attr:`supports_transactions` is ``False``.

        Examples:
            >>> from lambda_dedup import InMemoryStore, effects
            >>> from lambda_dedup.records import DedupRecord, Status
            >>> store = InMemoryStore()
            >>> marker = DedupRecord("clicks#e-1", Status.COMPLETED, expires_at=2_000_000_000)
            >>> add = effects.increment("counters", {"page": "/"}, "clicks")
            >>> store.transact_if_absent(marker, [add], now_ms=0) is None
            True
            >>> store.items("counters")
            [{'page': '/', 'clicks': Decimal('1')}]
        """
        raise UnsupportedOperationError(f"{type(self).__name__} does not support transactions")
