"""An in-process store with the same semantics, for unit tests of code that uses the core."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from lambda_dedup.records import DedupRecord, Status
from lambda_dedup.storable import check_item
from lambda_dedup.store.base import DedupStore


class InMemoryStore(DedupStore):
    """A dictionary behind a lock. Not shared between processes; no transactions."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: dict[str, DedupRecord] = {}
        self.attributes: dict[str, dict[str, Any]] = {}

    def _free(self, record_id: str, now_ms: int) -> DedupRecord | None:
        """The live record under ``record_id``; expired ones count as absent."""
        existing = self.records.get(record_id)
        if existing is None or existing.is_expired(now_ms // 1000):
            return None
        return existing

    def try_claim(self, record: DedupRecord, *, now_ms: int) -> DedupRecord | None:
        with self._lock:
            existing = self._free(record.record_id, now_ms)
            takeover = (
                existing is not None
                and existing.status is Status.IN_PROGRESS
                and existing.lease_expired(now_ms)
                and not existing.conflicts_with(record.fingerprint)
            )
            if existing is not None and not takeover:
                return existing
            self.records[record.record_id] = record
            return None

    def complete(self, record_id: str, *, token: str, result: str | None, expires_at: int) -> bool:
        with self._lock:
            current = self.records.get(record_id)
            if current is None or current.token != token:
                return False
            if current.status is not Status.IN_PROGRESS:
                return False
            self.records[record_id] = replace(
                current,
                status=Status.COMPLETED,
                expires_at=expires_at,
                lease_expires_at_ms=None,
                result=result if result is not None else current.result,
            )
            return True

    def release(self, record_id: str, *, token: str) -> bool:
        with self._lock:
            current = self.records.get(record_id)
            if (
                current is None
                or current.token != token
                or current.status is not Status.IN_PROGRESS
            ):
                return False
            del self.records[record_id]
            return True

    def put_if_absent(
        self,
        record: DedupRecord,
        *,
        now_ms: int,
        attributes: Mapping[str, Any] | None = None,
    ) -> DedupRecord | None:
        check_item(dict(attributes or {}))  # what DynamoDB would refuse, refused here too
        with self._lock:
            existing = self._free(record.record_id, now_ms)
            if existing is not None:
                return existing
            self.records[record.record_id] = record
            self.attributes[record.record_id] = dict(attributes or {})
            return None
