"""A clock the tests move by hand, so that leases and TTLs expire without sleeping."""

from __future__ import annotations

import threading


class FakeClock:
    """Epoch seconds, starting at a fixed instant; thread-safe."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds
