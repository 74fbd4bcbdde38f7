"""The deduplication record: one item per namespaced key, shared by both modes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """Where a key is in its life cycle."""

    IN_PROGRESS = "IN_PROGRESS"
    """Claimed (claim mode); the work may be running, or its holder may have crashed."""
    COMPLETED = "COMPLETED"
    """The effect is durable; ``result`` holds what a duplicate must be told."""


@dataclass(frozen=True, slots=True)
class DedupRecord:
    """What the store holds for one namespaced key.

    Times are integers so that DynamoDB compares them exactly: ``expires_at`` is in epoch
    seconds (the table's TTL attribute), ``lease_expires_at_ms`` in epoch milliseconds.
    """

    record_id: str
    status: Status
    expires_at: int
    fingerprint: str | None = None
    token: str | None = None
    lease_expires_at_ms: int | None = None
    result: str | None = None
    """The stored outcome, as JSON text; ``None`` when there is none."""

    def is_expired(self, now_s: int) -> bool:
        """A record past its TTL counts as absent, even before DynamoDB's sweep removes it."""
        return self.expires_at < now_s

    def lease_expired(self, now_ms: int) -> bool:
        """Whether an IN_PROGRESS claim may be taken over."""
        return self.lease_expires_at_ms is not None and self.lease_expires_at_ms < now_ms

    def conflicts_with(self, fingerprint: str | None) -> bool:
        """True when both sides carry a fingerprint and they differ."""
        return None not in (self.fingerprint, fingerprint) and self.fingerprint != fingerprint
