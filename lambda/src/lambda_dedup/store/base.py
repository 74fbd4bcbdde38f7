"""The abstract store: the four conditional writes both modes are built from."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from lambda_dedup.records import DedupRecord


class DedupStore(ABC):
    """Storage for deduplication records.

    Every method is a single conditional write: an implementation must make each one
    atomic with respect to the others on the same ``record_id``. None of them reads first.
    Any error other than a failed condition must propagate unchanged.
    """

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
