"""Settings read from the function's environment (set by ``modules/function``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from lambda_dedup.deduplicator import DEFAULT_LEASE_SECONDS, DEFAULT_TTL_SECONDS
from lambda_dedup.exceptions import ConfigurationError

TABLE_NAME_ENV = "DEDUP_TABLE_NAME"
TTL_SECONDS_ENV = "DEDUP_TTL_SECONDS"
LEASE_SECONDS_ENV = "DEDUP_LEASE_SECONDS"


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the deduplication records live and how long they are kept."""

    table_name: str
    ttl_seconds: int = DEFAULT_TTL_SECONDS
    lease_seconds: float = DEFAULT_LEASE_SECONDS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``DEDUP_TABLE_NAME`` (required), ``DEDUP_TTL_SECONDS``, ``DEDUP_LEASE_SECONDS``."""
        env = os.environ if environ is None else environ
        table = env.get(TABLE_NAME_ENV, "").strip()
        if not table:
            raise ConfigurationError(f"{TABLE_NAME_ENV} is not set")
        try:
            ttl = int(env.get(TTL_SECONDS_ENV, DEFAULT_TTL_SECONDS))
            lease = float(env.get(LEASE_SECONDS_ENV, DEFAULT_LEASE_SECONDS))
        except ValueError as error:
            raise ConfigurationError(
                f"{TTL_SECONDS_ENV} and {LEASE_SECONDS_ENV} must be numbers: {error}"
            ) from error
        return cls(table_name=table, ttl_seconds=ttl, lease_seconds=lease)
