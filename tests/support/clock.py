"""A clock the tests move by hand: the test kit's (:mod:`lambda_dedup.testing.clock`)."""

from __future__ import annotations

from lambda_dedup.testing.clock import FakeClock

__all__ = ["FakeClock"]
