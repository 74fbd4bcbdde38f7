"""A clock that tests move by hand, so that leases and TTLs expire without sleeping.

Examples:
    >>> from lambda_dedup import Deduplicator, InMemoryStore
    >>> from lambda_dedup.testing.clock import FakeClock
    >>> clock = FakeClock()
    >>> dedup = Deduplicator(InMemoryStore(), "orders", ttl_seconds=60, clock=clock)
    >>> dedup.put_once("o-1").duplicate, dedup.put_once("o-1").duplicate
    (False, True)
    >>> clock.advance(61)
    >>> dedup.put_once("o-1").duplicate  # the key expired
    False
"""

from __future__ import annotations

import threading

__all__ = ["FakeClock"]


class FakeClock:
    """Epoch seconds, starting at a fixed instant (2027-01-15); thread-safe.

    Pass it as :class:`~lambda_dedup.deduplicator.Deduplicator`'s ``clock``.

    Examples:
        >>> clock = FakeClock(start=100.0)
        >>> clock.advance(2.5)
        >>> clock()
        102.5
    """

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        with self._lock:
            self._now += seconds
